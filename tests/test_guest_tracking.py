"""Guest order tracking (/track/): against the simulator over a real socket, and an in-process F&O where a test must
control exactly what F&O answers."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import unquote

import pytest
from django.core import signing
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from orders.fno_check import fno_check_run
from orders.models import LookupAudit
from simulator.server import Simulator
from tests.factories import order_row
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db

HEADERS = "SalesOrderHeadersV2"


@pytest.fixture(autouse=True)
def _guest_tracking_on(settings) -> None:
    settings.GUEST_TRACKING = True


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _tracked_order(sim: Simulator) -> dict[str, Any]:
    """A usmf order of US-001 that shipped with tracking numbers and has a reference, given an address, a name and
    prices that appear nowhere else, so the page can be searched for them."""
    tables = sim.state.dataset.tables
    tracked = {r["SalesOrderNumber"] for r in tables["PackingSlipTrackingInformation"] if r["dataAreaId"] == "usmf"}
    header = next(r for r in tables[HEADERS] if r["dataAreaId"] == "usmf" and r["SalesOrderNumber"] in tracked
                  and r["OrderingCustomerAccountNumber"] == "US-001" and r["CustomersOrderReference"])
    number = header["SalesOrderNumber"]
    sim.order_change("usmf", number, {
        "SalesOrderName": "Wexford Leakholm Trading",
        "DeliveryAddressName": "Wexford Receiving Dock",
        "DeliveryAddressStreet": "17 Quillon Row",
        "DeliveryAddressCity": "Marrowby",
        "DeliveryAddressZipCode": "QX7 5ZZ",
        "FormattedDelveryAddress": "17 Quillon Row\nQX7 5ZZ Marrowby\nGBR",
        "OrderTotalAmount": "98765.43",
        "AreTotalsCalculated": "Yes",
        "lines": [{"SalesPrice": "7777.71", "LineAmount": "8888.82"}],
    })
    parcels = [r["TrackingNumber"] for r in tables["PackingSlipTrackingInformation"]
               if (r["dataAreaId"], r["SalesOrderNumber"]) == ("usmf", number)]
    return {"number": number, "reference": header["CustomersOrderReference"], "parcels": parcels}


def _post(client: Client, number: str, verification: str, address: str = "203.0.113.7"):
    return client.post("/track/", {"order_number": number, "verification": verification}, REMOTE_ADDR=address)


def _found(client: Client, number: str, verification: str, address: str = "203.0.113.7") -> str:
    response = _post(client, number, verification, address)
    assert response.status_code == 303, _text(response)
    assert response["Location"].startswith("/track/order/?t=")
    return response["Location"]


def _normalised(response) -> bytes:
    """The body with what differs on every request whatever was asked: the masked CSRF token and the reference
    code for support."""
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b'name="csrfmiddlewaretoken" value=""',
                  response.content)
    return re.sub(rb'<span class="ref">[0-9A-Z]{4}-[0-9A-Z]{4}</span>', b'<span class="ref"></span>', body)


# Finding an order ------------------------------------------------------------------------------------------------


def test_a_guest_finds_an_order_by_number_and_postal_code(client: Client, live_fno: Simulator) -> None:
    order = _tracked_order(live_fno)
    live_fno.reset_log()
    link = _found(client, order["number"], "qx7 5zz")  # case ignored, as F&O ignores it
    [sent] = live_fno.requests()
    assert sent["entity_set"] == HEADERS
    assert sent["params"]["cross-company"] == "true"
    assert unquote(sent["params"]["$filter"]) == (
        f"SalesOrderNumber eq '{order['number']}' and (DeliveryAddressZipCode eq 'qx7 5zz' or "
        "DeliveryAddressZipCode eq 'QX7 5ZZ' or CustomersOrderReference eq 'qx7 5zz')"
    )
    response = client.get(link, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    page = _text(response)
    assert f"Order {order['number']}" in page
    assert 'class="badge badge-' in page
    for words in ("Progress", "Confirmed ship date", "Confirmed delivery date"):
        assert words in page
    assert order["parcels"]
    for parcel in order["parcels"]:
        assert re.search(rf'<a href="https://[^"]+{parcel}" rel="noopener noreferrer"', page), parcel
    assert link in page  # the bookmark


def test_a_guest_finds_an_order_by_their_own_reference(client: Client, live_fno: Simulator) -> None:
    order = _tracked_order(live_fno)
    link = _found(client, order["number"], f"  {order['reference'].lower()} ")
    assert client.get(link).status_code == 200


def test_the_guest_page_shows_no_price_address_name_or_account(client: Client, live_fno: Simulator) -> None:
    order = _tracked_order(live_fno)
    page = _text(client.get(_found(client, order["number"], "QX7 5ZZ")))
    tables = live_fno.state.dataset.tables
    invoices = [r for r in tables["SalesInvoiceHeadersV2"]
                if (r["dataAreaId"], r["SalesOrderNumber"]) == ("usmf", order["number"])]
    secrets = [
        "Wexford Leakholm Trading", "Wexford Receiving Dock", "17 Quillon Row", "Marrowby", "QX7 5ZZ", "US-001",
        order["reference"], "98,765.43", "98765.43", "7,777.71", "7777.71", "8,888.82", "8888.82", "USD",
        *(f"{r['TotalInvoiceAmount']:,}" for r in invoices), *(r["InvoiceNumber"] for r in invoices),
    ]
    assert "Order " + order["number"] in page
    assert [s for s in secrets if s.casefold() in page.casefold()] == []


def test_a_wrong_postal_code_and_an_unknown_number_get_the_same_answer(
    client: Client, live_fno: Simulator
) -> None:
    order = _tracked_order(live_fno)
    answers = []
    for number, fact in ((order["number"], "10115"), ("009999", "10115")):
        live_fno.reset_log()
        response = _post(client, number, fact)
        answers.append((response.status_code, response["Cache-Control"], _normalised(response),
                        live_fno.calls()))
    wrong_fact, unknown_number = answers
    assert wrong_fact == unknown_number
    assert wrong_fact[0] == 200
    assert wrong_fact[3] == {HEADERS: 1}  # the same single read for both
    page = wrong_fact[2].decode()
    assert "We could not find an order with that number" in html.unescape(page)
    assert order["number"] not in page  # the form comes back empty
    assert "10115" not in page


def test_f_and_o_down_is_the_unavailable_page_never_not_found(client: Client, live_fno: Simulator) -> None:
    live_fno.set_faults(status=503)
    response = _post(client, "001001", "92101")
    assert response.status_code == 503
    assert "We could not find" not in _text(response)
    assert LookupAudit.objects.get().outcome == "unavailable"


def test_one_number_in_two_companies_that_the_fact_cannot_tell_apart_is_not_found(
    client: Client, fake_fno: FakeFnO
) -> None:
    fake_fno.rows[HEADERS] = [
        order_row("usmf", "001042", "US-001", DeliveryAddressZipCode="10115"),
        order_row("demf", "001042", "DE-001", DeliveryAddressZipCode="10115"),
    ]
    response = _post(client, "001042", "10115")
    assert response.status_code == 200
    assert "We could not find" in _text(response)


def test_rows_f_and_o_returns_are_checked_against_the_fact_again(client: Client, fake_fno: FakeFnO) -> None:
    # This fake F&O ignores the $filter: whatever it sends back must still prove the number and the fact.
    fake_fno.rows[HEADERS] = [order_row("usmf", "001001", "US-001", DeliveryAddressZipCode="92101",
                                        CustomersOrderReference="PO-1")]
    assert "We could not find" in _text(_post(client, "001001", "92102"))
    assert "We could not find" in _text(_post(client, "001002", "92101"))
    assert _post(client, "001001", " 92101 ").status_code == 303


def test_the_fact_is_escaped_and_a_wildcard_never_reaches_f_and_o(client: Client, fake_fno: FakeFnO) -> None:
    _post(client, "001001", "O'Brien")
    assert "CustomersOrderReference eq 'O''Brien'" in fake_fno.filters()[0]
    fake_fno.requests.clear()
    for number, fact in (("001001", "9*"), ("00*", "92101"), ("001001", "x" * 61), ("001001", "a\x07b")):
        response = _post(client, number, fact)
        assert response.status_code == 200
        assert "We could not find" not in _text(response)
    assert fake_fno.requests == []


# Limits ----------------------------------------------------------------------------------------------------------


def test_the_sixth_try_from_one_address_is_refused(client: Client, live_fno: Simulator) -> None:
    order = _tracked_order(live_fno)
    for n in range(5):
        assert _post(client, f"00{n}999", "00000").status_code == 200
    live_fno.reset_log()
    refused = _post(client, order["number"], "QX7 5ZZ")  # even with the right postal code
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Please try again after" in _text(refused)
    assert live_fno.requests() == []
    assert _post(client, order["number"], "QX7 5ZZ", address="198.51.100.2").status_code == 303


def test_the_sixth_try_of_one_order_number_is_refused_from_any_address(client: Client, fake_fno: FakeFnO) -> None:
    for n in range(5):
        assert _post(client, "001001", f"0000{n}", address=f"198.51.100.{n + 1}").status_code == 200
    refused = _post(client, " 001001", "00009", address="198.51.100.99")  # the same number, spaced
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert _post(client, "001002", "00009", address="198.51.100.99").status_code == 200


def test_guest_reads_are_charged_to_a_budget_of_the_address(client: Client, fake_fno: FakeFnO, settings) -> None:
    settings.ORDERS_USER_BUDGET = (2, 60)
    assert _post(client, "001001", "11111").status_code == 200
    assert _post(client, "001002", "11111").status_code == 200
    over = _post(client, "001003", "11111")
    assert over.status_code == 429
    assert over["Retry-After"]
    assert len(fake_fno.requests) == 2


def test_each_try_is_audited(client: Client, fake_fno: FakeFnO) -> None:
    fake_fno.rows[HEADERS] = [order_row("usmf", "001001", "US-001", DeliveryAddressZipCode="92101")]
    _post(client, "001001", "92101")
    _post(client, "001001", "99999")
    _post(client, "001001", "*")
    audits = list(LookupAudit.objects.order_by("at", "id"))
    assert [(a.channel, a.kind, a.outcome, a.order_number, a.client_address) for a in audits] == [
        ("guest", "order", "ok", "001001", "203.0.113.7"),
        ("guest", "order", "not_found", "001001", "203.0.113.7"),
        ("guest", "order", "invalid", "001001", "203.0.113.7"),
    ]
    assert all("92101" not in str(a.query) and a.user_id is None for a in audits)


# The bookmarked link ---------------------------------------------------------------------------------------------


def test_the_bookmarked_link_shows_the_order_again_without_asking(client: Client, live_fno: Simulator) -> None:
    order = _tracked_order(live_fno)
    link = _found(client, order["number"], "QX7 5ZZ")
    later = Client()  # another visit: no session, no form
    for _ in range(7):  # more than the tries allowed: opening the link is not a try
        response = later.get(link, REMOTE_ADDR="203.0.113.7")
        assert response.status_code == 200
        assert f"Order {order['number']}" in _text(response)


def test_the_link_fails_after_it_expires(client: Client, live_fno: Simulator, settings, monkeypatch) -> None:
    order = _tracked_order(live_fno)
    settings.GUEST_LINK_DAYS = 30
    link = _found(client, order["number"], "QX7 5ZZ")
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + 29 * 86400)
    assert client.get(link).status_code == 200
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + 31 * 86400)
    live_fno.reset_log()
    response = client.get(link)
    assert response.status_code == 200
    page = _text(response)
    assert "This tracking link has expired" in page
    assert f"Order {order['number']}" not in page
    assert live_fno.requests() == []


def test_a_changed_link_is_refused(client: Client, live_fno: Simulator) -> None:
    order = _tracked_order(live_fno)
    link = _found(client, order["number"], "QX7 5ZZ")
    token = link.split("?t=", 1)[1]
    payload, timestamp, signature = token.split(":")
    other = signing.dumps(["usmf", "001002"], salt="another.salt", compress=True)  # signed, for something else
    live_fno.reset_log()
    for bad in (f"{payload}:{timestamp}:{signature[:-2]}xx", f"{payload}x:{timestamp}:{signature}", other, "",
                "x" * 400):
        response = client.get(f"/track/order/?t={bad}")
        assert response.status_code == 200
        page = _text(response)
        assert "This tracking link is not valid" in page
        assert f"Order {order['number']}" not in page
    assert live_fno.requests() == []
    assert list(LookupAudit.objects.filter(problem="link_invalid").values_list("channel", "outcome")) == [
        ("guest", "invalid")] * 5


def test_the_link_carries_company_and_number_only(client: Client, live_fno: Simulator) -> None:
    order = _tracked_order(live_fno)
    link = _found(client, order["number"], "QX7 5ZZ")
    assert signing.loads(link.split("?t=", 1)[1], salt="orders.guest.link") == ["usmf", order["number"]]


# The pages themselves ----------------------------------------------------------------------------------------------


def test_guest_pages_are_not_indexed_or_cached(client: Client, fake_fno: FakeFnO) -> None:
    fake_fno.rows[HEADERS] = [order_row("usmf", "001001", "US-001", DeliveryAddressZipCode="92101")]
    for response in (client.get("/track/"), _post(client, "001001", "00000"), _post(client, "001001", "92101")):
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in client.get("/track/").content.decode()


def test_the_form_needs_its_csrf_token(fake_fno: FakeFnO) -> None:
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/track/", {"order_number": "001001", "verification": "92101"}).status_code == 403
    form = browser.get("/track/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
    assert token is not None
    response = browser.post("/track/", {"order_number": "001001", "verification": "92101",
                                        "csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 200
    assert len(fake_fno.requests) == 1


def test_guest_tracking_is_off_unless_turned_on(client: Client, settings, fake_fno: FakeFnO) -> None:
    settings.GUEST_TRACKING = False
    assert client.get("/track/").status_code == 404
    assert _post(client, "001001", "92101").status_code == 404
    assert client.get("/track/order/?t=x").status_code == 404
    assert fake_fno.requests == []


def test_fno_check_checks_the_postal_code_field_when_guest_tracking_is_on(live_fno: Simulator, settings) -> None:
    report = fno_check_run()
    assert report.problems == ()
    assert any("DeliveryAddressZipCode" in r["params"].get("$select", "") for r in live_fno.requests())
    live_fno.set_faults(hide=["SalesOrderHeadersV2.DeliveryAddressZipCode"])
    assert [line.subject for line in fno_check_run().problems] == ["SalesOrderHeadersV2.DeliveryAddressZipCode"]
    settings.GUEST_TRACKING = False
    assert fno_check_run().problems == ()


_odd_text = st.one_of(
    st.text(max_size=70),
    st.sampled_from(["", " ", "*", "9*", "' or 1 eq 1", "O'Brien", "SO/2026/0001", "ü€😀", "\x00", "a\tb", "x" * 61,
                     "%2A", "DeliveryAddressZipCode eq '92101'", "{{ secret }}"]),
)


@hypothesis_settings(max_examples=200, derandomize=True, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(number=_odd_text, fact=_odd_text, token=_odd_text)
def test_whatever_a_guest_types_is_never_a_500(client: Client, fake_fno: FakeFnO, settings, number: str, fact: str,
                                               token: str) -> None:
    settings.GUEST_TRACKING_TRIES_PER_ADDRESS = settings.GUEST_TRACKING_TRIES_PER_ORDER = None
    settings.GUEST_TRACKING_TRIES_PER_FACT = None
    settings.ORDERS_USER_BUDGET = None
    settings.GUEST_TRACKING_READS_PER_MINUTE = 0
    fake_fno.rows[HEADERS] = [order_row("usmf", number or "001001", "US-001", DeliveryAddressZipCode=fact,
                                        CustomersOrderReference=fact)]
    assert _post(client, number, fact).status_code in (200, 303)
    assert client.get("/track/order/", {"t": token}).status_code == 200
