"""Watching on the web (a plain POST form on the order page, the "Orders I watch" page) and in the API, against an
in-process F&O; what changed since the last look and the promised dates on the order page and in the API."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import jsonschema
import pytest
from django.test import Client

from orders.services import api_token_create
from portal.openapi import openapi_document
from tests.factories import order_row
from tests.fakes import FakeFnO
from watching.models import Watch, WatchedOrder

pytestmark = pytest.mark.django_db

SPEC = openapi_document()
ORDER_URL = "/orders/usmf/000123/"
WATCH_API = "/api/v1/orders/usmf/000123/watch"


def _validate(body: Any, path: str, method: str, status: int) -> None:
    content = SPEC["paths"][path][method]["responses"][str(status)]["content"]
    schema = next(iter(content.values()))["schema"]
    jsonschema.validate(body, {**schema, "components": SPEC["components"]}, cls=jsonschema.Draft202012Validator)


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _start(client: Client, number: str = "000123") -> Any:
    return client.post("/watches/change/", {"company": "usmf", "number": number, "action": "start"})


@pytest.fixture
def order(fake_fno: FakeFnO) -> FakeFnO:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001",
                                                      ConfirmedShippingDate="2026-12-12T12:00:00Z")]
    return fake_fno


def _api(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_order_page_offers_watching_as_a_form_and_watching_needs_no_javascript(alice_client, order) -> None:
    page = _text(alice_client.get(ORDER_URL))
    assert 'action="/watches/change/"' in page
    assert "Notify me of changes" in page
    response = _start(alice_client)
    assert response.status_code == 302
    assert response["Location"] == ORDER_URL
    watch = Watch.objects.select_related("order").get()
    assert (watch.order.company, watch.order.number, watch.order.account) == ("usmf", "000123", "US-001")
    assert watch.order.state["confirmed_ship_date"] == "2026-12-12"  # what the user was shown
    page = _text(alice_client.get(ORDER_URL))
    assert "You watch this order" in page
    assert "Stop notifying me" in page


def test_the_watch_control_is_part_of_the_page_with_the_pages_one_csrf_token(alice_client, order) -> None:
    page = alice_client.get(ORDER_URL).content.decode()
    forms = page.count("<form")
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
    # Rendered in the page's own context, not as a page of its own: the context processors run once and every form
    # of the page carries the one token masked for it.
    assert forms >= 2
    assert 'class="watch-control"' in page
    assert len(tokens) == 1


def test_whether_a_user_watches_an_order_is_theirs_alone_and_blind_to_the_numbers_case(alice, bob) -> None:
    from django.utils import timezone

    from watching.selectors import watch_exists

    watched = WatchedOrder.objects.create(company="usmf", number="SO-12a", account="US-001", state={},
                                          next_check_at=timezone.now())
    Watch.objects.create(user=alice, order=watched)
    assert watch_exists(user_id=alice.pk, company="usmf", number="SO-12a")
    assert watch_exists(user_id=alice.pk, company="usmf", number="so-12A")
    assert not watch_exists(user_id=alice.pk, company="demf", number="SO-12a")
    assert not watch_exists(user_id=alice.pk, company="usmf", number="SO-12")
    assert not watch_exists(user_id=bob.pk, company="usmf", number="SO-12a")


def test_another_customers_order_cannot_be_watched_on_the_web(bob_client, order) -> None:
    assert _start(bob_client).status_code == 404
    assert not Watch.objects.exists()
    assert not WatchedOrder.objects.exists()


def test_another_customers_order_cannot_be_watched_in_the_api(bob, order) -> None:
    token = api_token_create(user=bob, name="phone")[1]
    response = Client().post(WATCH_API, **_api(token))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert not Watch.objects.exists()
    assert not WatchedOrder.objects.exists()


def test_orders_i_watch_lists_them_and_stops_one(alice_client, order) -> None:
    _start(alice_client)
    page = _text(alice_client.get("/watches/"))
    assert 'href="/orders/usmf/000123/"' in page
    response = alice_client.post("/watches/change/", {"company": "usmf", "number": "000123", "action": "stop",
                                                      "back": "list"})
    assert response["Location"] == "/watches/"
    assert not Watch.objects.exists()
    assert "You watch no orders" in _text(alice_client.get("/watches/"))


def test_the_api_watches_lists_and_stops_watching(alice, order) -> None:
    headers = _api(api_token_create(user=alice, name="phone")[1])
    api = Client()
    created = api.post(WATCH_API, **headers)
    assert created.status_code == 201
    _validate(created.json(), "/api/v1/orders/{company}/{number}/watch", "post", 201)
    assert created.json()["url"] == "http://testserver/api/v1/orders/usmf/000123"
    assert api.post(WATCH_API, **headers).status_code == 200
    listed = api.get("/api/v1/watches", **headers)
    _validate(listed.json(), "/api/v1/watches", "get", 200)
    assert [w["number"] for w in listed.json()["results"]] == ["000123"]
    assert api.delete(WATCH_API, **headers).status_code == 204
    gone = api.delete(WATCH_API, **headers)
    assert gone.status_code == 404
    assert api.get("/api/v1/watches", **headers).json() == {"results": []}
    assert api.get(WATCH_API, **headers).status_code == 405


def test_what_changed_since_the_last_look_on_the_order_page(alice_client, order) -> None:
    first = _text(alice_client.get(ORDER_URL))
    assert "Since you last looked" not in first  # a first look has nothing to compare with
    assert "No changes since you last looked" not in first
    assert "No changes since you last looked" in _text(alice_client.get(ORDER_URL))
    order.rows["SalesOrderHeadersV2"][0]["ConfirmedShippingDate"] = "2026-12-19T12:00:00Z"
    alice_client.post(ORDER_URL)  # Refresh: read live
    changed = _text(alice_client.get(ORDER_URL))
    assert "Since you last looked" in changed
    assert "Confirmed ship date: Dec. 12, 2026 → Dec. 19, 2026" in changed
    assert "No changes since you last looked" in _text(alice_client.get(ORDER_URL))


def test_the_promised_dates_are_on_the_order_page_and_the_staff_page(alice_client, order) -> None:
    from orders.roles import AGENT
    from tests.factories import staff_client

    alice_client.get(ORDER_URL)
    order.rows["SalesOrderHeadersV2"][0]["ConfirmedShippingDate"] = "2026-12-19T12:00:00Z"
    alice_client.post(ORDER_URL)
    # The year is left out when it is this year's.
    history = re.compile(r"promised 12 Dec( 2026)? \(first seen [^)]+\), moved to 19 Dec( 2026)? \(seen [^)]+\)")
    assert history.search(_text(alice_client.get(ORDER_URL)))
    support = staff_client("support@example.com", AGENT)
    staff_page = _text(support.get("/staff/orders/usmf/US-001/000123/"))
    assert history.search(staff_page)
    assert "Since you last looked" not in staff_page


def test_a_cached_copy_records_no_promise_and_a_live_read_does(alice_client, order) -> None:
    from orders.models import PromiseDate

    alice_client.get(ORDER_URL)
    assert PromiseDate.objects.count() == 1
    order.rows["SalesOrderHeadersV2"][0]["ConfirmedShippingDate"] = "2026-12-19T12:00:00Z"
    alice_client.get(ORDER_URL)  # the copy, still fresh: F&O is not asked, nothing new is recorded
    assert PromiseDate.objects.count() == 1
    alice_client.post(ORDER_URL)
    assert list(PromiseDate.objects.order_by("first_seen_at").values_list("value", flat=True)) == [
        date(2026, 12, 12), date(2026, 12, 19)]
