"""The whole customer path against the simulator over a real socket."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from tests.factories import PASSWORD, make_customer

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_sign_in_list_filter_detail_refresh(live_fno) -> None:
    make_customer("alice@example.com", "usmf:US-001")
    client = Client()
    assert client.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD}).status_code == 302
    listing = _text(client.get("/orders/"))
    numbers = re.findall(r'href="/orders/usmf/(\d+)/"', listing)
    assert numbers
    filtered = _text(client.get("/orders/", {"q": numbers[0]}))
    assert re.findall(r'href="/orders/usmf/(\d+)/"', filtered) == [numbers[0]]
    for code in ("invoiced", "cancelled"):
        page = _text(client.get("/orders/", {"status": code}))
        assert "badge-" + code in page
        assert set(re.findall(r'class="badge badge-(\w+)"', page)) == {code}
    detail = client.get(f"/orders/usmf/{numbers[0]}/")
    assert detail.status_code == 200
    assert "Progress" in _text(detail)
    live_fno.reset_log()
    client.get(f"/orders/usmf/{numbers[0]}/")
    assert live_fno.requests() == []  # a fresh copy: no F&O call
    assert client.post(f"/orders/usmf/{numbers[0]}/").status_code == 302
    assert {r["entity_set"] for r in live_fno.requests()} == {
        "SalesOrderHeadersV2", "PackingSlipTrackingInformation", "CustPackingSlipJourBiEntities",
        "CustPackingSlipTransBiEntities", "SalesInvoiceHeadersV2",
    }
    assert all(r["request_id"] for r in live_fno.requests())


def test_same_order_number_in_two_companies_resolves_per_customer(live_fno) -> None:
    us = make_customer("us@example.com", "usmf:US-001", "usmf:US-002", "usmf:US-003", "usmf:US-004",
                       "usmf:US-005", "usmf:US-006")
    de = make_customer("de@example.com", "demf:DE-001")
    us_client, de_client = Client(), Client()
    us_client.force_login(us)
    de_client.force_login(de)
    us_page = _text(us_client.get("/orders/usmf/001042/"))
    de_page = _text(de_client.get("/orders/demf/001042/"))
    assert "USMF" in us_page
    assert "DE-001" in de_page
    assert us_client.get("/orders/demf/001042/").status_code == 404
    assert de_client.get("/orders/usmf/001042/").status_code == 404


def test_shipments_and_invoices_from_the_simulator(live_fno) -> None:
    client = Client()
    client.force_login(make_customer("alice@example.com", "usmf:US-001"))
    listing = _text(client.get("/orders/", {"status": "invoiced"}))
    number = re.findall(r'href="/orders/usmf/(\d+)/"', listing)[0]
    page = _text(client.get(f"/orders/usmf/{number}/"))
    assert "PS-" in page
    assert "CIV-" in page


def test_outage_shows_the_stale_copy_then_recovers(live_fno, settings) -> None:
    client = Client()
    client.force_login(make_customer("alice@example.com", "usmf:US-001"))
    settings.ORDERS_CACHE_SECONDS = 0
    assert client.get("/orders/").status_code == 200
    live_fno.set_faults(hang=True)
    stale = client.get("/orders/")
    assert stale.status_code == 200
    assert "This is the status as of" in _text(stale)
    live_fno.clear_faults()
    assert "This is the status as of" not in _text(client.get("/orders/"))
