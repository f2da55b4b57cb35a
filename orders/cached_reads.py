"""Cached reads: short-lived copies of what F&O answered, fresh for ORDERS_CACHE_SECONDS, shown as stale (with
their age) up to ORDERS_STALE_SECONDS when F&O fails.

Every key names the company and customer account it belongs to (see selectors), so a copy can only be read back by
a lookup for that same account. A small per-process layer holds hot copies for a second, keyed the same way.
(Not to be confused with the audit's `LookupSnapshot`: the record of what one request was shown.)
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.cache import cache

from orders import metrics
from orders.exceptions import LookupBudgetExceeded, OrdersUnavailable
from orders.local_cache import LocalCache, local_caches_clear
from orders.odata.client import Deadline
from orders.odata.errors import (
    AuthenticationFailed,
    CircuitOpen,
    ODataError,
    Throttled,
    TransportFailed,
    UpstreamUnavailable,
)
from orders.resilience.budget import lookup_budget_check, lookup_budget_keys
from orders.resilience.single_flight import flight_failed, single_flight

T = TypeVar("T")

# Hot copies for at most a second: a purge or refresh in another process is seen here within that time.
_local = LocalCache(max_entries=5_000, ttl=1.0)


@dataclass(frozen=True)
class CachedCopy(Generic[T]):
    value: T
    taken_at: float


@dataclass(frozen=True)
class Lookup(Generic[T]):
    """A value with its freshness: `stale` copies carry the `problem` that kept us from reading live."""

    value: T
    taken_at: float
    source: str  # "live", "cache" or "stale"
    problem: OrdersUnavailable | None = None

    @property
    def stale(self) -> bool:
        return self.source == "stale"

    @property
    def as_of(self) -> datetime:
        return datetime.fromtimestamp(int(self.taken_at), tz=UTC)

    @property
    def age_seconds(self) -> int:
        return max(0, int(time.time() - self.taken_at))


def unavailable_from(exc: ODataError) -> OrdersUnavailable:
    if isinstance(exc, Throttled):
        return OrdersUnavailable("throttled", retry_after=exc.retry_after, detail=str(exc))
    if isinstance(exc, CircuitOpen):
        return OrdersUnavailable("unreachable", retry_after=exc.retry_after, detail=str(exc))
    if isinstance(exc, TransportFailed):
        return OrdersUnavailable("timeout" if exc.timed_out else "unreachable", detail=str(exc))
    if isinstance(exc, UpstreamUnavailable):
        return OrdersUnavailable("server_error", retry_after=exc.retry_after, detail=str(exc))
    if isinstance(exc, AuthenticationFailed):
        return OrdersUnavailable("auth", detail=str(exc))
    return OrdersUnavailable("bad_answer", detail=str(exc))


def _copy_seconds() -> int:
    """How long the shared cache keeps a copy: as long as it may be shown, fresh or stale."""
    return max(settings.ORDERS_STALE_SECONDS, settings.ORDERS_CACHE_SECONDS)


def copy_put(key: str, value: T) -> CachedCopy[T]:
    copy = CachedCopy(value=value, taken_at=time.time())
    cache.set(key, copy, timeout=_copy_seconds())
    _local.set(key, copy, ttl=settings.ORDERS_CACHE_SECONDS)
    return copy


def copy_delete(*keys: str) -> None:
    cache.delete_many(list(keys))
    _local.delete(*keys)


def _newest(keys: tuple[str, ...], found: Mapping[str, Any]) -> tuple[str, CachedCopy[Any]] | None:
    copies = [(k, c) for k in keys if isinstance(c := found.get(k), CachedCopy)]
    return max(copies, key=lambda pair: pair[1].taken_at) if copies else None


def read_through(
    keys: tuple[str, ...],
    fetch: Callable[[Deadline], T],
    *,
    store_key: Callable[[T], str],
    deadline: Deadline,
    refresh: bool = False,
    budget: str | None = None,
    on_miss: Callable[[Mapping[str, Any]], None] | None = None,
    miss_keys: tuple[str, ...] = (),
) -> Lookup[T]:
    """Serve a fresh copy, else read live (once, for everyone asking at the same moment); on failure fall back to a
    copy young enough to show.

    `keys` are where a copy may be (an order is stored under its owner's account, and a user may have several
    accounts in one company); `store_key` names where a live answer goes. A live read is charged to `budget`.
    `on_miss` runs when no fresh copy answers, before anything is charged or read: it may raise to answer without
    F&O (a remembered "not found"), and costs the cached path nothing. It gets the values under `miss_keys`, read
    in the same round trip as the copies (and the budget's counters), so a miss asks the cache once.
    """
    fresh_for = settings.ORDERS_CACHE_SECONDS
    # A copy stored after this moment answers this lookup, even one another process stored while we waited for
    # the lock: the double check that keeps a herd to one read.
    checked_at = time.time()
    if not refresh:
        for key in keys:
            hot = _local.get(key)
            if hot is not None and time.time() - hot.taken_at < fresh_for:
                metrics.cache_event("hit")
                return Lookup(hot.value, hot.taken_at, "cache")
    peek_keys = (*miss_keys, *(lookup_budget_keys(budget) if budget is not None else ()))
    found = cache.get_many([*keys, *peek_keys])
    found_key, copy = _newest(keys, found) or ("", None)
    if copy and not refresh and time.time() - copy.taken_at < fresh_for:
        # Hot under the key it was found under: the owner's, which need not be the first asked for.
        _local.set(found_key, copy, ttl=fresh_for - (time.time() - copy.taken_at))
        metrics.cache_event("hit")
        return Lookup(copy.value, copy.taken_at, "cache")
    metrics.cache_event("miss")
    peeked = {key: found.get(key) for key in peek_keys}
    if on_miss is not None:
        on_miss(peeked)
    if budget is not None:
        lookup_budget_check(budget, take=False, peeked=peeked)
    # Hashed: a customer with many accounts in one company has many keys, and cache keys stay short.
    flight_key = hashlib.sha256("|".join(keys).encode()).hexdigest()[:32]

    def lead() -> tuple[str, CachedCopy[T]]:
        if budget is not None:
            # Only the request that reads F&O pays: the others waiting on the same read cost F&O nothing.
            lookup_budget_check(budget, take=True)
        try:
            value = fetch(deadline)
        except ODataError as exc:
            flight_failed(flight_key, exc)
            raise
        return store_key(value), CachedCopy(value=value, taken_at=time.time())

    def landed(found: Mapping[str, Any]) -> tuple[str, CachedCopy[T]] | None:
        newest = _newest(keys, found)
        return newest if newest is not None and newest[1].taken_at >= checked_at else None

    def store(read: tuple[str, CachedCopy[T]]) -> tuple[str, object, int]:
        """Where the copy goes: written by single_flight with the release of its lock, in one round trip."""
        key, copy = read
        _local.set(key, copy, ttl=fresh_for)
        return key, copy, _copy_seconds()

    def flight() -> CachedCopy[T]:
        return single_flight(flight_key, lead, deadline=deadline, landed=landed, landed_keys=keys, store=store)[1]

    try:
        try:
            fresh = flight()
        except LookupBudgetExceeded as refused:
            if refused.budget == budget:
                raise
            # We waited on another user's read, and that user was over their budget: ours is ours to spend.
            fresh = flight()
    except ODataError as exc:
        problem = unavailable_from(exc)
        if copy and time.time() - copy.taken_at < settings.ORDERS_STALE_SECONDS:
            metrics.cache_event("stale")
            return Lookup(copy.value, copy.taken_at, "stale", problem)
        raise problem from exc
    return Lookup(fresh.value, fresh.taken_at, "live")


def local_cache_clear() -> None:
    """Forget this process's hot copies and every other per-process memo (orders.local_cache), as a fresh worker
    starts: only the shared cache is left."""
    local_caches_clear()
