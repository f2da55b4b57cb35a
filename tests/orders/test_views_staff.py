"""Support staff: roles, lookup as the customer sees it, reference replay, purge, health, the admin."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from orders.models import CustomerAccountLink, FnoCall, LookupAudit
from orders.roles import ADMINISTRATOR, AGENT
from orders.services import api_token_create
from tests.factories import order_row, staff_client
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db

STAFF_URLS = [
    ("get", "/staff/orders/"),
    ("get", "/staff/orders/?q=000123"),
    ("get", "/staff/orders/usmf/US-001/000123/"),
    ("get", "/staff/customer-view/usmf/US-001/000123/"),
    ("post", "/staff/purge/usmf/US-001/000123/"),
    ("get", "/staff/ref/"),
    ("get", "/staff/ref/ABCD-EFGH"),
    ("get", "/staff/health/"),
    ("post", "/staff/health/test/"),
]


@pytest.fixture
def agent() -> Client:
    return staff_client("agent@example.com", AGENT)


@pytest.fixture
def administrator() -> Client:
    return staff_client("boss@example.com", ADMINISTRATOR)


def _text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def seeded(fake_fno: FakeFnO) -> FakeFnO:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    return fake_fno


@pytest.mark.parametrize(("method", "url"), STAFF_URLS)
def test_customers_and_anonymous_visitors_never_reach_staff_pages(alice_client, client, seeded, method, url) -> None:
    for visitor in (alice_client, client):
        response = getattr(visitor, method)(url)
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"]
    assert seeded.requests == []


def test_staff_without_a_role_get_403(db, seeded) -> None:
    user = get_user_model().objects.create_user(username="s@example.com", password="x", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get("/staff/orders/").status_code == 403
    assert client.get("/staff/health/").status_code == 403


def test_an_agent_cannot_edit_users_but_an_administrator_can(agent, administrator, alice) -> None:
    url = f"/admin/auth/user/{alice.pk}/change/"
    assert agent.get(url).status_code == 200  # view only
    agent.post(url, {"username": "mallory@example.com"})
    alice.refresh_from_db()
    assert alice.username == "alice@example.com"
    assert agent.get("/admin/auth/user/add/").status_code == 403
    assert administrator.get("/admin/auth/user/add/").status_code == 200


def test_search_finds_orders_across_companies_by_number_account_or_reference(agent, seeded) -> None:
    page = _text(agent.get("/staff/orders/", {"q": "PO-1"}))
    assert "/staff/orders/usmf/US-001/000123/" in page
    sent = seeded.filters()[0]
    assert sent == (
        "SalesOrderNumber eq 'PO-1' or OrderingCustomerAccountNumber eq 'PO-1' or "
        "CustomersOrderReference eq '*PO-1*' or CustomerRequisitionNumber eq '*PO-1*'"
    )
    assert LookupAudit.objects.filter(channel="staff", kind="search").count() == 1


def test_staff_see_the_order_with_the_customers_own_template(agent, alice_client, seeded) -> None:
    customer = alice_client.get("/orders/usmf/000123/")
    staff = agent.get("/staff/orders/usmf/US-001/000123/")
    partial = "orders/web/partials/order.html"
    assert partial in [t.name for t in customer.templates]
    assert partial in [t.name for t in staff.templates]
    page = _text(staff)
    assert "SalesOrderProcessingStatus = Confirmed" in page  # the rule behind the wording
    assert "1900-01-01T12:00:00Z" in page  # raw values next to "Not yet confirmed"
    assert "Not yet confirmed" in page
    assert "cached copy (fresh)" in page  # the customer's lookup a moment ago filled the cache
    preview = agent.get("/staff/customer-view/usmf/US-001/000123/")
    assert "orders/web/detail.html" in [t.name for t in preview.templates]
    assert LookupAudit.objects.filter(channel="staff", kind="order", order_number="000123").count() == 2


def test_staff_order_shows_the_odata_requests_with_latency(agent, seeded) -> None:
    page = _text(agent.get("/staff/orders/usmf/US-001/000123/"))
    assert "F&O, read live now" in page
    for entity_set in ("SalesOrderHeadersV2", "PackingSlipTrackingInformation", "SalesInvoiceHeadersV2"):
        assert re.search(entity_set + r"</span></th><td>200</td><td class=\"num\">\d+</td>", page)


def test_staff_lookup_of_someone_elses_account_is_404(agent, seeded) -> None:
    assert agent.get("/staff/orders/usmf/US-002/000123/").status_code == 404


def test_a_reference_code_from_a_customer_page_replays_what_that_request_saw(agent, alice_client, seeded) -> None:
    response = alice_client.get("/orders/usmf/000123/")
    code = response["X-Reference"]
    assert code in _text(response)
    replay = agent.get(f"/staff/ref/{code}")
    assert replay.status_code == 200
    page = _text(replay)
    assert "alice@example.com" in page
    assert "HTTP 200" in page
    assert "miss: read live" in page
    assert "SalesOrderHeadersV2" in page
    assert "Order 000123" in page  # the snapshot, rendered with the customer's template
    assert "orders/web/partials/order.html" in [t.name for t in replay.templates]


def test_replay_of_an_outage_and_of_an_api_call(agent, alice, alice_client, fake_fno) -> None:
    fake_fno.script = [FakeFnO.respond(429, headers={"Retry-After": "30"})]
    failed = alice_client.get("/orders/")
    page = _text(agent.get(f"/staff/ref/{failed['X-Reference']}"))
    assert "F&O unavailable" in page
    assert "throttled" in page
    assert "HTTP 503" in page
    from orders.resilience.breaker import breaker_reset

    breaker_reset()
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    _, token = api_token_create(user=alice, name="phone")
    api = Client().get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.json()["results"]
    page = _text(agent.get(f"/staff/ref/{api['X-Reference']}"))
    assert "api list" in page
    assert token not in page


def test_unknown_reference_is_404(agent) -> None:
    assert agent.get("/staff/ref/ZZZZ-ZZZZ").status_code == 404


def test_purge_makes_the_next_customer_lookup_read_live(agent, alice_client, seeded) -> None:
    alice_client.get("/orders/usmf/000123/")
    calls = len(seeded.requests)
    alice_client.get("/orders/usmf/000123/")
    assert len(seeded.requests) == calls  # cached
    response = agent.post("/staff/purge/usmf/US-001/000123/")
    assert response.status_code == 302
    alice_client.get("/orders/usmf/000123/")
    assert len(seeded.requests) == 2 * calls
    assert LookupAudit.objects.filter(channel="web").order_by("-at").first().cache == "live"


def test_agent_may_purge_but_customer_links_need_an_administrator(agent, administrator) -> None:
    assert agent.get("/admin/orders/apitoken/").status_code == 200
    assert agent.get("/admin/orders/lookupaudit/").status_code == 200


def _user_form(user, *, company: str, account: str) -> dict[str, str]:
    return {
        "username": user.username, "email": user.email, "is_active": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "account_links-TOTAL_FORMS": "1", "account_links-INITIAL_FORMS": "0",
        "account_links-MIN_NUM_FORMS": "0", "account_links-MAX_NUM_FORMS": "1000",
        "account_links-0-company": company, "account_links-0-account": account,
    }


@pytest.mark.integration
def test_linking_an_account_f_and_o_does_not_have_is_refused(administrator, alice, live_fno) -> None:
    url = f"/admin/auth/user/{alice.pk}/change/"
    refused = administrator.post(url, _user_form(alice, company="usmf", account="US-999"))
    assert refused.status_code == 200
    assert "F&O has no customer account US-999 in company usmf" in _text(refused)
    assert not CustomerAccountLink.objects.filter(account="US-999").exists()
    accepted = administrator.post(url, _user_form(alice, company="demf", account="DE-002"))
    assert accepted.status_code == 302
    assert CustomerAccountLink.objects.filter(user=alice, company="demf", account="DE-002").exists()
    assert [r["entity_set"] for r in live_fno.requests()] == ["CustomersV3", "CustomersV3"]


def test_deactivate_users_revokes_their_tokens(administrator, alice) -> None:
    token, raw = api_token_create(user=alice, name="phone")
    response = administrator.post("/admin/auth/user/", {"action": "deactivate_users", "_selected_action": [alice.pk]})
    assert response.status_code == 302
    alice.refresh_from_db()
    token.refresh_from_db()
    assert not alice.is_active
    assert token.revoked_at is not None
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_health_page_shows_rates_breaker_and_token(agent, alice_client, fake_fno, settings) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    alice_client.get("/orders/usmf/000123/")
    fake_fno.script = [FakeFnO.respond(500)]
    alice_client.get("/orders/")
    from orders.audit import audit_flush

    audit_flush()
    assert FnoCall.objects.count() == 6  # the order: header, tracking, journal, journal lines, invoices; the list
    page = _text(agent.get("/staff/health/"))
    assert "SalesOrderHeadersV2" in page
    assert "closed: calls flow" in page
    assert "<svg" in page
    assert "no token is sent" in page
    settings.D365_BREAKER_FAILURES = 1
    fake_fno.script = [FakeFnO.respond(500)]
    alice_client.get("/orders/?q=x")
    assert "open: no calls for" in _text(agent.get("/staff/health/"))




def test_a_search_while_f_and_o_is_down_is_an_honest_page(agent, fake_fno) -> None:
    fake_fno.script = [FakeFnO.respond(503)] * 4
    response = agent.get("/staff/orders/", {"q": "PO-1"})
    assert response.status_code == 503
    assert "can't reach" in _text(response)
