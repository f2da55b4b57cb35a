"""Work done once per cached copy, not once per request: keyed by the copy object itself (held weakly)."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ObjectMemo(Generic[V]):
    def __init__(self, max_entries: int = 2_000) -> None:
        self._data: OrderedDict[tuple[int, Hashable], tuple[weakref.ref[object], V]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, obj: object, variant: Hashable, make: Callable[[], V]) -> V:
        key = (id(obj), variant)
        with self._lock:
            entry = self._data.get(key)
            # The weak reference proves the id still names the same object, not a newer one at the same address.
            if entry is not None and entry[0]() is obj:
                self._data.move_to_end(key)
                return entry[1]
        value = make()
        with self._lock:
            self._data[key] = (weakref.ref(obj), value)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value
