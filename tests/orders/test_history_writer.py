"""The order history (promise dates, what each user last saw) as production writes it (AUDIT_WRITE_MODE=async): a
lookup reads what it must show and leaves every write to the history writer's thread, which writes a batch at a
time and keeps the first sighting of a date and each user's last view.

Each test has a writer of its own, stopped (its database connection closed) at the end. Nothing here waits on the
clock: a test waits for the writer's queue to drain, bounded.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orders import history
from orders.models import OrderSeen, PromiseDate
from orders.services import api_token_create, order_cache_purge
from tests.conftest import DRAIN_SECONDS
from tests.factories import order_row
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db(transaction=True)
ORDER = "/api/v1/orders/usmf/000123"


@pytest.fixture
def writer(async_writers) -> history._HistoryWriter:
    return async_writers[1]


def _history_sql(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"].split(" ", 1)[0] for q in queries.captured_queries
            if "orders_orderseen" in q["sql"] or "orders_promisedate" in q["sql"]]


def test_a_live_lookup_reads_the_history_once_each_and_the_writer_thread_writes_it(
    writer, alice, fake_fno: FakeFnO, monkeypatch
) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001",
                                                      ConfirmedShippingDate="2026-12-12T12:00:00Z")]
    threads: list[str] = []
    real = writer.write
    monkeypatch.setattr(writer, "write", lambda items: (threads.append(threading.current_thread().name),
                                                        real(items)))
    api = Client(HTTP_AUTHORIZATION="Bearer " + api_token_create(user=alice, name="phone")[1])

    with CaptureQueriesContext(connection) as queries:
        body = api.get(ORDER).json()
    # What was seen of the order's dates and what this user saw last: one SELECT each, and no write on the request.
    assert _history_sql(queries) == ["SELECT", "SELECT"]
    assert [p["date"] for p in body["promise_history"]["confirmed_ship_date"]] == ["2026-12-12"]
    assert body["changes_since_last_view"] == []

    assert history.history_flush(timeout=DRAIN_SECONDS)
    assert list(PromiseDate.objects.values_list("number", "kind", "value")) == [
        ("000123", "ship", date(2026, 12, 12))]
    assert list(OrderSeen.objects.values_list("user_id", "number")) == [(alice.pk, "000123")]
    assert set(threads) == {"history-writer"}  # never on the request's thread

    # The date moves: the next live read shows both promises and the change, and the writer records the new one.
    fake_fno.rows["SalesOrderHeadersV2"][0]["ConfirmedShippingDate"] = "2026-12-19T12:00:00Z"
    order_cache_purge(company="usmf", account="US-001", number="000123")
    history._histories.clear()
    history._seen_states.clear()  # as another process would: from the database
    body = api.get(ORDER).json()
    assert body["changes_since_last_view"] == [
        {"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-19"}]
    assert [p["date"] for p in body["promise_history"]["confirmed_ship_date"]] == ["2026-12-12", "2026-12-19"]
    assert history.history_flush(timeout=DRAIN_SECONDS)
    assert sorted(PromiseDate.objects.values_list("value", flat=True)) == [date(2026, 12, 12), date(2026, 12, 19)]
    assert OrderSeen.objects.get().state["confirmed_ship_date"] == "2026-12-19"


def test_a_batch_keeps_a_dates_first_sighting_and_each_users_last_view(writer, alice) -> None:
    first, later = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    PromiseDate.objects.create(company="usmf", number="000123", kind="ship", value=date(2026, 12, 12),
                               first_seen_at=first)
    OrderSeen.objects.create(user=alice, company="usmf", number="000123", state={"status": "open"}, seen_at=first)
    writer.write([
        PromiseDate(company="usmf", number="000123", kind="ship", value=date(2026, 12, 12), first_seen_at=later),
        OrderSeen(user=alice, company="usmf", number="000123", state={"status": "picked"}, seen_at=later),
        OrderSeen(user=alice, company="usmf", number="000123", state={"status": "shipped"}, seen_at=later),
        OrderSeen(user=alice, company="usmf", number="000124", state={"status": "open"}, seen_at=later),
    ])
    assert PromiseDate.objects.get().first_seen_at == first  # another process saw it first: that stands
    assert dict(OrderSeen.objects.values_list("number", "state")) == {
        "000123": {"status": "shipped"}, "000124": {"status": "open"}}


def test_what_is_queued_when_the_process_exits_is_written(writer, alice) -> None:
    writer.put(OrderSeen(user=alice, company="usmf", number="000123", state={}, seen_at=datetime.now(UTC)))
    writer.close(timeout=DRAIN_SECONDS)
    assert OrderSeen.objects.filter(user=alice).count() == 1


def test_a_change_seen_before_the_writer_wrote_the_first_look_is_still_told(writer, alice, fake_fno: FakeFnO,
                                                                            monkeypatch) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001",
                                                      ConfirmedShippingDate="2026-12-12T12:00:00Z")]
    queued: list[object] = []
    monkeypatch.setattr(writer, "put", queued.append)  # nothing reaches the database during this test
    api = Client(HTTP_AUTHORIZATION="Bearer " + api_token_create(user=alice, name="phone")[1])
    assert api.get(ORDER).json()["changes_since_last_view"] == []  # a first look
    fake_fno.rows["SalesOrderHeadersV2"][0]["ConfirmedShippingDate"] = "2026-12-19T12:00:00Z"
    order_cache_purge(company="usmf", account="US-001", number="000123")
    body = api.get(ORDER).json()
    assert body["changes_since_last_view"] == [
        {"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-19"}]
    assert not OrderSeen.objects.exists()
    assert [type(item).__name__ for item in queued].count("OrderSeen") == 2


def test_a_batch_that_lands_late_with_an_older_look_does_not_replace_a_newer_one(writer, alice, bob) -> None:
    older, newer = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    writer.write([OrderSeen(user=alice, company="usmf", number="000123", state={"status": "shipped"},
                            seen_at=newer)])
    writer.write([OrderSeen(user=alice, company="usmf", number="000123", state={"status": "open"}, seen_at=older),
                  OrderSeen(user=bob, company="usmf", number="000124", state={"status": "open"}, seen_at=older)])
    assert dict(OrderSeen.objects.values_list("user__email", "state")) == {
        "alice@example.com": {"status": "shipped"}, "bob@example.com": {"status": "open"}}


def test_a_look_of_a_user_deleted_since_takes_no_other_record_down(writer, alice, bob) -> None:
    gone = OrderSeen(user_id=bob.pk, company="usmf", number="000123", state={}, seen_at=datetime.now(UTC))
    bob.delete()
    writer.write([gone, OrderSeen(user=alice, company="usmf", number="000123", state={}, seen_at=datetime.now(UTC))])
    assert list(OrderSeen.objects.values_list("user_id", flat=True)) == [alice.pk]
