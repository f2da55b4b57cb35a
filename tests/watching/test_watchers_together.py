"""Several watchers at once: each order read by one of them per interval, each change notified exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from orders.changes import order_state
from orders.selectors import order_details_refresh
from simulator.server import Simulator
from tests.factories import make_customer, order_row
from tests.processes import ROOT
from watching.models import ChangeEvent, EmailNotification, WatchedOrder
from watching.services import watch_start
from watching.watcher import _claim

ACCOUNTS = ("US-001", "US-002", "US-003", "US-004", "US-005")


def _watch_orders(user: Any, account: str, count: int) -> None:
    from orders.records import SalesOrder

    for n in range(count):
        order = SalesOrder.from_odata(order_row("usmf", f"{account}-{n:02}", account))
        watch_start(user_id=user.pk, order=order, state=order_state(order=order, shipments=(), invoices=[]))
    WatchedOrder.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.django_db
def test_a_claimed_batch_is_not_due_again_so_the_next_claim_takes_other_orders() -> None:
    user = make_customer("claims@example.com", *(f"usmf:{a}" for a in ACCOUNTS[:2]))
    _watch_orders(user, "US-001", 25)
    _watch_orders(user, "US-002", 3)
    now, interval = timezone.now(), timedelta(seconds=900)
    claims = [_claim(now, interval) for _ in range(4)]
    numbers = [[row.number for row in claim] for claim in claims]
    assert [len(n) for n in numbers] == [20, 5, 3, 0]  # a claim is one batch: one company and account
    flat = [n for claim in numbers for n in claim]
    assert len(flat) == len(set(flat)) == 28
    assert not WatchedOrder.objects.filter(next_check_at__lte=now).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_orders_another_watcher_is_claiming_are_skipped_not_waited_for() -> None:
    user = make_customer("skip@example.com", *(f"usmf:{a}" for a in ACCOUNTS[:2]))
    _watch_orders(user, "US-001", 5)
    _watch_orders(user, "US-002", 5)
    first_locked, release = threading.Event(), threading.Event()
    held: list[str] = []

    def other_watcher() -> None:
        # Another watcher in the middle of its claim: it holds the row locks of US-001's orders.
        try:
            with transaction.atomic():
                rows = WatchedOrder.objects.select_for_update().filter(account="US-001")
                held.extend(r.number for r in rows)
                first_locked.set()
                release.wait()
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_watcher)
    thread.start()
    try:
        assert first_locked.wait(30)
        with connection.cursor() as cursor:
            # Waiting on a lock would be the failure: the database says so instead of hanging the test.
            cursor.execute("SET lock_timeout = '5s'")
        claimed = _claim(timezone.now(), timedelta(seconds=900))
    finally:
        release.set()
        thread.join()
    assert sorted(held) == [f"US-001-{n:02}" for n in range(5)]
    assert sorted(r.number for r in claimed) == [f"US-002-{n:02}" for n in range(5)]


def _subprocess_env(tmp_path: Path, sim: Simulator) -> dict[str, str]:
    database = urlsplit(os.environ["DATABASE_URL"])
    test_database = connection.settings_dict["NAME"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=urlunsplit(database._replace(path=f"/{test_database}")),
        D365_URL=sim.url,
        D365_TIMEOUT_SECONDS="5",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        LOG_LEVEL="WARNING",
    )
    return env


@pytest.mark.postgres
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_watcher_processes_at_once_read_each_order_once_and_send_each_change_once(
    tmp_path: Path, live_fno: Simulator
) -> None:
    user = make_customer("two@example.com", *(f"usmf:{a}" for a in ACCOUNTS[:3]))
    watched = 0
    for account in ACCOUNTS[:3]:
        numbers = [r.number for r in _orders_of(account)]
        details = order_details_refresh(company="usmf", account=account, numbers=numbers, request_id="test")
        for detail in details.values():
            # What the user saw: the same order, promised for an older date. Every order has one change to find.
            seen = replace(detail.order, confirmed_ship_date=date(2026, 1, 5))
            watch_start(user_id=user.pk, order=detail.order,
                        state=order_state(order=seen, shipments=detail.shipments, invoices=detail.invoices))
            watched += 1
    assert watched == 60
    WatchedOrder.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))
    live_fno.set_faults(latency=0.05)  # long enough for the two passes to overlap
    live_fno.reset_log()

    env = _subprocess_env(tmp_path, live_fno)
    command = [sys.executable, "manage.py", "watch_orders", "--once"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs

    reads = [int(out.split("read ")[1].split(",")[0]) for out, _err in outputs]
    assert sum(reads) == 60, outputs  # every order read by one of them, once
    assert live_fno.calls()["SalesOrderHeadersV2"] == 3  # one header request per batch of 20
    events = list(ChangeEvent.objects.values_list("number", flat=True))
    assert len(events) == len(set(events)) == 60
    assert EmailNotification.objects.filter(sent_at__isnull=False).count() == 60
    subjects = [str(message_from_bytes(part.strip().encode(), policy=policy.default)["Subject"]).strip()
                for path in (tmp_path / "mail").iterdir()
                for part in path.read_text().split("-" * 79) if part.strip()]
    assert len(subjects) == 60
    assert {s.split(":")[0] for s in subjects} == {f"Order {n}" for n in events}


def _orders_of(account: str) -> list[Any]:
    """The simulator's first 20 orders of one account of usmf, read through the customer's own list read."""
    from orders.accounts import AccountRef
    from orders.filters import OrderFilters
    from orders.selectors import order_list_for_customer

    page = order_list_for_customer(accounts=(AccountRef("usmf", account),), filters=OrderFilters(page_size=20),
                                   request_id="test").value
    return [summary.order for summary in page.orders]


@pytest.mark.integration
def test_on_an_sqlite_file_a_second_watcher_process_does_nothing_while_one_runs(tmp_path: Path) -> None:
    import fcntl

    from tests.processes import manage, production_env

    env = production_env(tmp_path, "http://127.0.0.1:9")
    manage(env, "migrate", "--noinput")
    with open(tmp_path / "portal.sqlite3.watch.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a watcher is running
        assert "another watcher is running; nothing done" in manage(env, "watch_orders", "--once")
    assert manage(env, "watch_orders", "--once").startswith("claimed 0, read 0")
