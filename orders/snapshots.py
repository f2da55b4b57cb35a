"""Short-lived copies of what F&O answered: fresh for ORDERS_CACHE_SECONDS, shown as stale up to ORDERS_STALE_SECONDS.

Every key names the company and customer account it belongs to (see selectors), so a copy can only be read
back by a lookup for that same account.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache

from orders.exceptions import OrdersUnavailable
from orders.odata.errors import (
    AuthenticationFailed,
    ODataError,
    Throttled,
    TransportFailed,
    UpstreamUnavailable,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
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
        return datetime.fromtimestamp(self.taken_at, tz=UTC)

    @property
    def age_seconds(self) -> int:
        return max(0, int(time.time() - self.taken_at))


def unavailable_from(exc: ODataError) -> OrdersUnavailable:
    if isinstance(exc, Throttled):
        return OrdersUnavailable("throttled", retry_after=exc.retry_after, detail=str(exc))
    if isinstance(exc, TransportFailed):
        return OrdersUnavailable("timeout" if exc.timed_out else "unreachable", detail=str(exc))
    if isinstance(exc, UpstreamUnavailable):
        return OrdersUnavailable("server_error", retry_after=exc.retry_after, detail=str(exc))
    if isinstance(exc, AuthenticationFailed):
        return OrdersUnavailable("auth", detail=str(exc))
    return OrdersUnavailable("bad_answer", detail=str(exc))


def snapshot_put(key: str, value: object) -> Snapshot:
    snapshot = Snapshot(value=value, taken_at=time.time())
    cache.set(key, snapshot, timeout=max(settings.ORDERS_STALE_SECONDS, settings.ORDERS_CACHE_SECONDS))
    return snapshot


def snapshot_delete(*keys: str) -> None:
    cache.delete_many(list(keys))


def read_through(
    keys: tuple[str, ...], fetch: Callable[[], T], *, store_key: Callable[[T], str], refresh: bool = False
) -> Lookup[T]:
    """Serve a fresh copy, else read live; on failure fall back to a copy young enough to show.

    `keys` are where a copy may be (an order is stored under its owner's account, and a user may have several
    accounts in one company); `store_key` names where a live answer goes.
    """
    now = time.time()
    found = cache.get_many(list(keys))
    snapshots = [s for s in (found.get(k) for k in keys) if isinstance(s, Snapshot)]
    snapshot = max(snapshots, key=lambda s: s.taken_at) if snapshots else None
    if snapshot and not refresh and now - snapshot.taken_at < settings.ORDERS_CACHE_SECONDS:
        return Lookup(snapshot.value, snapshot.taken_at, "cache")
    try:
        value = fetch()
    except ODataError as exc:
        problem = unavailable_from(exc)
        if snapshot and now - snapshot.taken_at < settings.ORDERS_STALE_SECONDS:
            return Lookup(snapshot.value, snapshot.taken_at, "stale", problem)
        raise problem from exc
    fresh = snapshot_put(store_key(value), value)
    return Lookup(value, fresh.taken_at, "live")
