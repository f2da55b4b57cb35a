"""Two cache operations in one round trip: what a cold lookup asks of Redis in pairs (take the single-flight lock and
look for a copy that landed meanwhile; store the copy and let the lock go, if it is still ours). With Redis, one
pipeline (not a transaction: the commands run in order, and the second sees the first); with any other cache, the
two calls.

A pipeline Redis fails answers as django-redis answers calls it could not make (IGNORE_EXCEPTIONS): nothing added,
nothing found, nothing stored. It is not tried again call by call: in an outage that would double the wait for a
server that does not answer.
"""

from __future__ import annotations

import logging
import time
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
    the key, and what the read found (missing keys left out). When Redis fails the pipeline: (False, {}), as
    django-redis answers an add and a read it could not make."""
    client = redis_client()
    if client is None:
        return bool(cache.add(key, value, timeout=timeout)), cache.get_many(list(keys)) if keys else {}
    try:
        pipe = client.get_client(write=True).pipeline(transaction=False)
        pipe.set(client.make_key(key), client.encode(value), nx=True, px=timeout * 1000)
        if keys:
            pipe.mget([client.make_key(k) for k in keys])
        added, *read = pipe.execute()
    except (RedisError, OSError):
        _failed()
        return False, {}
    try:
        return bool(added), {k: client.decode(v) for k, v in zip(keys, read[0] if read else [], strict=True)
                             if v is not None}
    except BaseException:
        if added:  # a value this release cannot read (another's, in a rolling deploy): the key is not kept held
            cache.delete(key)
        raise


# Delete a key only while it holds the value given: a lock is let go by its holder only, never by one whose hold ran
# out while it worked and whose lock another has taken since.
_DELETE_IF_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_scripts: dict[str, Any] = {}


def script(client: Any, lua: str) -> Any:
    """`lua` registered with Redis once per process: sent by its SHA after the first time (redis-py loads it again
    if Redis lost it). Not for a pipeline: redis-py checks a pipeline's scripts with a round trip of its own."""
    found = _scripts.get(lua)
    if found is None:
        found = _scripts[lua] = client.get_client(write=True).register_script(lua)
    return found


def delete_if(key: str, value: object) -> None:
    """Delete `key` if it still holds `value`."""
    client = redis_client()
    if client is None:
        if cache.get(key) == value:  # one process's memory: nothing can come between
            cache.delete(key)
        return
    try:
        script(client, _DELETE_IF_LUA)(keys=[client.make_key(key)], args=[client.encode(value)],
                                       client=client.get_client(write=True))
    except (RedisError, OSError):
        _failed()


def set_then_delete_if(key: str, value: object, *, timeout: int, delete: str, holding: object) -> None:
    """`cache.set(key, value, timeout)`, then delete `delete` if it still holds `holding`. When Redis fails the
    pipeline, neither is done (the key to delete expires): as django-redis's calls that it could not make."""
    client = redis_client()
    if client is None or timeout <= 0:  # django-redis reads a timeout of 0 as "delete": the plain calls
        cache.set(key, value, timeout=timeout)
        delete_if(delete, holding)
        return
    try:
        pipe = client.get_client(write=True).pipeline(transaction=False)
        pipe.set(client.make_key(key), client.encode(value), px=timeout * 1000)
        # EVAL, not the registered script: redis-py checks a pipeline's scripts with a round trip of its own first.
        pipe.eval(_DELETE_IF_LUA, 1, client.make_key(delete), client.encode(holding))
        pipe.execute()
    except (RedisError, OSError):
        _failed()


_warned_at = [0.0]
_WARN_EVERY_SECONDS = 60.0


def _failed() -> None:
    """A failed pipeline, logged with its traceback once a minute per process: in an outage every cold lookup fails
    one, and django-redis already logs each call it could not make."""
    now = time.monotonic()
    if now - _warned_at[0] >= _WARN_EVERY_SECONDS or not _warned_at[0]:
        _warned_at[0] = now
        logger.warning("cache.pipeline_failed", exc_info=True)
