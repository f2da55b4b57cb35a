"""Shipments are packing slips: read from F&O's packing slip journal with their tracking numbers and contents, and
per order line what has shipped and what is still to come."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.test import Client

from orders import d365
from orders.documents import PackingSlip, PackingSlipLine, PackingSlipTracking, _safe_url
from orders.odata.auth import StaticTokenProvider
from orders.records import OrderLine
from orders.services import api_token_create
from orders.shipments import deliveries_from
from tests.factories import line_row, make_customer, order_row
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db

JOURNAL = "CustPackingSlipJourBiEntities"
JOURNAL_LINES = "CustPackingSlipTransBiEntities"
TRACKING = "PackingSlipTrackingInformation"


def slip(number: str, slip_id: str, day: str, *, account: str = "US-001", mode: str = "Truck",
         carrier: str = "UPS") -> dict[str, Any]:
    return {"dataAreaId": "usmf", "SourceDocumentHeader": 1, "PackingSlipId": slip_id, "SalesId": number,
            "OrderAccount": account, "DeliveryDate": f"{day}T12:00:00Z", "DlvMode": mode, "ShipCarrierId": carrier}


def slip_line(number: str, slip_id: str, n: int, qty: float, *, item: str | None = None, remain: float = 0,
              ordered: float = 2) -> dict[str, Any]:
    return {"dataAreaId": "usmf", "SourceDocumentLine": 1, "PackingSlipId": slip_id, "SalesId": number,
            "LineNum": n, "ItemId": item or f"T000{n}", "Name": f"Item {n}", "Qty": qty, "Ordered": ordered,
            "Remain": remain, "SalesUnit": "ea"}


def parcel(number: str, slip_id: str, day: str, tracking: str, url: str | None = None) -> dict[str, Any]:
    return {"dataAreaId": "usmf", "SalesOrderNumber": number, "PackingSlipNumber": slip_id,
            "DeliveryDate": f"{day}T12:00:00Z", "TrackingNumber": tracking,
            "TrackingURL": f"https://ups.test/{tracking}" if url is None else url}


def _text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def alice_token(alice) -> str:
    return api_token_create(user=alice, name="phone")[1]


def _api(path: str, token: str) -> dict[str, Any]:
    response = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    return response.json()


def _shipments_section(page: str) -> str:
    return page.split('id="shipments-h"', 1)[1].split('id="invoices-h"', 1)[0]


def _cells(page: str, css: str) -> list[str]:
    return [re.sub(r"\s+", " ", c).strip() for c in re.findall(rf'<td class="num {css}"[^>]*>(.*?)</td>', page, re.S)]


def test_one_packing_slip_with_three_tracking_numbers_is_one_shipment(alice_client, alice_token, fake_fno) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.rows[JOURNAL] = [slip("000123", "PS-1", "2026-11-05")]
    fake_fno.rows[JOURNAL_LINES] = [slip_line("000123", "PS-1", 1, 2)]
    fake_fno.rows[TRACKING] = [parcel("000123", "PS-1", "2026-11-05", t) for t in ("1Z1", "1Z2", "1Z3")]

    body = _api("/api/v1/orders/usmf/000123", alice_token)
    assert body["shipments"] == [{
        "packing_slip_number": "PS-1", "shipped_on": "2026-11-05", "delivery_mode": "Truck", "carrier": "UPS",
        "tracking": [{"number": t, "url": f"https://ups.test/{t}"} for t in ("1Z1", "1Z2", "1Z3")],
        "lines": [{"line_number": "1", "item_number": "T0001", "description": "Item 1", "quantity": "2",
                   "unit": "ea"}],
    }]
    assert [(x["shipped_quantity"], x["remaining_quantity"]) for x in body["lines"]] == [
        ("2", "0"), ("0", "2"), ("0", "0")  # the third line is cancelled: nothing is still to come
    ]
    shipped_step = next(s for s in body["timeline"] if s["code"] == "shipped")
    assert shipped_step["detail"] == "1 shipment"

    page = _text(alice_client.get("/orders/usmf/000123/"))
    shipments = _shipments_section(page)
    assert shipments.count("Packing slip PS-1") == 1
    assert shipments.count('<li class="shipment">') == 1
    for t in ("1Z1", "1Z2", "1Z3"):
        assert f'<a href="https://ups.test/{t}"' in shipments
    assert _cells(page, "shipped") == ["2 ea", "0 ea", "0 ea"]
    assert _cells(page, "remaining") == ["0 ea", "2 ea", "0 ea"]


def test_two_packing_slips_are_two_shipments_with_their_own_items(alice_client, alice_token, fake_fno) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.rows[JOURNAL] = [slip("000123", "PS-2", "2026-11-08", carrier="FedEx"),
                              slip("000123", "PS-1", "2026-11-05")]
    fake_fno.rows[JOURNAL_LINES] = [
        slip_line("000123", "PS-1", 1, 1, remain=1), slip_line("000123", "PS-1", 2, 1.5, remain=0.5),
        slip_line("000123", "PS-2", 1, 1),
    ]
    fake_fno.rows[TRACKING] = [parcel("000123", "PS-1", "2026-11-05", "1Z1"),
                               parcel("000123", "PS-2", "2026-11-08", "FX9")]

    body = _api("/api/v1/orders/usmf/000123", alice_token)
    assert [s["packing_slip_number"] for s in body["shipments"]] == ["PS-1", "PS-2"]  # oldest first
    assert [[(i["item_number"], i["quantity"]) for i in s["lines"]] for s in body["shipments"]] == [
        [("T0001", "1"), ("T0002", "1.5")], [("T0001", "1")]
    ]
    assert [[t["number"] for t in s["tracking"]] for s in body["shipments"]] == [["1Z1"], ["FX9"]]
    assert body["shipments"][1]["carrier"] == "FedEx"
    assert [(x["shipped_quantity"], x["remaining_quantity"]) for x in body["lines"][:2]] == [
        ("2", "0"), ("1.5", "0.5")
    ]
    assert next(s for s in body["timeline"] if s["code"] == "shipped")["detail"] == "2 shipments"

    page = _text(alice_client.get("/orders/usmf/000123/"))
    assert _shipments_section(page).count('<li class="shipment">') == 2
    assert _cells(page, "shipped")[:2] == ["2 ea", "1.500 ea"]  # the portal's quantity filter: 3 places


def test_a_delivered_order_whose_slip_has_no_tracking_row_shows_that_slip(alice_client, alice_token, fake_fno) -> None:
    delivered = [line_row("usmf", "000124", n, amount=10, status="Delivered") for n in (1, 2)]
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row(
        "usmf", "000124", "US-001", SalesOrderStatus="Delivered", SalesOrderProcessingStatus="Delivered",
        SalesOrderLines=delivered)]
    fake_fno.rows[JOURNAL] = [slip("000124", "PS-7", "2026-11-06", mode="Pickup", carrier="")]
    fake_fno.rows[JOURNAL_LINES] = [slip_line("000124", "PS-7", 1, 2), slip_line("000124", "PS-7", 2, 2)]
    fake_fno.rows[TRACKING] = []

    body = _api("/api/v1/orders/usmf/000124", alice_token)
    [shipment] = body["shipments"]
    assert shipment["packing_slip_number"] == "PS-7"
    assert shipment["tracking"] == []
    assert shipment["carrier"] is None
    assert shipment["delivery_mode"] == "Pickup"
    assert [x["remaining_quantity"] for x in body["lines"]] == ["0", "0"]
    shipped_step = next(s for s in body["timeline"] if s["code"] == "shipped")
    assert (shipped_step["state"], shipped_step["detail"]) == ("done", "1 shipment")

    page = _text(alice_client.get("/orders/usmf/000124/"))
    shipments = _shipments_section(page)
    assert "Packing slip PS-7" in shipments
    assert "No tracking number" in shipments
    assert "Not shipped yet" not in page
    assert re.search(r"<dt>Carrier</dt><dd>—</dd>", shipments)


def test_a_journal_line_that_fits_no_order_line_makes_the_line_figures_unknown(
    alice_client, alice_token, fake_fno
) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.rows[JOURNAL] = [slip("000123", "PS-1", "2026-11-05")]
    # Line 1 of the journal names another item than the order's line 1.
    fake_fno.rows[JOURNAL_LINES] = [slip_line("000123", "PS-1", 1, 2, item="X9999")]
    fake_fno.rows[TRACKING] = [parcel("000123", "PS-1", "2026-11-05", "1Z1")]

    body = _api("/api/v1/orders/usmf/000123", alice_token)
    assert {(x["shipped_quantity"], x["remaining_quantity"]) for x in body["lines"]} == {(None, None)}
    # An item that is not a line of this order is never shown: it may be another order's, on a summary slip.
    assert body["shipments"][0]["lines"] is None

    page = _text(alice_client.get("/orders/usmf/000123/"))
    assert _cells(page, "shipped") == ["unknown"] * 3
    assert _cells(page, "remaining") == ["unknown"] * 3
    assert "do not match this order's lines" in page


def test_item_numbers_match_without_regard_to_case_or_stored_spaces() -> None:
    lines = [OrderLine.from_odata(line_row("usmf", "1", 1, amount=10))]  # ItemNumber "  T0001"
    journal_line = PackingSlipLine.from_odata(slip_line("1", "PS-1", 1, 1, item=" t0001"))
    header = PackingSlip.from_odata(slip("1", "PS-1", "2026-11-05"))
    deliveries = deliveries_from(lines=lines, tracking=[], slips=[header], slip_lines=[journal_line])
    assert (deliveries.lines[0].shipped, deliveries.lines[0].remaining) == (Decimal(1), Decimal(1))


class _WithoutJournal(FakeFnO):
    """A site that does not expose the journal entities: 404 for the sets (or `status` for every journal read)."""

    status: int = 404

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if any(name in request.url.path for name in (JOURNAL, JOURNAL_LINES)):
            self.requests.append(request)
            message = "Resource not found for the segment." if self.status == 404 else "Could not find a property."
            return httpx.Response(self.status, json={"error": {"code": "", "message": "An error has occurred.",
                                                               "innererror": {"message": message}}})
        return super().__call__(request)


@pytest.fixture
def fno_without_journal():
    fno = _WithoutJournal()
    d365.set_odata_client(d365.build_odata_client(transport=httpx.MockTransport(fno), tokens=StaticTokenProvider()))
    yield fno
    d365.set_odata_client(None)


@pytest.mark.parametrize("status", [404, 400])
def test_without_the_journal_sets_shipments_come_from_tracking_rows(
    alice_client, alice_token, fno_without_journal, status
) -> None:
    fno_without_journal.status = status
    fno_without_journal.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fno_without_journal.rows[TRACKING] = [
        parcel("000123", "PS-1", "2026-11-05", "1Z1"), parcel("000123", "PS-1", "2026-11-05", "1Z2"),
        parcel("000123", "PS-2", "2026-11-07", "1Z3"),
    ]
    body = _api("/api/v1/orders/usmf/000123", alice_token)
    shown = [(s["packing_slip_number"], [t["number"] for t in s["tracking"]], s["lines"]) for s in body["shipments"]]
    assert shown == [("PS-1", ["1Z1", "1Z2"], None), ("PS-2", ["1Z3"], None)]
    assert {(x["shipped_quantity"], x["remaining_quantity"]) for x in body["lines"]} == {(None, None)}

    page = _text(alice_client.get("/orders/usmf/000123/"))
    shipments = _shipments_section(page)
    assert shipments.count('<li class="shipment">') == 2
    assert shipments.count("What was in this shipment is not available") == 2
    assert "is not available from our order system" in page.split('id="shipments-h"')[0]

    # The site's answer is remembered: the next cold lookup does not ask for the journal again.
    journal_calls = sum(1 for r in fno_without_journal.requests if JOURNAL in r.url.path)
    from orders.services import order_cache_purge

    order_cache_purge(company="usmf", account="US-001", number="000123")
    _api("/api/v1/orders/usmf/000123", alice_token)
    assert sum(1 for r in fno_without_journal.requests if JOURNAL in r.url.path) == journal_calls


def test_other_failures_of_the_journal_read_are_not_taken_for_a_missing_journal(alice_token, fake_fno) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]

    def handler(request: httpx.Request) -> httpx.Response:
        if JOURNAL in request.url.path:
            return httpx.Response(403)
        return httpx.Response(200, json={"value": fake_fno.rows.get(request.url.path.split("/data/")[1], [])})

    d365.set_odata_client(d365.build_odata_client(transport=httpx.MockTransport(handler),
                                                  tokens=StaticTokenProvider()))
    response = Client().get("/api/v1/orders/usmf/000123", HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert response.status_code == 503
    assert response.json()["code"] == "upstream_auth"


def test_journal_reads_are_scoped_by_company_order_and_account(alice_token, fake_fno) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    _api("/api/v1/orders/usmf/000123", alice_token)
    by_set = {r.url.path.rsplit("/", 1)[1]: f for r, f in zip(fake_fno.requests, fake_fno.filters(), strict=True)}
    assert by_set[JOURNAL] == "dataAreaId eq 'usmf' and SalesId eq '000123' and OrderAccount eq 'US-001'"
    assert by_set[JOURNAL_LINES] == "dataAreaId eq 'usmf' and SalesId eq '000123'"
    selects = {r.url.path.rsplit("/", 1)[1]: r.url.params["$select"] for r in fake_fno.requests}
    assert selects[JOURNAL] == ",".join(PackingSlip.FIELDS)
    assert selects[JOURNAL_LINES] == ",".join(PackingSlipLine.FIELDS)


@pytest.mark.parametrize("parallel", [True, False])
def test_another_customers_packing_slips_are_never_shown(db, fake_fno, settings, parallel: bool) -> None:
    settings.D365_DOCUMENTS_IN_PARALLEL = parallel
    bob = make_customer("bob@example.com", "usmf:US-002")
    token = api_token_create(user=bob, name="phone")[1]
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.rows[JOURNAL] = [slip("000123", "PS-ALICE", "2026-11-05")]
    fake_fno.rows[JOURNAL_LINES] = [slip_line("000123", "PS-ALICE", 1, 2)]
    response = Client().get("/api/v1/orders/usmf/000123", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 404
    assert b"PS-ALICE" not in response.content
    # Sequential mode reads no document before the header proves the order is the customer's.
    assert len(fake_fno.requests) == (5 if parallel else 1)


def test_journal_lines_of_a_slip_outside_the_account_scoped_read_are_not_shown() -> None:
    lines = [OrderLine.from_odata(line_row("usmf", "1", 1, amount=10))]
    deliveries = deliveries_from(
        lines=lines,
        tracking=[PackingSlipTracking.from_odata(parcel("1", "PS-9", "2026-11-05", "1Z9"))],
        slips=[],
        slip_lines=[PackingSlipLine.from_odata(slip_line("1", "PS-9", 1, 2))],
    )
    [shipment] = deliveries.shipments  # the tracking row still shows as a shipment
    assert shipment.packing_slip_number == "PS-9"
    assert shipment.items is None
    assert deliveries.lines[0].shipped is None


def test_a_read_that_may_have_been_cut_off_gives_unknown_figures() -> None:
    lines = [OrderLine.from_odata(line_row("usmf", "1", 1, amount=10))]
    deliveries = deliveries_from(
        lines=lines, tracking=[], slips=[PackingSlip.from_odata(slip("1", "PS-1", "2026-11-05"))],
        slip_lines=[PackingSlipLine.from_odata(slip_line("1", "PS-1", 1, 1))], complete=False,
    )
    assert deliveries.shipments[0].items is not None
    assert deliveries.lines[0].shipped is None


def test_a_line_with_its_remainder_cancelled_has_nothing_still_to_come() -> None:
    # F&O marks a line Delivered when the rest of it is cancelled; the order line still says 2 were ordered.
    lines = [OrderLine.from_odata(line_row("usmf", "1", 1, amount=10, status="Delivered"))]
    deliveries = deliveries_from(
        lines=lines, tracking=[], slips=[PackingSlip.from_odata(slip("1", "PS-1", "2026-11-05"))],
        slip_lines=[PackingSlipLine.from_odata(slip_line("1", "PS-1", 1, 1, remain=1))],
    )
    assert (deliveries.lines[0].shipped, deliveries.lines[0].remaining) == (Decimal(1), Decimal(0))


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://ups.test/1Z1", True),
        ("HTTP://ups.test/1Z1", True),
        ("javascript:alert(1)", False),
        ("http://[x", False),
        ("http:///nohost", False),
        ("ftp://ups.test/1Z1", False),
        ("//ups.test/1Z1", False),
    ],
)
def test_only_http_links_become_tracking_links(url: str, kept: bool) -> None:
    assert (_safe_url(url) == url) is kept
    assert _safe_url(url) in (url, "")


def test_unsafe_and_unparsable_tracking_urls_show_as_plain_text(alice_client, alice_token, fake_fno) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.rows[JOURNAL] = [slip("000123", "PS-1", "2026-11-05")]
    fake_fno.rows[JOURNAL_LINES] = [slip_line("000123", "PS-1", 1, 2)]
    fake_fno.rows[TRACKING] = [parcel("000123", "PS-1", "2026-11-05", "EVIL", "javascript:alert(1)"),
                               parcel("000123", "PS-1", "2026-11-05", "ODD", "http://[x")]
    body = _api("/api/v1/orders/usmf/000123", alice_token)
    assert body["shipments"][0]["tracking"] == [{"number": "EVIL", "url": None}, {"number": "ODD", "url": None}]
    page = _text(alice_client.get("/orders/usmf/000123/"))
    shipments = _shipments_section(page)
    assert "EVIL" in shipments
    assert "ODD" in shipments
    assert "javascript:" not in page
    assert "<a href" not in shipments


@pytest.mark.parametrize(
    ("fields", "total", "kind", "label"),
    [
        ({"AreTotalsCalculated": "Yes", "OrderTotalAmount": 172.63}, "172.63", "order_total",
         "Order total (incl. tax and charges)"),
        ({"AreTotalsCalculated": "No", "OrderTotalAmount": 0}, "150.50", "lines_before_tax",
         "Items total (before tax and charges)"),
    ],
)
def test_totals_say_what_they_are(alice_client, alice_token, fake_fno, fields, total, kind, label) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001", **fields)]
    body = _api("/api/v1/orders/usmf/000123", alice_token)
    assert (body["total"], body["total_kind"]) == (total, kind)
    page = _text(alice_client.get("/orders/usmf/000123/"))
    assert re.search(rf"<dt>{re.escape(label)}</dt><dd class=\"order-total\">{re.escape(total)} USD</dd>", page)
    # The items table still adds up its own lines, whatever the order total is.
    assert "Items total (cancelled items excluded, before tax and charges)" in page
    assert "150.50 USD" in page


# Against the simulator over a real socket ----------------------------------------------------------------------

def _demo_orders() -> dict[str, tuple[str, str, str]]:
    """(company, account, number) of demo orders for each case, found in the simulator's own data."""
    from simulator import data

    tables = data.build().tables
    parcels: dict[tuple[str, str], int] = {}
    for r in tables[TRACKING]:
        key = (r["dataAreaId"], r["PackingSlipNumber"])
        parcels[key] = parcels.get(key, 0) + 1
    slips: dict[tuple[str, str], list[str]] = {}
    for r in tables[JOURNAL]:
        slips.setdefault((r["dataAreaId"], r["SalesId"]), []).append(r["PackingSlipId"])
    headers = {(r["dataAreaId"], r["SalesOrderNumber"]): r for r in tables["SalesOrderHeadersV2"]}
    found: dict[str, tuple[str, str, str]] = {}
    for (company, number), ids in sorted(slips.items()):
        header = headers[(company, number)]
        counts = [parcels.get((company, i), 0) for i in ids]
        case = ("three_parcels" if counts == [3] else "two_slips" if len(ids) == 2
                else "untracked_delivered" if counts == [0] and header["SalesOrderStatus"] == "Delivered" else None)
        if case and case not in found and number != "001042":
            found[case] = (company, header["OrderingCustomerAccountNumber"], number)
    return found


def _expected_progress(company: str, number: str) -> list[tuple[Decimal, Decimal]]:
    from simulator import data

    tables = data.build().tables
    shipped: dict[Decimal, Decimal] = {}
    for r in tables[JOURNAL_LINES]:
        if (r["dataAreaId"], r["SalesId"]) == (company, number):
            shipped[Decimal(r["LineNum"])] = shipped.get(Decimal(r["LineNum"]), Decimal(0)) + Decimal(r["Qty"])
    out = []
    for line in sorted((r for r in tables["SalesOrderLines"]
                        if (r["dataAreaId"], r["SalesOrderNumber"]) == (company, number)),
                       key=lambda r: r["LineNumber"]):
        done = shipped.get(Decimal(line["LineNumber"]), Decimal(0))
        rest = Decimal(0) if line["SalesOrderLineStatus"] in ("Delivered", "Invoiced", "Canceled") else (
            Decimal(line["OrderedSalesQuantity"]) - done)
        out.append((done, rest))
    return out


def _customer_for(company: str, account: str) -> tuple[Client, str]:
    user = make_customer(f"{account.lower()}.{company}@example.com", f"{company}:{account}")
    client = Client()
    client.force_login(user)
    return client, api_token_create(user=user, name="phone")[1]


@pytest.mark.integration
@pytest.mark.parametrize(("case", "slips", "parcels"),
                         [("three_parcels", 1, [3]), ("two_slips", 2, None), ("untracked_delivered", 1, [0])])
def test_simulator_orders_show_one_shipment_per_packing_slip(live_fno, case, slips, parcels) -> None:
    company, account, number = _demo_orders()[case]
    client, token = _customer_for(company, account)
    body = _api(f"/api/v1/orders/{company}/{number}", token)
    assert len(body["shipments"]) == slips
    if parcels is not None:
        assert [len(s["tracking"]) for s in body["shipments"]] == parcels
    assert all(s["lines"] for s in body["shipments"])
    assert [(Decimal(x["shipped_quantity"]), Decimal(x["remaining_quantity"])) for x in body["lines"]] == (
        _expected_progress(company, number)
    )
    page = _text(client.get(f"/orders/{company}/{number}/"))
    shipments = _shipments_section(page)
    assert shipments.count('<li class="shipment">') == slips
    assert shipments.count('<a href="https://') == sum(len(s["tracking"]) for s in body["shipments"])
    if case == "untracked_delivered":
        assert "No tracking number" in shipments
        assert "Not shipped yet" not in page


@pytest.mark.integration
def test_simulator_without_the_journal_sets_still_shows_shipments_from_tracking(live_fno) -> None:
    company, account, number = _demo_orders()["three_parcels"]
    client, token = _customer_for(company, account)
    live_fno.set_faults(hide=[JOURNAL, JOURNAL_LINES])
    body = _api(f"/api/v1/orders/{company}/{number}", token)
    [shipment] = body["shipments"]
    assert len(shipment["tracking"]) == 3
    assert shipment["lines"] is None
    assert {(x["shipped_quantity"], x["remaining_quantity"]) for x in body["lines"]} == {(None, None)}
    page = _text(client.get(f"/orders/{company}/{number}/"))
    assert "What was in this shipment is not available" in page


def test_the_timeline_shows_a_partial_delivery_even_where_processing_status_stays_active(alice_token, fake_fno) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001", SalesOrderProcessingStatus="Active")]
    fake_fno.rows[JOURNAL] = [slip("000123", "PS-1", "2026-11-05")]
    fake_fno.rows[JOURNAL_LINES] = [slip_line("000123", "PS-1", 1, 1, remain=1)]
    fake_fno.rows[TRACKING] = [parcel("000123", "PS-1", "2026-11-05", t) for t in ("1Z1", "1Z2")]
    body = _api("/api/v1/orders/usmf/000123", alice_token)
    assert body["status"] == "open"  # the header alone cannot tell
    steps = {s["code"]: (s["state"], s["detail"]) for s in body["timeline"]}
    assert steps["picked"][0] == "done"
    assert steps["shipped"] == ("partial", "1 shipment")


def test_a_summary_slip_shows_only_this_orders_items(alice_client, alice_token, fake_fno) -> None:
    # F&O's summary update can post several orders on one packing slip; its other lines are not this customer's.
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.rows[JOURNAL] = [slip("000123", "PS-1", "2026-11-05")]
    fake_fno.rows[JOURNAL_LINES] = [slip_line("000123", "PS-1", 1, 2),
                                    slip_line("000123", "PS-1", 7, 5, item="SECRET-ITEM")]
    body = _api("/api/v1/orders/usmf/000123", alice_token)
    assert [x["item_number"] for x in body["shipments"][0]["lines"]] == ["T0001"]
    assert {(x["shipped_quantity"], x["remaining_quantity"]) for x in body["lines"]} == {(None, None)}
    assert "SECRET-ITEM" not in _text(alice_client.get("/orders/usmf/000123/"))


def test_document_rows_of_another_order_are_dropped_even_if_f_and_o_sends_them(alice_token, fake_fno) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.rows[JOURNAL] = [slip("000123", "PS-1", "2026-11-05"), slip("000999", "PS-9", "2026-11-05")]
    fake_fno.rows[JOURNAL_LINES] = [slip_line("000123", "PS-1", 1, 2), slip_line("000999", "PS-9", 1, 2)]
    fake_fno.rows[TRACKING] = [parcel("000123", "PS-1", "2026-11-05", "1Z1"),
                               parcel("000999", "PS-9", "2026-11-05", "1Z9")]
    body = _api("/api/v1/orders/usmf/000123", alice_token)
    assert [s["packing_slip_number"] for s in body["shipments"]] == ["PS-1"]
    assert [t["number"] for t in body["shipments"][0]["tracking"]] == ["1Z1"]
