"""/healthz and /metrics (/readyz: tests/test_readyz.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import order_row

pytestmark = pytest.mark.django_db


def test_healthz_needs_nothing(client: Client, fake_fno) -> None:
    fake_fno.script = [lambda r: (_ for _ in ()).throw(AssertionError("healthz must not call F&O"))]
    assert client.get("/healthz").json() == {"status": "ok"}


def test_metrics_refuses_anonymous_callers_even_on_loopback(client: Client, settings) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        named = line.startswith((name + "{", name + " "))
        if named and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_counters_move_after_a_lookup(alice_client, fake_fno, settings) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics"
    scrape = lambda: Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics").content.decode()  # noqa: E731
    before = scrape()
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    alice_client.get("/orders/usmf/000123/")
    alice_client.get("/orders/usmf/000123/")
    after = scrape()
    for name, labels, moved in [
        ("portal_requests_total", {"view": "orders:detail", "status": "200"}, 2),
        ("fno_calls_total", {"entity_set": "SalesOrderHeadersV2", "outcome": "ok"}, 1),
        ("fno_call_seconds_count", {"entity_set": "SalesInvoiceHeadersV2"}, 1),
        ("orders_cache_events_total", {"event": "miss"}, 1),
        ("orders_cache_events_total", {"event": "hit"}, 1),
    ]:
        assert _metric(after, name, **labels) - _metric(before, name, **labels) == moved, name
    assert "fno_circuit_state 0.0" in after
    assert "fno_token_refreshes_total" in after
