"""Single-flight: one F&O read for everyone who wants the same thing at the same moment.

Threads of one process wait for a local leader; across processes a short-lived lock in the shared cache elects
one leader, and the others wait for its copy to land in the cache.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Generic, TypeVar, cast

from django.core.cache import cache

from orders.odata.client import Deadline
from orders.odata.errors import ODataError, TransportFailed
from orders.resilience.shared_cache import add_then_get_many, delete_if, set_then_delete_if

T = TypeVar("T")


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None


# Each key's flight carries the result type of the read that started it.
_flights: dict[str, _Flight[Any]] = {}
_flights_lock = threading.Lock()
_POLL_SECONDS = 0.01


class FlightAbandoned(TransportFailed):
    """Waited for another caller's read of the same thing until the deadline ran out."""


def single_flight(
    key: str,
    fetch: Callable[[], T],
    *,
    deadline: Deadline,
    landed: Callable[[Mapping[str, Any]], T | None],
    landed_keys: tuple[str, ...] = (),
    store: Callable[[T], tuple[str, object, int]] | None = None,
) -> T:
    """Run `fetch` once for everyone who wants `key` at the same time.

    Threads of this process wait for one local leader. Across processes a short-lived lock in the cache elects one
    leader; the others poll the shared cache under `landed_keys`, and `landed(found)` picks the leader's result
    from what they found (None: not there yet). A crashed holder's lock expires with the deadline, so it blocks
    nobody for longer than that.

    `store(result)` names where the leader writes its result (key, value, timeout): written in the same round trip
    as the lock's release, as the look for a landed result goes with the lock's taking.
    """
    with _flights_lock:
        found: _Flight[T] | None = _flights.get(key)
        leader = found is None
        flight: _Flight[T] = _Flight() if found is None else found
        if leader:
            _flights[key] = flight
    if not leader:
        if not flight.done.wait(max(0.0, deadline.remaining())):
            raise FlightAbandoned("deadline spent waiting for another read of the same data", timed_out=True)
        if flight.error is not None:
            raise flight.error
        return cast(T, flight.result)  # set before `done` whenever there is no error: the leader's fetch returned it
    try:
        result = flight.result = _cross_process(key, fetch, deadline=deadline, landed=landed,
                                                landed_keys=landed_keys, store=store)
        return result
    except BaseException as exc:
        flight.error = exc
        raise
    finally:
        with _flights_lock:
            _flights.pop(key, None)
        flight.done.set()


def _cross_process(
    key: str,
    fetch: Callable[[], T],
    *,
    deadline: Deadline,
    landed: Callable[[Mapping[str, Any]], T | None],
    landed_keys: tuple[str, ...],
    store: Callable[[T], tuple[str, object, int]] | None,
) -> T:
    lock_key = f"sf:{key}"
    lock_seconds = max(1, int(deadline.remaining()) + 1)
    # A token of our own: if the cache answered our add too slowly to say yes, we still know the lock is ours.
    token = f"{os.getpid()}:{threading.get_ident()}:{time.monotonic_ns()}"
    while True:
        # With the lock, what is there now: the previous holder may have stored its result just before we got it.
        added, found = add_then_get_many(lock_key, token, timeout=lock_seconds, keys=landed_keys)
        holder: object = token
        if not added:
            result = landed(found)
            if result is not None:
                return result  # the leader's result, read with our try for its lock
            holder = cache.get(lock_key)  # ours all the same if our add took but the cache said so too late
        if holder == token:
            return _lead((lock_key, token), fetch, partial(landed, found), store)
        if holder is None:
            # Not ours, yet nobody holds it: the holder let go a moment ago (its result or its failure is in the
            # cache by now), or the shared cache is not answering. Waiting would not end before the deadline.
            result = _landed(landed, landed_keys)
            if result is not None:
                return result
            _raise_leaders_failure(key)
            return _lead(None, fetch, lambda: None, store)  # at worst one more read of the same data
        # Another process is reading it: wait for its result to land, or for its lock to go.
        pause = _POLL_SECONDS
        while cache.get(lock_key) is not None:
            result = _landed(landed, landed_keys)
            if result is not None:
                return result
            if deadline.remaining() <= pause:
                raise FlightAbandoned("deadline spent waiting for another instance's read", timed_out=True)
            time.sleep(pause)
            pause = min(pause * 1.5, 0.1)  # many waiters must not swamp the cache or the leader's CPU
        result = _landed(landed, landed_keys)
        if result is not None:
            return result
        _raise_leaders_failure(key)
        if deadline.expired:
            raise FlightAbandoned("deadline spent waiting for another instance's read", timed_out=True)


def _raise_leaders_failure(key: str) -> None:
    error = cache.get(f"sf-error:{key}")
    if isinstance(error, ODataError):
        raise error  # the leader failed a moment ago; don't stampede F&O with the same request


def _lead(lock: tuple[str, str] | None, fetch: Callable[[], T], already: Callable[[], T | None],
          store: Callable[[T], tuple[str, object, int]] | None) -> T:
    """Holding the lock (its key and our token; or none to hold): the result that landed meanwhile, else fetch it
    (and store it), and let the lock go on every path, if it is still ours."""
    released = False  # by the pipeline that stores the result
    try:
        result = already()
        if result is None:
            result = fetch()
            if store is not None:
                where, value, timeout = store(result)
                if lock is None:
                    cache.set(where, value, timeout=timeout)
                else:
                    set_then_delete_if(where, value, timeout=timeout, delete=lock[0], holding=lock[1])
                    released = True
        return result
    finally:
        if lock is not None and not released:
            delete_if(*lock)


def _landed(landed: Callable[[Mapping[str, Any]], T | None], keys: tuple[str, ...]) -> T | None:
    return landed((cache.get_many(list(keys)) or {}) if keys else {})


def flight_failed(key: str, error: ODataError) -> None:
    """Tell other processes' waiters that the leader's read failed, so they don't all retry at once."""
    cache.set(f"sf-error:{key}", error, timeout=2)
