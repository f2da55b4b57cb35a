"""Customer pages against an in-process F&O (httpx.MockTransport)."""

from __future__ import annotations

import html

import httpx
import pytest
from django.core import mail
from django.test import Client

from tests.factories import PASSWORD, make_customer, order_row
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db

US1 = "dataAreaId eq 'usmf' and OrderingCustomerAccountNumber eq 'US-001'"


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    for url in ("/orders/", "/orders/usmf/000123/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_list_filter_always_carries_the_users_account_and_company(alice_client, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    response = alice_client.get("/orders/", {"q": "PO-1", "status": "confirmed", "from": "2026-01-01"})
    assert response.status_code == 200
    [sent] = fake_fno.filters()
    assert sent.startswith(f"{US1} and (SalesOrderNumber eq 'PO-1' or ")
    assert "CustomersOrderReference eq '*PO-1*'" in sent
    assert "OrderCreationDateTime ge 2026-01-01T00:00:00Z" in sent
    request = fake_fno.requests[0]
    assert request.url.params["$orderby"] == "OrderCreationDateTime desc,SalesOrderNumber desc,dataAreaId asc"
    assert request.url.params["$count"] == "true"


def test_list_shows_customer_words_and_line_totals(alice_client, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [
        order_row("usmf", "000123", "US-001", SalesOrderProcessingStatus="Active"),
    ]
    page = _text(alice_client.get("/orders/"))
    assert "000123" in page
    assert "Received" in page  # F&O's "Backorder" is an open order, not a backorder
    assert "Backorder" not in page
    assert "150.50 USD" in page  # 100 + 50.5; the cancelled line and the 0 header total are left out


def test_several_accounts_and_companies_are_one_list_in_one_query(db, fake_fno: FakeFnO) -> None:
    user = make_customer("carla@example.com", "usmf:US-003", "demf:US-003", "usmf:US-009")
    client = Client()
    client.force_login(user)
    fake_fno.rows["SalesOrderHeadersV2"] = [
        order_row("usmf", "000001", "US-003"),
        order_row("demf", "000001", "US-003", CurrencyCode="EUR"),
    ]
    page = _text(client.get("/orders/"))
    assert len(fake_fno.requests) == 1
    assert fake_fno.filters()[0] == (
        "(dataAreaId eq 'demf' and OrderingCustomerAccountNumber eq 'US-003') or "
        "(dataAreaId eq 'usmf' and (OrderingCustomerAccountNumber eq 'US-003' or "
        "OrderingCustomerAccountNumber eq 'US-009'))"
    )
    assert "DEMF" in page
    assert "USMF" in page


def test_rows_of_other_customers_are_dropped_even_if_f_and_o_returns_them(alice_client, fake_fno) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [
        order_row("usmf", "000123", "US-001"),
        order_row("usmf", "000999", "US-002"),
        order_row("demf", "000777", "US-001"),
    ]
    page = _text(alice_client.get("/orders/", {"q": "000999"}))
    assert ">000123</a>" in page
    assert ">000999</a>" not in page
    assert ">000777</a>" not in page


def test_detail_reads_header_with_lines_then_documents(alice_client, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.rows["PackingSlipTrackingInformation"] = [
        {"dataAreaId": "usmf", "SalesOrderNumber": "000123", "PackingSlipNumber": "PS-1",
         "DeliveryDate": "2026-11-05T12:00:00Z", "TrackingNumber": "1Z999", "TrackingURL": "https://ups.test/1Z999"},
        {"dataAreaId": "usmf", "SalesOrderNumber": "000123", "PackingSlipNumber": "PS-2",
         "DeliveryDate": "2026-11-06T12:00:00Z", "TrackingNumber": "EVIL", "TrackingURL": "javascript:alert(1)"},
    ]
    fake_fno.rows["SalesInvoiceHeadersV2"] = [
        {"dataAreaId": "usmf", "InvoiceNumber": "CIV-1", "InvoiceDate": "2026-11-07T12:00:00Z",
         "SalesOrderNumber": "000123", "InvoiceCustomerAccountNumber": "US-001", "CurrencyCode": "USD",
         "TotalInvoiceAmount": 162.54, "TotalTaxAmount": 12.04},
    ]
    response = alice_client.get("/orders/usmf/000123/")
    assert response.status_code == 200
    page = _text(response)
    [header_filter] = _headers_only(fake_fno)
    document_filters = [f for f in fake_fno.filters() if f != header_filter]
    assert header_filter == f"{US1} and SalesOrderNumber eq '000123'"
    header_request = next(r for r in fake_fno.requests if "SalesOrderHeadersV2" in r.url.path)
    assert header_request.url.params["$expand"].startswith("SalesOrderLines($select=")
    assert sorted(document_filters) == [
        "dataAreaId eq 'usmf' and SalesId eq '000123'",  # the packing slip journal's lines
        "dataAreaId eq 'usmf' and SalesId eq '000123' and OrderAccount eq 'US-001'",  # the journal
        *["dataAreaId eq 'usmf' and SalesOrderNumber eq '000123'"] * 2,  # tracking numbers, invoices
    ]
    assert "Not yet confirmed" in page  # 1900-01-01 is F&O's empty date
    assert "1900" not in page
    assert '<a href="https://ups.test/1Z999"' in page
    assert "javascript:" not in page
    assert "PS-2" in page
    assert "CIV-1" in page
    assert "162.54 USD" in page
    assert "150.50 USD" in page
    assert "Contoso Receiving" in page
    assert "Truck" in page


def _headers_only(fno: FakeFnO) -> list[str]:
    return [f for r, f in zip(fno.requests, fno.filters(), strict=True) if "SalesOrderHeadersV2" in r.url.path]


@pytest.mark.parametrize("parallel", [True, False])
def test_another_customers_order_is_404(bob_client, fake_fno: FakeFnO, settings, parallel: bool) -> None:
    settings.D365_DOCUMENTS_IN_PARALLEL = parallel
    # Even if F&O ignored the filter and returned Alice's order, Bob must not see it.
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.rows["PackingSlipTrackingInformation"] = [
        {"dataAreaId": "usmf", "SalesOrderNumber": "000123", "PackingSlipNumber": "PS-ALICE",
         "DeliveryDate": "2026-11-05T12:00:00Z", "TrackingNumber": "1Z-ALICE", "TrackingURL": ""},
    ]
    response = bob_client.get("/orders/usmf/000123/")
    assert response.status_code == 404
    [header] = _headers_only(fake_fno)
    assert "US-002" in header
    assert "US-001" not in header
    # Sequential mode asks for no documents at all; parallel mode asks and throws the answers away.
    assert len(fake_fno.requests) == (5 if parallel else 1)
    page = _text(response)
    assert "000123" not in page
    assert "PS-ALICE" not in page
    from orders.models import LookupSnapshot

    assert not LookupSnapshot.objects.exists()  # nothing of Alice's was kept either


def test_not_yours_not_there_and_other_company_look_the_same(alice_client, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = []
    missing = alice_client.get("/orders/usmf/000404/")
    other_company = alice_client.get("/orders/demf/000404/")
    assert missing.status_code == other_company.status_code == 404
    import re

    strip = lambda r: re.sub(r'value="[^"]+"', "", _text(r).split("Reference for support")[0])  # noqa: E731
    assert strip(missing) == strip(other_company)
    assert len(_headers_only(fake_fno)) == 1  # no F&O call for a company the user has no account in


def test_an_order_number_with_a_quote_reaches_f_and_o_as_one_literal(alice_client, fake_fno: FakeFnO) -> None:
    # F&O number sequences may hold almost any character, so a quote is a valid (if odd) order number: it is sent
    # doubled inside one string literal and can never end the literal.
    assert alice_client.get("/orders/usmf/x'%20or%201%20eq%201/").status_code == 404
    header = _headers_only(fake_fno)[0]
    assert "SalesOrderNumber eq 'x'' or 1 eq 1'" in header


@pytest.mark.parametrize(
    "url",
    [
        "/orders/usmf/" + "9" * 200 + "/",
        "/orders/usmf/SO*/",
        "/orders/usmf/%20SO-1/",
        "/orders/USMF%27/000123/",
        "/orders/usmf/%00/",
    ],
)
def test_impossible_order_references_never_reach_f_and_o(alice_client, fake_fno: FakeFnO, url: str) -> None:
    assert alice_client.get(url).status_code == 404
    assert fake_fno.requests == []


@pytest.mark.parametrize("params", [{"q": "x" * 61}, {"status": "Backorder"}, {"from": "2026-13-01"}, {"page": "-1"},
                                    {"q": "bad\x00char"}])
def test_bad_list_parameters_are_400_without_an_f_and_o_call(alice_client, fake_fno, params) -> None:
    response = alice_client.get("/orders/", params)
    assert response.status_code == 400
    assert fake_fno.requests == []


def test_cache_serves_repeat_lookups_and_keys_separate_accounts(alice_client, bob_client, fake_fno) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    alice_client.get("/orders/")
    alice_client.get("/orders/")
    assert len(fake_fno.requests) == 1
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000555", "US-002")]
    page = _text(bob_client.get("/orders/"))
    assert len(fake_fno.requests) == 2  # same filters, other account: never Alice's copy
    assert "000555" in page
    assert "000123" not in page


def test_refresh_reads_live_and_is_rate_limited(alice_client, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    alice_client.get("/orders/usmf/000123/")
    calls = len(fake_fno.requests)
    response = alice_client.post("/orders/usmf/000123/")
    assert response.status_code == 302
    assert len(fake_fno.requests) == 2 * calls
    for _ in range(10):
        alice_client.post("/orders/usmf/000123/")
    assert len(fake_fno.requests) < 2 * calls + 10 * calls
    followed = alice_client.post("/orders/usmf/000123/", follow=True)
    assert "Please wait a minute" in _text(followed)


def test_stale_copy_is_shown_with_its_banner_when_f_and_o_fails(alice_client, fake_fno, settings) -> None:
    settings.ORDERS_CACHE_SECONDS = 0
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    assert alice_client.get("/orders/usmf/000123/").status_code == 200
    fake_fno.script = [FakeFnO.respond(503)] * 10  # every read of a lookup (five) and its retry
    response = alice_client.get("/orders/usmf/000123/")
    assert response.status_code == 200
    page = _text(response)
    assert "We can't reach our order system right now." in page
    assert "This is the status as of" in page
    assert "000123" in page


def test_no_stale_copy_after_the_stale_window(alice_client, fake_fno, settings) -> None:
    settings.ORDERS_CACHE_SECONDS = 0
    settings.ORDERS_STALE_SECONDS = 0
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    alice_client.get("/orders/usmf/000123/")
    fake_fno.script = [FakeFnO.respond(503)] * 10
    assert alice_client.get("/orders/usmf/000123/").status_code == 503


def _raise(exc_type):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("boom", request=request)

    return handler


@pytest.mark.parametrize(
    ("script", "status", "retry_after", "words"),
    [
        ([FakeFnO.respond(429, headers={"Retry-After": "37"})], 503, "37", "busy"),
        ([FakeFnO.respond(503, headers={"Retry-After": "5"})] * 9, 503, "5", "can't reach"),
        ([FakeFnO.respond(500)], 503, None, "can't reach"),
        ([_raise(httpx.ReadTimeout)], 504, None, "taking too long"),
        ([_raise(httpx.ConnectError)] * 9, 503, None, "can't reach"),
        ([FakeFnO.respond(401)] * 9, 503, None, "can't sign in"),
        ([lambda r: httpx.Response(200, content=b"{not json")], 502, None, "couldn't read"),
    ],
)
def test_each_failure_kind_has_its_status_page_and_retry_after(
    alice_client, fake_fno, settings, script, status, retry_after, words
) -> None:
    settings.D365_DOCUMENTS_IN_PARALLEL = False  # the scripted faults meet the calls in a fixed order
    # The order exists: whichever of the detail's parallel calls meets the fault, the lookup fails with it.
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    for url in ("/orders/", "/orders/usmf/000123/"):
        from orders.resilience.breaker import breaker_reset

        breaker_reset()
        fake_fno.script = list(script)
        response = alice_client.get(url)
        assert response.status_code == status
        assert response.get("Retry-After") == retry_after
        page = _text(response)
        assert words in page
        assert response["X-Reference"] in page
        assert "not found" not in page.lower()
        assert "Traceback" not in page


def test_sign_in_list_and_sign_out(alice, client: Client, fake_fno: FakeFnO) -> None:
    response = client.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/orders/"
    assert client.get("/orders/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/orders/").status_code == 302


def test_repeated_failed_sign_ins_lock_out_with_a_clear_message(alice, client: Client) -> None:
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice@example.com", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in _text(response)


def test_password_reset_sends_an_email(alice, client: Client) -> None:
    response = client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/" in mail.outbox[0].body


def test_password_change(alice_client: Client) -> None:
    response = alice_client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "another-long-passphrase-42", "new_password2":
         "another-long-passphrase-42"},
    )
    assert response.status_code == 302


def test_404_and_500_pages_are_the_portals_own(alice_client, fake_fno) -> None:
    page = _text(alice_client.get("/no/such/page/"))
    assert "We couldn't find that page or order" in page
    from django.template.loader import render_to_string

    assert "Something went wrong on our side" in render_to_string("500.html")


def test_control_characters_in_the_url_are_audited_safely(alice_client, fake_fno) -> None:
    from orders.models import LookupAudit

    assert alice_client.get("/orders/usmf/%00x/").status_code == 404
    record = LookupAudit.objects.get()
    assert "\x00" not in record.path
    assert record.outcome == "invalid"


def test_reference_codes_are_short_readable_and_unique() -> None:
    import re

    from orders.middleware import reference_code_new

    codes = {reference_code_new() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", c) for c in codes)
