"""The asynchronous audit writer as production runs it (AUDIT_WRITE_MODE=async, the default): requests through the
real middleware and views queue their records, a background thread writes them in batches, and a failed write, a
dead writer thread or a process that exits with records queued loses nothing silently.

Each in-process test has a writer of its own, started by its first record and stopped (its database connection
closed) at the end. Nothing here waits on the clock: a test waits for the writer's queue to drain, bounded.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client
from prometheus_client import REGISTRY

from orders import audit
from orders.models import FnoCall, LookupAudit
from orders.services import api_token_create
from simulator.server import Simulator
from tests.conftest import DRAIN_SECONDS
from tests.factories import order_row
from tests.fakes import FakeFnO
from tests.processes import manage, migrate, portal_processes, production_env

pytestmark = pytest.mark.django_db(transaction=True)
class WriterThreadKilled(BaseException):
    """What no `except Exception` catches: it ends the writer thread."""


@pytest.fixture
def writer(async_writers) -> audit._Writer:
    return async_writers[0]


def _lost(reason: str) -> float:
    return REGISTRY.get_sample_value("portal_audit_records_lost_total", {"reason": reason}) or 0.0


def _wrap_write(writer: audit._Writer, before, monkeypatch) -> list[str]:
    """Call `before(records)` ahead of every batch the writer writes; returns the names of the threads that wrote."""
    threads: list[str] = []
    real = writer.write

    def write(items):
        threads.append(threading.current_thread().name)
        before(items)
        real(items)

    monkeypatch.setattr(writer, "write", write)
    return threads


def test_lookups_through_the_views_are_written_by_the_writer_thread_in_request_order(
    writer, alice, alice_client: Client, fake_fno: FakeFnO, monkeypatch
) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    threads = _wrap_write(writer, lambda items: None, monkeypatch)
    _, token = api_token_create(user=alice, name="phone")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    responses = [
        alice_client.get("/orders/usmf/000123/"),
        alice_client.get("/orders/"),
        api.get("/api/v1/orders/usmf/000123"),
        alice_client.get("/orders/usmf/000123/"),  # from the copy: still audited
        api.get("/api/v1/orders/usmf/999999"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 404]

    assert audit.audit_flush(timeout=DRAIN_SECONDS)
    rows = list(LookupAudit.objects.order_by("id").values_list("reference", "channel", "kind", "outcome"))
    assert [row[0] for row in rows] == [r["X-Reference"] for r in responses]
    assert [row[1:] for row in rows] == [
        ("web", "order", "ok"), ("web", "list", "ok"), ("api", "order", "ok"), ("web", "order", "ok"),
        ("api", "order", "not_found"),
    ]
    assert FnoCall.objects.count() == len(fake_fno.requests) > 0
    assert set(threads) == {"audit-writer"}  # never on the request's thread


def test_a_failed_write_is_logged_and_counted_and_the_writer_carries_on(
    writer, alice_client: Client, fake_fno: FakeFnO, caplog, monkeypatch
) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    database_down = threading.Event()
    database_down.set()

    def write_or_fail(items) -> None:
        if database_down.is_set():
            raise OperationalError("server closed the connection unexpectedly")

    _wrap_write(writer, write_or_fail, monkeypatch)
    lost_before = _lost("write_failed")
    alice_client.get("/orders/usmf/000123/")
    assert audit.audit_flush(timeout=DRAIN_SECONDS)
    assert LookupAudit.objects.count() == 0
    # The lookup and each of its F&O calls: every record of the failed batches counted, the log says how many.
    lost = _lost("write_failed") - lost_before
    assert lost == 1 + len(fake_fno.requests)
    logged = [r for r in caplog.records if r.name == "orders.audit" and r.getMessage() == "audit.write_failed"]
    assert sum(r.records for r in logged) == lost
    assert all(r.exc_info is not None for r in logged)

    database_down.clear()
    second = alice_client.get("/orders/usmf/000123/")
    assert audit.audit_flush(timeout=DRAIN_SECONDS)
    assert list(LookupAudit.objects.values_list("reference", flat=True)) == [second["X-Reference"]]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_writer_thread_that_dies_is_reported_and_replaced(
    writer, alice_client: Client, fake_fno: FakeFnO, monkeypatch
) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    killing = threading.Event()
    killing.set()

    def die(items) -> None:
        if killing.is_set():
            raise WriterThreadKilled

    _wrap_write(writer, die, monkeypatch)
    lost_before = _lost("write_failed")
    alice_client.get("/orders/usmf/000123/")
    assert audit.audit_flush(timeout=DRAIN_SECONDS)
    dead = writer._thread
    assert dead is not None
    dead.join(DRAIN_SECONDS)
    assert not dead.is_alive()
    assert _lost("write_failed") - lost_before == 1 + len(fake_fno.requests)
    killing.clear()

    # Queued while no writer thread runs: the next flush (at the latest, the one at exit) starts one.
    monkeypatch.setattr(writer, "_ensure_thread", lambda: None)
    audit.lookup_record(_request("QUEUED-1"), channel="web", kind="order", outcome="ok", status_code=200)
    monkeypatch.delattr(writer, "_ensure_thread")
    assert writer._queue.qsize() == 1
    assert audit.audit_flush(timeout=DRAIN_SECONDS)
    assert writer._thread is not dead
    # And the next request's records are written as usual.
    later = alice_client.get("/orders/usmf/000123/")
    assert audit.audit_flush(timeout=DRAIN_SECONDS)
    assert list(LookupAudit.objects.order_by("id").values_list("reference", flat=True)) == [
        "QUEUED-1", later["X-Reference"]]


def test_a_full_queue_drops_records_with_a_count_and_keeps_serving(writer, caplog, monkeypatch) -> None:
    import queue

    writer._queue = queue.Queue(maxsize=3)  # this test's own writer, before its thread starts
    held, holding = threading.Event(), threading.Event()

    def hold_first_batch(items) -> None:
        if not held.is_set():
            holding.set()
            held.wait(DRAIN_SECONDS)

    _wrap_write(writer, hold_first_batch, monkeypatch)
    lost_before = _lost("queue_full")
    audit.lookup_record(_request("FIRST"), channel="web", kind="order", outcome="ok", status_code=200)
    assert holding.wait(DRAIN_SECONDS)  # the writer holds the first batch; the queue fills behind it
    for n in range(5):
        audit.lookup_record(_request(f"NEXT-{n}"), channel="web", kind="order", outcome="ok", status_code=200)
    held.set()
    assert audit.audit_flush(timeout=DRAIN_SECONDS)
    assert _lost("queue_full") - lost_before == 2
    assert [r.records for r in caplog.records if r.getMessage() == "audit.queue_full"] == [1, 1]
    assert list(LookupAudit.objects.order_by("id").values_list("reference", flat=True)) == [
        "FIRST", "NEXT-0", "NEXT-1", "NEXT-2"]


@pytest.mark.processes
def test_what_is_queued_when_the_process_exits_is_written(tmp_path: Path) -> None:
    """A management command, a script: no explicit flush, just the end of the process."""
    env = production_env(tmp_path, "http://127.0.0.1:9", AUDIT_WRITE_MODE="async")
    migrate(env)
    script = (
        "from django.test import RequestFactory\n"
        "from orders.audit import lookup_record\n"
        "for n in range(200):\n"
        "    request = RequestFactory().get(f'/orders/usmf/{n:06d}/')\n"
        "    request.reference = f'EXIT-{n:03d}'\n"
        "    lookup_record(request, channel='web', kind='order', outcome='ok', status_code=200)\n"
    )
    manage(env, "shell", "-c", script)
    with sqlite3.connect(tmp_path / "portal.sqlite3") as db:
        references = [row[0] for row in db.execute("SELECT reference FROM orders_lookupaudit ORDER BY id")]
    assert references == [f"EXIT-{n:03d}" for n in range(200)]


@pytest.mark.integration
@pytest.mark.processes
def test_a_stopped_gunicorn_worker_writes_its_queue_first(tmp_path: Path, simulator: Simulator) -> None:
    """Production: gunicorn, the async writer, SIGTERM straight after the last answer (a deploy, a recycle)."""
    env = production_env(tmp_path, simulator.url, AUDIT_WRITE_MODE="async")
    migrate(env)
    manage(env, "add_customer_user", "--email", "audit@example.com", "--no-password", "--account", "usmf:US-001")
    token = manage(env, "create_api_token", "--email", "audit@example.com").strip()
    import httpx

    with portal_processes(1, env) as (url,):
        simulator.reset_log()
        references = []
        for number in ("001001", "001002", "001001", "999999"):
            answer = httpx.get(f"{url}/api/v1/orders/usmf/{number}", headers={"Authorization": f"Bearer {token}"},
                               timeout=DRAIN_SECONDS)
            assert answer.status_code in (200, 404)
            references.append(answer.headers["X-Reference"])
        fno_requests = len(simulator.requests())
    with sqlite3.connect(tmp_path / "portal.sqlite3") as db:
        audited = [row[0] for row in db.execute("SELECT reference FROM orders_lookupaudit ORDER BY id")]
        calls = db.execute("SELECT COUNT(*) FROM orders_fnocall").fetchone()[0]
    assert audited == references
    assert calls == fno_requests > 0


def _request(reference: str):
    from django.test import RequestFactory

    request = RequestFactory().get("/orders/usmf/000123/")
    request.reference = reference
    return request
