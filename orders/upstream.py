"""Protecting F&O and our users from each other: shared back-off, circuit breaker, single-flight.

All state lives in the Django cache, so with Redis every process and instance shares it; with the local-memory
cache it holds within one process. Each piece is small on purpose: we found no maintained breaker library that
keeps its state in a shared cache *and* lets exactly one probe through when half-open (pybreaker's Redis storage
lets every concurrent caller through), so this is kept small and tested instead.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

from orders.odata.client import Deadline
from orders.odata.errors import CircuitOpen, ODataError, ServerError, Throttled, TransportFailed

logger = logging.getLogger("orders.upstream")
T = TypeVar("T")

BACKOFF_KEY = "fno:backoff-until"
OPEN_KEY = "fno:breaker:open-until"
PROBE_KEY = "fno:breaker:probe"
FAILURES_KEY = "fno:breaker:failures:{bucket}"
LAST_OPENED_KEY = "fno:breaker:last-opened"


def _counts_against_breaker(error: ODataError) -> bool:
    return isinstance(error, ServerError) or (isinstance(error, TransportFailed) and (error.timed_out or
                                                                                     error.connect_failed))


# The shared state, as this process last read it: re-read at most every STATE_SECONDS, so a busy process asks the
# cache once per interval instead of before every call. A back-off or an opened breaker started elsewhere is
# therefore honoured here within that interval; one started here, at once.
STATE_SECONDS = 0.2
_state_lock = threading.Lock()
_state: tuple[float, dict] = (0.0, {})
_probing = threading.local()


def _shared_state() -> dict:
    global _state
    read_at, state = _state
    if time.monotonic() - read_at < STATE_SECONDS:
        return state
    state = cache.get_many([BACKOFF_KEY, OPEN_KEY])
    with _state_lock:
        _state = (time.monotonic(), state)
    return state


def _remember(**changes: float | None) -> None:
    global _state
    with _state_lock:
        state = {**_state[1], **{k: v for k, v in changes.items() if v is not None}}
        for key, value in changes.items():
            if value is None:
                state.pop(key, None)
        _state = (time.monotonic(), state)


def state_forget() -> None:
    global _state
    with _state_lock:
        _state = (0.0, {})


class UpstreamGuard:
    """The CallGuard the OData client consults before and after every HTTP exchange with F&O."""

    def before_call(self, entity_set: str) -> None:
        _probing.active = False
        state = _shared_state()
        # The clock is read after the state: a back-off another thread set a moment ago must not come out longer
        # than F&O asked for.
        now = time.time()
        backoff_until = state.get(BACKOFF_KEY)
        if backoff_until and now < backoff_until:
            # F&O asked every caller to wait; nobody calls until then, and nobody waits here either.
            raise Throttled("F&O asked us to back off", retry_after=backoff_until - now)
        open_until = state.get(OPEN_KEY)
        if open_until is None:
            return
        if now < open_until:
            raise CircuitOpen("circuit open after repeated F&O failures", retry_after=open_until - now)
        # Half-open: exactly one caller, across every process, gets to probe.
        if cache.get(OPEN_KEY) is None:
            _remember(**{OPEN_KEY: None})  # another process's probe already closed it
            return
        if not cache.add(PROBE_KEY, now, timeout=int(settings.D365_TIMEOUT_SECONDS) + 2):
            raise CircuitOpen("circuit half-open; a probe is in flight", retry_after=1.0)
        _probing.active = True

    def after_call(self, entity_set: str, error: ODataError | None) -> None:
        probing = getattr(_probing, "active", False)
        _probing.active = False
        if error is None:
            if probing:
                cache.delete_many([OPEN_KEY, PROBE_KEY])
                _remember(**{OPEN_KEY: None})
                logger.info("odata.breaker.closed")
            return
        if isinstance(error, Throttled):
            seconds = error.retry_after if error.retry_after is not None else settings.D365_THROTTLE_DEFAULT_SECONDS
            seconds = min(seconds, settings.D365_THROTTLE_MAX_SECONDS)
            until = time.time() + seconds
            cache.set(BACKOFF_KEY, until, timeout=int(seconds) + 1)
            _remember(**{BACKOFF_KEY: until})
            logger.warning("odata.throttled", extra={"retry_after": seconds})
            return
        if isinstance(error, CircuitOpen):
            return
        if not _counts_against_breaker(error):
            if probing:
                cache.delete(PROBE_KEY)
            return
        if probing:
            self._open()  # the half-open probe failed: another full cool-down
            return
        window = settings.D365_BREAKER_WINDOW_SECONDS
        key = FAILURES_KEY.format(bucket=int(time.time() // window))
        cache.add(key, 0, timeout=window + 1)
        try:
            failures = cache.incr(key)
        except ValueError:
            failures = 1
        if failures >= settings.D365_BREAKER_FAILURES:
            self._open()

    def _open(self) -> None:
        now = time.time()
        cooldown = settings.D365_BREAKER_COOLDOWN_SECONDS
        cache.set(OPEN_KEY, now + cooldown, timeout=int(cooldown) + 3600)
        _remember(**{OPEN_KEY: now + cooldown})
        cache.set(LAST_OPENED_KEY, now, timeout=None)
        cache.delete(PROBE_KEY)
        logger.warning("odata.breaker.opened", extra={"cooldown": cooldown})


@dataclass(frozen=True)
class BreakerState:
    state: str  # "closed", "open" or "half_open"
    open_for: float
    backoff_for: float
    last_opened_at: float | None


def breaker_state() -> BreakerState:
    now = time.time()
    values = cache.get_many([OPEN_KEY, BACKOFF_KEY, LAST_OPENED_KEY])
    open_until = values.get(OPEN_KEY)
    backoff_until = values.get(BACKOFF_KEY) or 0
    if open_until is None:
        state = "closed"
    elif now < open_until:
        state = "open"
    else:
        state = "half_open"
    return BreakerState(
        state=state,
        open_for=max(0.0, (open_until or 0) - now),
        backoff_for=max(0.0, backoff_until - now),
        last_opened_at=values.get(LAST_OPENED_KEY),
    )


def breaker_reset() -> None:
    cache.delete_many([OPEN_KEY, PROBE_KEY, BACKOFF_KEY])
    state_forget()


# Single-flight -------------------------------------------------------------------------------------------------


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


_flights: dict[str, _Flight] = {}
_flights_lock = threading.Lock()
_POLL_SECONDS = 0.01


class FlightAbandoned(TransportFailed):
    """Waited for another caller's read of the same thing until the deadline ran out."""


def single_flight(
    key: str,
    fetch: Callable[[], T],
    *,
    deadline: Deadline,
    landed: Callable[[], T | None],
) -> T:
    """Run `fetch` once for everyone who wants `key` at the same time.

    Threads of this process wait for one local leader. Across processes a short-lived lock in the cache elects one
    leader; the others poll `landed()` (the shared cache) for its result. A crashed holder's lock expires with
    the deadline, so it blocks nobody for longer than that.
    """
    with _flights_lock:
        flight = _flights.get(key)
        leader = flight is None
        if leader:
            flight = _flights[key] = _Flight()
    assert flight is not None
    if not leader:
        if not flight.done.wait(max(0.0, deadline.remaining())):
            raise FlightAbandoned("deadline spent waiting for another read of the same data", timed_out=True)
        if flight.error is not None:
            raise flight.error
        return flight.result
    try:
        flight.result = _cross_process(key, fetch, deadline=deadline, landed=landed)
        return flight.result
    except BaseException as exc:
        flight.error = exc
        raise
    finally:
        with _flights_lock:
            _flights.pop(key, None)
        flight.done.set()


def _cross_process(key: str, fetch: Callable[[], T], *, deadline: Deadline, landed: Callable[[], T | None]) -> T:
    lock_key = f"sf:{key}"
    lock_seconds = max(1, int(deadline.remaining()) + 1)
    # A token of our own: if the cache answered our add too slowly to say yes, we still know the lock is ours.
    token = f"{os.getpid()}:{threading.get_ident()}:{time.monotonic_ns()}"
    while True:
        if cache.add(lock_key, token, timeout=lock_seconds) or cache.get(lock_key) == token:
            try:
                # The previous holder may have stored its copy just before we got the lock.
                result = landed()
                return result if result is not None else fetch()
            finally:
                cache.delete(lock_key)
        # Another process is reading it: wait for its copy to land, or for its lock to go.
        pause = _POLL_SECONDS
        while cache.get(lock_key) is not None:
            result = landed()
            if result is not None:
                return result
            if deadline.remaining() <= pause:
                raise FlightAbandoned("deadline spent waiting for another instance's read", timed_out=True)
            time.sleep(pause)
            pause = min(pause * 1.5, 0.1)  # many waiters must not swamp the cache or the leader's CPU
        result = landed()
        if result is not None:
            return result
        error = cache.get(f"sf-error:{key}")
        if isinstance(error, ODataError):
            raise error  # the leader failed a moment ago; don't stampede F&O with the same request
        if deadline.expired:
            raise FlightAbandoned("deadline spent waiting for another instance's read", timed_out=True)


def flight_failed(key: str, error: ODataError) -> None:
    """Tell other processes' waiters that the leader's read failed, so they don't all retry at once."""
    cache.set(f"sf-error:{key}", error, timeout=2)
