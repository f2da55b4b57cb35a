"""The shared back-off F&O asks for (429 with Retry-After) and the circuit breaker (repeated timeouts or 5xx).

The OData client consults `UpstreamGuard` before and after every HTTP exchange. The state lives in the Django
cache, so with Redis every process and instance shares it. Small on purpose: we found no maintained breaker library
that keeps its state in a shared cache *and* lets exactly one probe through when half-open (pybreaker's Redis
storage lets every concurrent caller through), so this is kept small and tested instead.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from orders.odata.errors import CircuitOpen, ODataError, ServerError, Throttled, TransportFailed

logger = logging.getLogger("orders.resilience")

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
_state: tuple[float, dict[str, float]] = (0.0, {})
_probing = threading.local()


def _shared_state() -> dict[str, float]:
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
