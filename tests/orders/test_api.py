"""The JSON API: tokens, access rules, freshness, ETags and problem details."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import jsonschema
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from orders.models import ApiToken
from orders.services import api_token_create, api_token_revoke
from portal.openapi import openapi_document
from tests.factories import order_row
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db
SPEC = openapi_document()


def _schema(name: str) -> dict:
    return {**SPEC["components"]["schemas"][name], "components": SPEC["components"]}


def _resolve(schema: dict) -> dict:
    return {**schema, "components": SPEC["components"]}


def _validate(body: dict, path: str, status: int = 200) -> None:
    responses = SPEC["paths"][path]["get"]["responses"]
    content = responses[str(status)]["content"]
    schema = next(iter(content.values()))["schema"]
    jsonschema.validate(body, _resolve(schema), cls=jsonschema.Draft202012Validator)


@pytest.fixture
def alice_token(alice) -> str:
    return api_token_create(user=alice, name="phone")[1]


@pytest.fixture
def bob_token(bob) -> str:
    return api_token_create(user=bob, name="tablet")[1]


def _get(path: str, token: str | None, **headers: str):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client().get(path, **headers)


def test_openapi_document_is_valid_openapi_3() -> None:
    validate(SPEC)
    served = Client().get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(SPEC))


def test_me_lists_the_users_accounts(alice_token: str) -> None:
    response = _get("/api/v1/me", alice_token)
    assert response.status_code == 200
    assert response.json() == {"email": "alice@example.com", "accounts": [{"company": "usmf", "account": "US-001"}]}
    _validate(response.json(), "/api/v1/me")


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic YWxpY2U6cHc=", "Token abc"])
def test_no_token_or_a_bad_token_is_401_with_www_authenticate(db, header) -> None:
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get("/api/v1/orders", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401
    assert body["code"] == "unauthorized"
    assert body["reference"] == response["X-Reference"]


def test_revoked_and_expired_tokens_are_401(alice, fake_fno) -> None:
    token, raw = api_token_create(user=alice, name="old phone")
    assert _get("/api/v1/me", raw).status_code == 200
    api_token_revoke(token=token)
    assert _get("/api/v1/me", raw).status_code == 401
    expired, raw2 = api_token_create(user=alice, name="t", expires_at=timezone.now() + timedelta(seconds=60))
    assert _get("/api/v1/me", raw2).status_code == 200
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    from orders.api_tokens import api_token_forget

    api_token_forget(token_hash=expired.token_hash)
    assert _get("/api/v1/me", raw2).status_code == 401


def test_token_is_stored_only_as_a_hash(alice) -> None:
    token, raw = api_token_create(user=alice, name="phone")
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in json.dumps(row, default=str)
    assert len(row["token_hash"]) == 64
    assert raw.startswith(row["prefix"])


def test_a_session_cookie_alone_does_not_authorize_the_api(alice_client, fake_fno) -> None:
    assert alice_client.get("/api/v1/orders").status_code == 401
    assert alice_client.get("/api/v1/me").status_code == 401


def test_order_list_shape_and_filters(alice_token, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    response = _get("/api/v1/orders?status=confirmed&q=PO-1&page_size=5", alice_token)
    assert response.status_code == 200
    body = response.json()
    _validate(body, "/api/v1/orders")
    [order] = body["results"]
    assert order["company"] == "usmf"
    assert order["status"] == "confirmed"
    assert order["status_label"] == "Confirmed"
    assert order["confirmed_ship_date"] is None  # F&O's 1900-01-01
    assert order["requested_ship_date"] == "2026-11-10"
    assert order["created_at"] == "2026-11-02T09:15:00Z"
    assert order["total"] == "150.50"
    assert body["stale"] is False
    assert body["page"] == 1
    assert "OrderingCustomerAccountNumber eq 'US-001'" in fake_fno.filters()[0]
    assert fake_fno.requests[0].url.params["$top"] == "5"


def test_next_link_when_more_pages(alice_token, fake_fno: FakeFnO) -> None:
    fake_fno.script = [FakeFnO.respond(200, {"@odata.count": 45, "value": [order_row("usmf", "1", "US-001")]})]
    body = _get("/api/v1/orders?page_size=20&status=open", alice_token).json()
    assert body["next"] == "http://testserver/api/v1/orders?page_size=20&status=open&page=2"
    assert body["count"] == 45


@pytest.mark.parametrize("query", ["page_size=101", "page=0", "status=Backorder", "from=yesterday", "colour=red"])
def test_invalid_parameters_are_400_problems(alice_token, fake_fno, query) -> None:
    response = _get(f"/api/v1/orders?{query}", alice_token)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameters"
    assert fake_fno.requests == []


def test_order_detail(alice_token, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.rows["PackingSlipTrackingInformation"] = [
        {"dataAreaId": "usmf", "SalesOrderNumber": "000123", "PackingSlipNumber": "PS-1",
         "DeliveryDate": "2026-11-05T12:00:00Z", "TrackingNumber": "1Z999", "TrackingURL": "https://ups.test/1Z999"},
    ]
    fake_fno.rows["CustPackingSlipJourBiEntities"] = [
        {"dataAreaId": "usmf", "PackingSlipId": "PS-1", "SalesId": "000123", "OrderAccount": "US-001",
         "DeliveryDate": "2026-11-05T12:00:00Z", "DlvMode": "Truck", "ShipCarrierId": "UPS"},
    ]
    fake_fno.rows["CustPackingSlipTransBiEntities"] = [
        {"dataAreaId": "usmf", "PackingSlipId": "PS-1", "SalesId": "000123", "LineNum": 1, "ItemId": "T0001",
         "Name": "Item 1", "Qty": 1, "Ordered": 2, "Remain": 1, "SalesUnit": "ea"},
    ]
    response = _get("/api/v1/orders/usmf/000123", alice_token)
    assert response.status_code == 200
    body = response.json()
    _validate(body, "/api/v1/orders/{company}/{number}")
    assert [line["amount"] for line in body["lines"]] == ["100.00", "50.50", "1000.00"]
    assert body["lines"][2]["status"] == "canceled"
    assert [(line["shipped_quantity"], line["remaining_quantity"]) for line in body["lines"]] == [
        ("1", "1"), ("0", "2"), ("0", "0")
    ]
    assert body["total"] == "150.50"
    assert body["total_kind"] == "lines_before_tax"
    assert body["shipments"] == [{
        "packing_slip_number": "PS-1", "shipped_on": "2026-11-05", "delivery_mode": "Truck", "carrier": "UPS",
        "tracking": [{"number": "1Z999", "url": "https://ups.test/1Z999"}],
        "lines": [{"line_number": "1", "item_number": "T0001", "description": "Item 1", "quantity": "1",
                   "unit": "ea"}],
    }]
    assert [step["code"] for step in body["timeline"]][:2] == ["placed", "confirmed"]
    assert response["Cache-Control"] == "private, max-age=30"
    assert "Authorization" in response["Vary"]


def test_customer_b_gets_404_for_customer_as_order(alice_token, bob_token, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    assert _get("/api/v1/orders/usmf/000123", alice_token).status_code == 200
    foreign = _get("/api/v1/orders/usmf/000123", bob_token)
    fake_fno.rows["SalesOrderHeadersV2"] = []
    missing = _get("/api/v1/orders/usmf/999999", bob_token)
    assert foreign.status_code == missing.status_code == 404
    strip = lambda r: {k: v for k, v in r.json().items() if k != "reference"}  # noqa: E731
    assert strip(foreign) == strip(missing)
    assert _get("/api/v1/orders/usmf/x'y", bob_token).status_code == 404


def test_etag_and_if_none_match(alice_token, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    first = _get("/api/v1/orders/usmf/000123", alice_token)
    etag = first["ETag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    again = _get("/api/v1/orders/usmf/000123", alice_token, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    other = _get("/api/v1/orders/usmf/000123", alice_token, HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200


def test_f_and_o_down_with_a_stale_copy_is_200_stale(alice_token, fake_fno: FakeFnO, settings) -> None:
    settings.ORDERS_CACHE_SECONDS = 0
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fresh = _get("/api/v1/orders/usmf/000123", alice_token).json()
    fake_fno.script = [FakeFnO.respond(503)] * 9
    response = _get("/api/v1/orders/usmf/000123", alice_token)
    assert response.status_code == 200
    body = response.json()
    assert body["stale"] is True
    assert body["as_of"] == fresh["as_of"]
    assert response["Cache-Control"] == "private, max-age=0"


@pytest.mark.parametrize(
    ("script", "status", "code", "retry_after"),
    [
        ([FakeFnO.respond(429, headers={"Retry-After": "12"})], 503, "upstream_throttled", "12"),
        ([FakeFnO.respond(503)] * 9, 503, "upstream_unavailable", None),
        ([FakeFnO.respond(401)] * 9, 503, "upstream_auth", None),
    ],
)
def test_f_and_o_down_without_a_copy_is_a_problem(alice_token, fake_fno, settings, script, status, code,
                                                  retry_after) -> None:
    # One cold lookup makes five reads in parallel; keep the breaker out of this mapping of failures to problems.
    settings.D365_BREAKER_FAILURES = 100
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.script = list(script)
    response = _get("/api/v1/orders/usmf/000123", alice_token)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.get("Retry-After") == retry_after
    _validate(response.json(), "/api/v1/orders/{company}/{number}", status)


def test_f_and_o_timeout_is_504(alice_token, fake_fno) -> None:
    import httpx

    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    fake_fno.script = [timeout]
    response = _get("/api/v1/orders", alice_token)
    assert response.status_code == 504
    assert response.json()["code"] == "upstream_timeout"


def test_per_token_rate_limit(alice_token, fake_fno, settings) -> None:
    settings.API_RATE_LIMIT = (3, 60)
    statuses = [_get("/api/v1/me", alice_token).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = _get("/api/v1/me", alice_token)
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["code"] == "rate_limited"


def test_rate_limit_can_be_turned_off(alice_token, fake_fno, settings) -> None:
    settings.API_RATE_LIMIT = None
    assert {_get("/api/v1/me", alice_token).status_code for _ in range(10)} == {200}


def test_unknown_api_path_is_a_problem(db) -> None:
    response = Client().get("/api/v1/nothing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_api_is_read_only(alice_token) -> None:
    response = Client().post("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert response.status_code == 405


def test_create_api_token_command_prints_a_working_token(alice, fake_fno) -> None:
    out = io.StringIO()
    call_command("create_api_token", "--email", "alice@example.com", "--name", "ci", stdout=out)
    raw = out.getvalue().strip()
    assert _get("/api/v1/me", raw).status_code == 200


def test_customers_manage_their_own_tokens(alice_client, alice, bob, fake_fno) -> None:
    page = alice_client.post("/account/tokens/", {"name": "Warehouse tablet", "expires_in_days": "30"})
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    import re

    raw = re.search(r'value="(fop_[^"]+)"', page.content.decode()).group(1)
    assert _get("/api/v1/me", raw).status_code == 200
    listing = alice_client.get("/account/tokens/").content.decode()
    assert "Warehouse tablet" in listing
    assert raw not in listing  # shown once only
    token = ApiToken.objects.get(user=alice)
    _bob_token, bob_raw = api_token_create(user=bob, name="bob")
    bob_token = ApiToken.objects.get(user=bob)
    assert alice_client.post(f"/account/tokens/{bob_token.pk}/revoke/").status_code == 404
    assert _get("/api/v1/me", bob_raw).status_code == 200
    assert alice_client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    assert _get("/api/v1/me", raw).status_code == 401
