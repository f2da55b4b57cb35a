"""Two cache operations in one round trip: what a cold lookup asks of Redis in pairs (take the single-flight lock and
look for a copy that landed meanwhile; store the copy and let the lock go). With Redis, one pipeline (not a
transaction: the commands run in order, and the second sees the first); with any other cache, the two calls.

Should the pipeline fail, the two calls are made through the cache as usual, so a Redis outage behaves exactly as it
does for every other cache call (django-redis's IGNORE_EXCEPTIONS and all).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger("orders.resilience")


def redis_client(backend: Any = None) -> Any | None:
    """django-redis's client for `backend` (the default cache unless given; thread-safe, pooled), or None for any
    other kind of cache."""
    client = getattr(cache if backend is None else backend, "client", None)
    return client if client is not None and hasattr(client, "get_client") else None


def add_then_get_many(key: str, value: object, *, timeout: int, keys: Sequence[str]) -> tuple[bool, dict[str, Any]]:
    """`cache.add(key, value, timeout)`, then `cache.get_many(keys)` as it stands after the add: whether the add took
    the key, and what the read found (missing keys left out)."""
    client = redis_client()
    if client is not None:
        try:
            pipe = client.get_client(write=True).pipeline(transaction=False)
            pipe.set(client.make_key(key), client.encode(value), nx=True, px=timeout * 1000)
            if keys:
                pipe.mget([client.make_key(k) for k in keys])
            added, *read = pipe.execute()
            values = read[0] if read else []
            return bool(added), {k: client.decode(v) for k, v in zip(keys, values, strict=True) if v is not None}
        except (RedisError, OSError):
            logger.warning("cache.pipeline_failed", exc_info=True)
    return bool(cache.add(key, value, timeout=timeout)), cache.get_many(list(keys)) if keys else {}


def set_then_delete(key: str, value: object, *, timeout: int, delete: str) -> None:
    """`cache.set(key, value, timeout)`, then `cache.delete(delete)`."""
    client = redis_client()
    if client is not None:
        try:
            pipe = client.get_client(write=True).pipeline(transaction=False)
            pipe.set(client.make_key(key), client.encode(value), px=timeout * 1000)
            pipe.delete(client.make_key(delete))
            pipe.execute()
            return
        except (RedisError, OSError):
            logger.warning("cache.pipeline_failed", exc_info=True)
    cache.set(key, value, timeout=timeout)
    cache.delete(delete)
