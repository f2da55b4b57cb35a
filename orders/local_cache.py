"""A small per-process cache in front of the shared one, for the hottest reads (token checks, fresh copies).

Bounded in entries and in lifetime: what it holds may be up to `ttl` seconds behind the shared cache, so a
revocation or purge made in another process takes effect here within that time.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from typing import Any

_every: weakref.WeakSet[LocalCache] = weakref.WeakSet()


class LocalCache:
    def __init__(self, *, max_entries: int, ttl: float) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        _every.add(self)

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires <= time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        lifetime = self.ttl if ttl is None else min(ttl, self.ttl)
        if lifetime <= 0:
            return
        with self._lock:
            self._data[key] = (time.monotonic() + lifetime, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def local_caches_clear() -> None:
    """Forget what every per-process cache holds, as a fresh process starts (tests; another worker's view)."""
    for local in list(_every):
        local.clear()
