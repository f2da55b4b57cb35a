"""One watcher pass: claim the watched orders that are due, re-read them from F&O in batches, turn what changed
into ChangeEvents (the outbox), then run every sender.

Several watchers may run at once. On PostgreSQL each claims its due rows with SELECT ... FOR UPDATE SKIP LOCKED and
moves their next_check_at one interval on in the same statement's transaction, so every order is read by one of
them per interval; on SQLite a pass runs under the single-runner lock. Detection locks the order's row again and
compares with the state stored there, so a change is turned into events once, whoever read it.

F&O's patience is shared with the customers: reads go through the same client, back-off and circuit breaker. When
F&O cannot answer (throttled, breaker open, failing) the pass stops reading, and the orders it had claimed but not
read are due again once F&O may be asked.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from orders.changes import order_state, state_changes
from orders.documents import Invoice
from orders.exceptions import OrdersUnavailable
from orders.models import CustomerAccountLink
from orders.records import SalesOrder
from orders.shipments import Shipment
from watching import outbox
from watching.locks import claim_turn, claims_with_skip_locked, single_runner
from watching.models import ChangeEvent, Watch, WatchedOrder

logger = logging.getLogger("watching.watcher")

BATCH = 20  # orders per F&O call per entity set, and per claim
RETRY_UNAVAILABLE = timedelta(seconds=60)  # F&O failed without saying when to come back


class Detail(Protocol):
    """What the watcher needs of an order read (orders' OrderDetail)."""

    @property
    def order(self) -> SalesOrder: ...
    @property
    def shipments(self) -> tuple[Shipment, ...]: ...
    @property
    def invoices(self) -> list[Invoice]: ...


BatchReader = Callable[..., Mapping[str, Detail]]


def _default_reader() -> BatchReader:
    from orders.selectors import order_details_refresh

    reader: BatchReader = order_details_refresh
    return reader


@dataclass
class PassResult:
    ran: bool = True
    claimed: int = 0
    read: int = 0
    events: int = 0
    stopped: str = ""  # why the pass stopped reading early ("throttled", "unreachable", ...)
    sent: dict[str, int] = field(default_factory=dict)


def _claim(now: datetime, interval: timedelta) -> list[WatchedOrder]:
    """Claim one batch: up to BATCH due orders of the (company, account) whose order is most overdue, moving their
    next check one interval on. A claim is a batch, so several watchers share the work a batch at a time and every
    batch is one F&O request per entity set. Batches of orders nobody watches any more are forgotten on the way."""
    while (watched := _claim_rows(now, interval)) == []:
        pass  # a batch of forgotten orders only: claim the next one
    return watched or []


def _claim_rows(now: datetime, interval: timedelta) -> list[WatchedOrder] | None:
    """The watched orders of one claim (None: nothing is due); the orders in it that nobody watches any more are
    deleted."""
    skip_locked = claims_with_skip_locked()
    due = WatchedOrder.objects.filter(next_check_at__lte=now).order_by("next_check_at", "pk")
    with transaction.atomic():
        claim_turn()
        first = (due.select_for_update(skip_locked=True) if skip_locked else due).first()
        if first is None:
            return None
        same = due.filter(company=first.company, account=first.account)
        rows = list((same.select_for_update(skip_locked=True) if skip_locked else same)
                    .annotate(watched=Exists(Watch.objects.filter(order=OuterRef("pk"))))[:BATCH])
        WatchedOrder.objects.filter(pk__in=[r.pk for r in rows]).update(next_check_at=now + interval)
    orphans = [r.pk for r in rows if not r.watched]
    if orphans:
        try:
            with transaction.atomic():
                WatchedOrder.objects.filter(pk__in=orphans, watches__isnull=True).delete()
        except IntegrityError:
            pass  # someone started watching one a moment ago (PROTECT): it stays
    return [r for r in rows if r.watched]


def _release(rows: Iterable[WatchedOrder], at: datetime) -> None:
    WatchedOrder.objects.filter(pk__in=[r.pk for r in rows]).update(next_check_at=at)


def _watchers(order: WatchedOrder) -> list[Watch]:
    """Who is told: active users still linked to the order's account (signals end watches too; QuerySet.update
    bypasses them, this does not)."""
    linked = CustomerAccountLink.objects.filter(user=OuterRef("user"), company=order.company,
                                                account__iexact=order.account)
    return list(Watch.objects.filter(order=order, user__is_active=True).filter(Exists(linked))
                .select_related("user").order_by("pk"))


def _detect(order: WatchedOrder, detail: Detail, now: datetime) -> int:
    """Compare and store, under the row's lock; create one event per watcher, with every fan-out, in the same
    transaction. Returns how many events."""
    state = order_state(order=detail.order, shipments=detail.shipments, invoices=detail.invoices)
    with transaction.atomic():
        locked = WatchedOrder.objects.select_for_update().filter(pk=order.pk).first()
        if locked is None:
            return 0  # nobody watches it any more
        changes = state_changes(locked.state, state)
        events = 0
        if changes:
            for watch in _watchers(locked):
                event = ChangeEvent.objects.create(user=watch.user, company=locked.company, number=locked.number,
                                                   changes=changes, occurred_at=now)
                outbox.event_fan_out(event)
                events += 1
        WatchedOrder.objects.filter(pk=locked.pk).update(state=state, checked_at=now)
    return events


def watch_pass(*, now: datetime | None = None, reader: BatchReader | None = None,
               send: bool = True) -> PassResult:
    """One pass. `reader(company=, account=, numbers=, request_id=)` returns the orders it found, by casefolded
    number; it raises OrdersUnavailable when F&O cannot answer."""
    now = now or timezone.now()
    read = reader or _default_reader()
    # At least a second: a pass must not claim again what it has just read.
    interval = timedelta(seconds=max(1, settings.ORDERS_WATCH_INTERVAL_SECONDS))
    result = PassResult()
    with single_runner() as may_run:
        if not may_run:
            return PassResult(ran=False)
        while not result.stopped and (batch := _claim(now, interval)):
            result.claimed += len(batch)
            _read_batch(batch, read, now, result)
        if send:
            result.sent = outbox.senders_run(timezone.now())
    busy = result.claimed or result.stopped or any(result.sent.values())
    logger.log(logging.INFO if busy else logging.DEBUG, "watching.pass", extra={
        "claimed": result.claimed, "read": result.read, "events": result.events, "stopped": result.stopped,
        "sent": result.sent})
    return result


def _read_batch(batch: list[WatchedOrder], read: BatchReader, now: datetime, result: PassResult) -> None:
    try:
        found = read(company=batch[0].company, account=batch[0].account, numbers=[r.number for r in batch],
                     request_id=f"W{uuid.uuid4().hex[:8]}")
    except OrdersUnavailable as exc:
        # F&O asked us to wait, or is failing: the watcher never competes with customers for its patience. This
        # batch is due again once F&O may be asked; the pass claims nothing more.
        result.stopped = exc.kind
        retry = timedelta(seconds=exc.retry_after) if exc.retry_after else RETRY_UNAVAILABLE
        _release(batch, now + retry)
        logger.warning("watching.pass.stopped", extra={"problem": exc.kind, "retry_after": exc.retry_after})
        return
    for row in batch:
        detail = found.get(row.number.casefold())
        if detail is None:
            # Gone, or no longer this account's: nobody is told anything; it is tried again next interval.
            logger.info("watching.order.missing", extra={"company": row.company, "number": row.number})
            continue
        result.read += 1
        result.events += _detect(row, detail, now)
