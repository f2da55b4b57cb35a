"""The watcher pass and its outbox, with an in-process reader standing in for the F&O batch read.

The reads themselves (batches, scoping, the shared breaker, the cached copy) are tested against the simulator in
test_watching_end_to_end.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from orders.changes import order_state
from orders.documents import Invoice
from orders.exceptions import OrdersUnavailable
from orders.models import CustomerAccountLink
from orders.records import SalesOrder
from orders.shipments import Shipment
from tests.factories import make_customer, order_row
from watching import outbox
from watching.locks import claims_with_skip_locked, single_runner
from watching.models import ChangeEvent, EmailNotification, Watch, WatchedOrder
from watching.services import watch_start
from watching.watcher import BATCH, watch_pass

pytestmark = pytest.mark.django_db


@dataclass
class Detail:
    order: SalesOrder
    shipments: tuple[Shipment, ...] = ()
    invoices: list[Invoice] = field(default_factory=list)


@dataclass
class Reader:
    """F&O as the watcher sees it: the current orders, and every batch it was asked for."""

    orders: dict[str, SalesOrder] = field(default_factory=dict)
    calls: list[tuple[str, str, list[str]]] = field(default_factory=list)
    fail: OrdersUnavailable | None = None

    def __call__(self, *, company: str, account: str, numbers: list[str], request_id: str) -> dict[str, Detail]:
        self.calls.append((company, account, list(numbers)))
        if self.fail is not None:
            raise self.fail
        return {n.casefold(): Detail(self.orders[n]) for n in numbers
                if n in self.orders and self.orders[n].customer_account.casefold() == account.casefold()}

    def move(self, number: str, **fields: Any) -> None:
        self.orders[number] = replace(self.orders[number], **fields)


def _order(number: str, account: str = "US-001", **fields: Any) -> SalesOrder:
    order = SalesOrder.from_odata(order_row("usmf", number, account))
    return replace(order, confirmed_ship_date=date(2026, 12, 12), **fields)


def _watch(user: Any, order: SalesOrder, language: str = "") -> None:
    watch_start(user_id=user.pk, order=order, state=order_state(order=order, shipments=(), invoices=[]),
                language=language)


def _due() -> None:
    WatchedOrder.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def reader() -> Reader:
    return Reader()


@pytest.fixture
def carol(db):
    return make_customer("carol@example.com", "usmf:US-001")


def test_a_moved_date_is_one_event_and_one_email_per_watcher_and_the_next_pass_sends_nothing(alice, carol, reader):
    reader.orders["SO-1"] = _order("SO-1")
    _watch(alice, reader.orders["SO-1"])
    _watch(carol, reader.orders["SO-1"])
    reader.move("SO-1", confirmed_ship_date=date(2026, 12, 19))
    _due()

    result = watch_pass(reader=reader)

    assert (result.read, result.events, result.sent["email"]) == (1, 2, 2)
    assert len(reader.calls) == 1
    changes = [{"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-19"}]
    assert [e.changes for e in ChangeEvent.objects.order_by("user_id")] == [changes, changes]
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "carol@example.com"]
    _due()
    again = watch_pass(reader=reader)
    assert (again.read, again.events, again.sent["email"]) == (1, 0, 0)
    assert len(mail.outbox) == 2


def test_an_order_is_read_at_most_once_per_interval(alice, reader, settings):
    settings.ORDERS_WATCH_INTERVAL_SECONDS = 900
    reader.orders["SO-1"] = _order("SO-1")
    _watch(alice, reader.orders["SO-1"])
    assert watch_pass(reader=reader).claimed == 0  # watching started from what alice saw; due in 15 minutes
    _due()
    assert watch_pass(reader=reader).claimed == 1
    assert watch_pass(reader=reader).claimed == 0
    [row] = WatchedOrder.objects.all()
    assert timedelta(seconds=890) < row.next_check_at - timezone.now() <= timedelta(seconds=900)


def test_a_pass_reads_up_to_20_orders_per_call_per_company_and_account(db, reader):
    alice = make_customer("alice@example.com", "usmf:US-001", "usmf:US-002")
    for n in range(25):
        reader.orders[f"SO-{n:02}"] = _order(f"SO-{n:02}")
        _watch(alice, reader.orders[f"SO-{n:02}"])
    reader.orders["SO-B"] = _order("SO-B", account="US-002")
    _watch(alice, reader.orders["SO-B"])
    _due()
    assert watch_pass(reader=reader).read == 26
    assert sorted((company, account, len(numbers)) for company, account, numbers in reader.calls) == [
        ("usmf", "US-001", 5), ("usmf", "US-001", BATCH), ("usmf", "US-002", 1)]


def test_when_fno_cannot_answer_the_pass_stops_reading_and_the_orders_come_back_later(db, reader):
    alice = make_customer("alice@example.com", "usmf:US-001", "usmf:US-002")
    reader.orders["SO-1"] = _order("SO-1")
    reader.orders["SO-2"] = _order("SO-2", account="US-002")
    _watch(alice, reader.orders["SO-1"])
    _watch(alice, reader.orders["SO-2"])
    _due()
    reader.fail = OrdersUnavailable("unreachable", retry_after=30)

    result = watch_pass(reader=reader)

    assert result.stopped == "unreachable"
    assert len(reader.calls) == 1  # the second account's batch was not asked for, nor claimed
    [(failed, failed_at), (unread, unread_at)] = sorted(
        ((r.account == reader.calls[0][1], r.next_check_at) for r in WatchedOrder.objects.all()), reverse=True)
    assert failed
    assert timedelta(seconds=20) < failed_at - timezone.now() <= timedelta(seconds=30)
    assert not unread
    assert unread_at < timezone.now()
    reader.fail = None
    _due()
    assert watch_pass(reader=reader).read == 2


def test_a_user_who_lost_the_account_or_was_deactivated_without_signals_is_not_told(alice, carol, reader):
    reader.orders["SO-1"] = _order("SO-1")
    _watch(alice, reader.orders["SO-1"])
    _watch(carol, reader.orders["SO-1"])
    # QuerySet.update sends no signals, so the watches are still there: the watcher checks again.
    CustomerAccountLink.objects.filter(user=alice).update(account="US-999")
    get_user_model().objects.filter(pk=carol.pk).update(is_active=False)
    reader.move("SO-1", confirmed_ship_date=date(2026, 12, 19))
    _due()
    assert watch_pass(reader=reader).events == 0
    assert not mail.outbox


def test_a_failing_fan_out_hook_loses_nothing_the_change_is_found_again(alice, reader):
    reader.orders["SO-1"] = _order("SO-1")
    _watch(alice, reader.orders["SO-1"])
    reader.move("SO-1", confirmed_ship_date=date(2026, 12, 19))
    _due()

    def broken(event: ChangeEvent) -> None:
        raise RuntimeError("crash after detection")

    outbox.on_change(broken)
    try:
        with pytest.raises(RuntimeError):
            watch_pass(reader=reader)
    finally:
        outbox._hooks.remove(broken)
    assert not ChangeEvent.objects.exists()  # the event went with its deliveries: not half of it
    _due()
    assert watch_pass(reader=reader).events == 1
    assert len(mail.outbox) == 1


def test_an_email_that_fails_is_tried_again_later_and_then_sent_once(alice, reader, settings):
    reader.orders["SO-1"] = _order("SO-1")
    _watch(alice, reader.orders["SO-1"])
    reader.move("SO-1", confirmed_ship_date=date(2026, 12, 19))
    _due()
    settings.EMAIL_BACKEND = "tests.watching.test_watcher.FailingBackend"
    assert watch_pass(reader=reader).sent["email"] == 0
    note = EmailNotification.objects.get()
    assert note.attempts == 1
    assert note.error == "ConnectionRefusedError"
    assert note.next_attempt_at > timezone.now()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert watch_pass(reader=reader).sent["email"] == 0  # not due yet
    EmailNotification.objects.update(next_attempt_at=timezone.now())
    assert watch_pass(reader=reader).sent["email"] == 1
    assert watch_pass(reader=reader).sent["email"] == 0
    assert len(mail.outbox) == 1


def test_a_queued_email_is_not_sent_after_the_account_link_changed_without_signals(alice, reader, settings):
    reader.orders["SO-1"] = _order("SO-1")
    _watch(alice, reader.orders["SO-1"])
    reader.move("SO-1", confirmed_ship_date=date(2026, 12, 19))
    _due()
    settings.EMAIL_BACKEND = "tests.watching.test_watcher.FailingBackend"
    watch_pass(reader=reader)  # the change is queued; the send fails and waits for its retry
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    CustomerAccountLink.objects.filter(user=alice).update(account="US-999")  # no signals: the watch stays
    EmailNotification.objects.update(next_attempt_at=timezone.now())
    assert watch_pass(reader=reader).sent["email"] == 0
    assert not mail.outbox
    assert EmailNotification.objects.get().error == "no longer watching"


class FailingBackend:
    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        raise ConnectionRefusedError("smtp down")


def test_an_order_nobody_watches_any_more_is_forgotten(alice, reader):
    reader.orders["SO-1"] = _order("SO-1")
    _watch(alice, reader.orders["SO-1"])
    Watch.objects.all().delete()
    _due()
    assert watch_pass(reader=reader).claimed == 0
    assert not reader.calls
    assert not WatchedOrder.objects.exists()


def test_on_sqlite_a_second_watcher_waits_for_the_first(alice, reader):
    reader.orders["SO-1"] = _order("SO-1")
    _watch(alice, reader.orders["SO-1"])
    _due()
    with single_runner() as first:
        assert first
        second = watch_pass(reader=reader)
    # PostgreSQL shares the work by row claims instead, so there the second pass runs (and claims the order).
    assert second.ran is claims_with_skip_locked()
    assert len(reader.calls) == (1 if claims_with_skip_locked() else 0)


@pytest.fixture(autouse=True)
def _locmem_mail(settings) -> Iterator[None]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return
