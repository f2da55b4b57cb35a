"""Run-time changes to the simulator's orders, over its admin endpoints and its CLI, on a real socket; and the batched
reads a watcher makes. Plain httpx and subprocesses, no portal code."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from simulator import data
from simulator.changes import ChangeRefused
from simulator.server import Simulator

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
KEY = "(dataAreaId='usmf',SalesOrderNumber='{}')?cross-company=true"


def _get(sim: Simulator, path: str) -> httpx.Response:
    return httpx.get(sim.url + path, timeout=5)


def _header(sim: Simulator, number: str, company: str = "usmf") -> dict[str, Any]:
    response = _get(sim, f"/data/SalesOrderHeadersV2(dataAreaId='{company}',SalesOrderNumber='{number}')"
                         "?cross-company=true&$expand=SalesOrderLines")
    assert response.status_code == 200
    return response.json()


def _post(sim: Simulator, path: str, body: object) -> httpx.Response:
    return httpx.post(sim.url + "/_sim/orders/" + path, json=body, timeout=5)


def _rows(sim: Simulator, entity_set: str, filter_: str) -> list[dict[str, Any]]:
    response = _get(sim, f"/data/{entity_set}?cross-company=true&$filter={quote(filter_, safe=chr(39) + '(),')}")
    assert response.status_code == 200, response.text
    return response.json()["value"]


def _open_order(sim: Simulator) -> dict[str, Any]:
    """An open usmf order that has shipped nothing yet."""
    tables = sim.state.dataset.tables
    shipped = {r["SalesId"] for r in tables["CustPackingSlipJourBiEntities"] if r["dataAreaId"] == "usmf"}
    return next(r for r in tables["SalesOrderHeadersV2"] if r["dataAreaId"] == "usmf"
                and r["SalesOrderStatus"] == "Backorder" and r["SalesOrderNumber"] not in shipped)


# The endpoint -----------------------------------------------------------------------------------------------------

def test_a_changed_header_is_what_the_next_read_serves(simulator: Simulator) -> None:
    before = _header(simulator, "001003")
    answer = _post(simulator, "usmf/001003", {"ConfirmedShippingDate": "2026-12-19",
                                              "IsSalesProcessingStopped": "Yes",
                                              "SalesOrderProcessingStatus": "Picked"})
    assert answer.status_code == 200
    after = _header(simulator, "001003")
    assert after["ConfirmedShippingDate"] == "2026-12-19T12:00:00Z"  # date-only fields at noon UTC
    assert after["IsSalesProcessingStopped"] == "Yes"
    assert after["SalesOrderProcessingStatus"] == "Picked"
    assert after["@odata.etag"] != before["@odata.etag"]  # F&O raises RecVersion on every update
    changed = {"ConfirmedShippingDate", "IsSalesProcessingStopped", "SalesOrderProcessingStatus", "@odata.etag"}
    assert {k: v for k, v in after.items() if k not in changed} == {k: v for k, v in before.items() if k not in changed}
    assert answer.json()["header"] == {k: v for k, v in after.items() if k not in ("@odata.context", "SalesOrderLines")}

    _post(simulator, "usmf/001003", {"ConfirmedShippingDate": ""})
    assert _header(simulator, "001003")["ConfirmedShippingDate"] == data.EMPTY_DATE  # no date: F&O's 1900-01-01


def test_line_changes_apply_to_the_line_named_or_to_every_line(simulator: Simulator) -> None:
    lines = _header(simulator, "001003")["SalesOrderLines"]
    assert len(lines) >= 2
    _post(simulator, "usmf/001003", {"lines": [{"ConfirmedShippingDate": "2026-12-20"},
                                               {"LineNumber": 2, "SalesOrderLineStatus": "Delivered"}]})
    after = {line["LineNumber"]: line for line in _header(simulator, "001003")["SalesOrderLines"]}
    assert {line["ConfirmedShippingDate"] for line in after.values()} == {"2026-12-20T12:00:00Z"}
    assert after[2]["SalesOrderLineStatus"] == "Delivered"
    assert [after[line["LineNumber"]]["SalesOrderLineStatus"] for line in lines if line["LineNumber"] != 2] == [
        line["SalesOrderLineStatus"] for line in lines if line["LineNumber"] != 2]
    served = _rows(simulator, "SalesOrderLines", "dataAreaId eq 'usmf' and SalesOrderNumber eq '001003'")
    assert {r["ConfirmedShippingDate"] for r in served} == {"2026-12-20T12:00:00Z"}  # the set, not only $expand


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("usmf/001003", {"Bogus": "1"}, 400, "not a property"),
        ("usmf/001003", {"salesorderstatus": "Delivered"}, 400, "not a property"),  # names are case-sensitive
        ("usmf/001003", {"SalesOrderNumber": "X"}, 400, "cannot be changed"),
        ("usmf/001003", {"SalesOrderStatus": "Shipped"}, 400, "one of None, Backorder"),
        ("usmf/001003", {"ConfirmedShippingDate": "19.12.2026"}, 400, "a date like"),
        ("usmf/001003", {"OrderTotalAmount": "lots"}, 400, "a number"),
        ("usmf/001003", {}, 400, "Nothing to change"),
        ("usmf/001003", ["SalesOrderStatus"], 400, "JSON object"),
        ("usmf/nope", {"SalesOrderStatus": "Delivered"}, 404, "No sales order"),
        ("gbsi/001003", {"SalesOrderStatus": "Delivered"}, 404, "No sales order"),
        # Valid header field, invalid line: nothing is applied.
        ("usmf/001003", {"SalesOrderStatus": "Delivered", "lines": [{"LineNumber": 99, "IsLineStopped": "Yes"}]},
         404, "no line 99"),
        ("usmf/001003/packing-slips", {"lines": [{"LineNumber": 1}]}, 400, "LineNumber and Qty"),
        ("usmf/001003/packing-slips", {"tracking": ["1Z1", "1z1"]}, 400, "given twice"),
        ("usmf/001003/packing-slips", {"Carrier": "UPS"}, 400, "Unknown packing slip fields"),
        ("usmf/001003/invoices", {"InvoiceNumber": "CIV-000001"}, 409, "already exists"),
        ("usmf/001003/credit-notes", {}, 404, "POST /_sim/orders"),
    ],
)
def test_refused_changes_say_why_and_change_nothing(simulator: Simulator, path: str, body: object, status: int,
                                                   words: str) -> None:
    before = {name: list(rows) for name, rows in simulator.state.dataset.tables.items()}
    answer = _post(simulator, path, body)
    assert answer.status_code == status
    assert words in answer.json()["error"]
    after = simulator.state.dataset.tables
    assert all(after[name] == rows for name, rows in before.items())
    assert not simulator.state.store.changed


def test_a_packing_slip_is_served_by_the_journal_its_lines_and_the_tracking_set(simulator: Simulator) -> None:
    order = _open_order(simulator)
    number, carrier = order["SalesOrderNumber"], order["ShippingCarrierId"]
    lines = _header(simulator, number)["SalesOrderLines"]
    first = next(line for line in lines if line["SalesOrderLineStatus"] != "Canceled")
    answer = _post(simulator, f"usmf/{number}/packing-slips", {
        "DeliveryDate": "2026-12-19", "tracking": ["TRK-1", "TRK-2"],
        "lines": [{"LineNumber": first["LineNumber"], "Qty": 1}],
    })
    assert answer.status_code == 201
    slip_id = answer.json()["journal"]["PackingSlipId"]
    journal = _rows(simulator, "CustPackingSlipJourBiEntities",
                    f"dataAreaId eq 'usmf' and SalesId eq '{number}' and OrderAccount eq "
                    f"'{order['OrderingCustomerAccountNumber']}'")
    assert [(r["PackingSlipId"], r["DeliveryDate"], r["Qty"], r["ShipCarrierId"]) for r in journal] == [
        (slip_id, "2026-12-19T12:00:00Z", 1, carrier)]
    slip_lines = _rows(simulator, "CustPackingSlipTransBiEntities", f"dataAreaId eq 'usmf' and SalesId eq '{number}'")
    assert [(r["LineNum"], r["ItemId"], r["Qty"], r["Remain"]) for r in slip_lines] == [
        (first["LineNumber"], first["ItemNumber"], 1, first["OrderedSalesQuantity"] - 1)]
    tracking = _rows(simulator, "PackingSlipTrackingInformation",
                     f"dataAreaId eq 'usmf' and SalesOrderNumber eq '{number}'")
    pattern = next(url for name, url, _ in data.CARRIERS if name == carrier)
    assert sorted((r["PackingSlipNumber"], r["TrackingNumber"], r["TrackingURL"]) for r in tracking) == [
        (slip_id, n, pattern.format(n=n)) for n in ("TRK-1", "TRK-2")]

    # Without lines, the next slip ships what is left of every open line; then nothing is left.
    rest = _post(simulator, f"usmf/{number}/packing-slips", {})
    assert rest.status_code == 201
    assert rest.json()["journal"]["DlvMode"] == data.PICKUP  # no tracking: collected, as in the demo data
    assert rest.json()["tracking"] == []
    assert all(line["Remain"] == 0 for line in rest.json()["lines"])
    open_lines = [line for line in lines if line["SalesOrderLineStatus"] != "Canceled"]
    ordered = sum(line["OrderedSalesQuantity"] for line in open_lines)
    assert sum(line["Qty"] for line in rest.json()["lines"]) == ordered - 1
    assert _post(simulator, f"usmf/{number}/packing-slips", {}).status_code == 409
    assert _post(simulator, f"usmf/{number}/packing-slips", {"PackingSlipId": slip_id.lower()}).status_code == 409
    # Posting changes no status: F&O's posting does, and a test says so with an order change.
    assert _header(simulator, number)["SalesOrderStatus"] == "Backorder"


def test_an_invoice_is_served_with_the_companys_next_number(simulator: Simulator) -> None:
    tables = simulator.state.dataset.tables
    last = max(r["InvoiceNumber"] for r in tables["SalesInvoiceHeadersV2"] if r["dataAreaId"] == "demf")
    order = next(r for r in tables["SalesOrderHeadersV2"] if r["dataAreaId"] == "demf")
    net = sum(line["LineAmount"] for line in tables["SalesOrderLines"] if line["dataAreaId"] == "demf"
              and line["SalesOrderNumber"] == order["SalesOrderNumber"] and line["SalesOrderLineStatus"] != "Canceled")
    answer = _post(simulator, f"DEMF/{order['SalesOrderNumber']}/invoices", {"InvoiceDate": "2026-12-20"})
    assert answer.status_code == 201
    invoice = answer.json()["invoice"]
    assert invoice["InvoiceNumber"] == f"DE-CIV-{int(last.rsplit('-', 1)[1]) + 1:06d}"
    served = _rows(simulator, "SalesInvoiceHeadersV2",
                   f"dataAreaId eq 'demf' and SalesOrderNumber eq '{order['SalesOrderNumber']}' "
                   "and InvoiceDate eq 2026-12-20T12:00:00Z")
    assert served == [{"@odata.etag": invoice["@odata.etag"], **{k: v for k, v in invoice.items()
                                                                  if k != "@odata.etag"}}]
    tax = round(net * data.Decimal("0.08"), 2)
    assert (served[0]["TotalTaxAmount"], served[0]["TotalInvoiceAmount"]) == (float(tax), float(net + tax))
    assert served[0]["InvoiceCustomerAccountNumber"] == order["InvoiceCustomerAccountNumber"]

    given = _post(simulator, f"demf/{order['SalesOrderNumber']}/invoices",
                  {"InvoiceNumber": "DE-CIV-900000", "TotalInvoiceAmount": "120.50"}).json()["invoice"]
    assert (given["InvoiceNumber"], given["TotalInvoiceAmount"], given["TotalTaxAmount"]) == ("DE-CIV-900000", 120.5, 0)


def test_reset_brings_back_the_demo_data_as_built(simulator: Simulator) -> None:
    # Changes swap rows instead of editing them, so the data built at start is still there to go back to.
    built = data.build().tables
    _post(simulator, "usmf/001003", {"ConfirmedShippingDate": "2026-12-19", "lines": [{"IsLineStopped": "Yes"}]})
    _post(simulator, "usmf/001003/packing-slips", {"tracking": ["X1"]})
    _post(simulator, "usmf/001003/invoices", {})
    assert simulator.state.dataset.tables != built
    assert httpx.delete(simulator.url + "/_sim/orders", timeout=5).status_code == 200
    assert simulator.state.dataset.tables == built
    assert _header(simulator, "001003")["ConfirmedShippingDate"] != "2026-12-19T12:00:00Z"
    assert simulator.data_reset() is False  # nothing left to undo


def test_the_in_process_handle_changes_the_same_way(simulator: Simulator) -> None:
    simulator.order_change("usmf", "001003", {"SalesOrderStatus": "Canceled"})
    assert _header(simulator, "001003")["SalesOrderStatus"] == "Canceled"
    with pytest.raises(ChangeRefused) as refused:
        simulator.invoice_add("usmf", "missing", {})
    assert refused.value.status == 404


def test_order_numbers_with_a_slash_are_sent_encoded() -> None:
    tables = data.build(orders=12).tables
    for name in ("SalesOrderHeadersV2", "SalesOrderLines"):
        for row in tables[name]:
            if row["SalesOrderNumber"] == "001001":
                row["SalesOrderNumber"] = "SO/001"
    sim = Simulator(dataset=data.Dataset(tables)).start()
    try:
        assert _post(sim, "usmf/SO%2F001", {"CustomersOrderReference": "PO 1/2"}).status_code == 200
        [row] = _rows(sim, "SalesOrderHeadersV2", "SalesOrderNumber eq 'so/001'")
        assert row["CustomersOrderReference"] == "PO 1/2"
    finally:
        sim.stop()


# Batched reads, as the watcher makes them ------------------------------------------------------------------------

def test_twenty_orders_in_one_read_per_entity_set_scoped_by_company_and_account(simulator: Simulator) -> None:
    tables = simulator.state.dataset.tables
    mine = [r["SalesOrderNumber"] for r in tables["SalesOrderHeadersV2"]
            if r["dataAreaId"] == "usmf" and r["OrderingCustomerAccountNumber"] == "US-001"][:19]
    # 001042 is another customer's in usmf and exists in demf too: the scope must keep both out.
    numbers = [*mine, "001042"]
    assert len(numbers) == 20

    def chain(field: str) -> str:
        return "(" + " or ".join(f"{field} eq '{n}'" for n in numbers) + ")"

    account = "dataAreaId eq 'usmf' and OrderingCustomerAccountNumber eq 'US-001'"
    reads = {
        "SalesOrderHeadersV2": (f"{account} and {chain('SalesOrderNumber')}", "SalesOrderNumber"),
        "SalesOrderLines": (f"dataAreaId eq 'usmf' and {chain('SalesOrderNumber')}", "SalesOrderNumber"),
        "PackingSlipTrackingInformation": (f"dataAreaId eq 'usmf' and {chain('SalesOrderNumber')}",
                                           "SalesOrderNumber"),
        "CustPackingSlipJourBiEntities": (f"dataAreaId eq 'usmf' and OrderAccount eq 'US-001' and {chain('SalesId')}",
                                          "SalesId"),
        "CustPackingSlipTransBiEntities": (f"dataAreaId eq 'usmf' and {chain('SalesId')}", "SalesId"),
        "SalesInvoiceHeadersV2": (f"dataAreaId eq 'usmf' and {chain('SalesOrderNumber')}", "SalesOrderNumber"),
    }
    simulator.reset_log()
    for entity_set, (filter_, field) in reads.items():
        got = _rows(simulator, entity_set, filter_)
        account_field = {"SalesOrderHeadersV2": "OrderingCustomerAccountNumber",
                         "CustPackingSlipJourBiEntities": "OrderAccount"}.get(entity_set)
        expected = [r for r in tables[entity_set] if r["dataAreaId"] == "usmf" and r[field] in numbers
                    and (account_field is None or r[account_field] == "US-001")]
        assert got, entity_set
        assert _canonical(got) == _canonical(expected), entity_set
        if entity_set == "SalesOrderHeadersV2":
            assert sorted(r["SalesOrderNumber"] for r in got) == sorted(mine)
        assert {r["dataAreaId"] for r in got} == {"usmf"}
    # The header read with the lines expanded, as the portal reads an order, fits F&O's URL limit.
    expanded = _get(simulator, "/data/SalesOrderHeadersV2?cross-company=true&$filter="
                    + quote(reads["SalesOrderHeadersV2"][0], safe="'(),")
                    + "&$expand=SalesOrderLines($select=LineNumber,ItemNumber,SalesOrderLineStatus)")
    assert expanded.status_code == 200
    assert sorted(r["SalesOrderNumber"] for r in expanded.json()["value"]) == sorted(mine)
    assert all(r["SalesOrderLines"] for r in expanded.json()["value"])
    # One call per entity set (and the expanded header read), counted in process and over HTTP alike.
    counted = {name: 1 for name in reads} | {"SalesOrderHeadersV2": 2}
    assert simulator.calls() == counted
    assert httpx.get(simulator.url + "/_sim/stats", timeout=5).json() == {"calls": counted, "total": 7}


def test_a_batch_read_finds_what_a_scan_finds_after_changes(simulator: Simulator) -> None:
    # The index on the order number is rebuilt by every change; a wildcard term forces the full scan.
    order = _open_order(simulator)["SalesOrderNumber"]
    _post(simulator, f"usmf/{order}/packing-slips", {"tracking": ["NEW-1"]})
    indexed = f"dataAreaId eq 'usmf' and (SalesId eq '{order}' or SalesId eq '001003')"
    scanned = f"dataAreaId eq 'usmf' and (SalesId eq '{order}' or SalesId eq '001003' or SalesId eq 'x*y')"
    for entity_set in ("CustPackingSlipJourBiEntities", "CustPackingSlipTransBiEntities"):
        a, b = _rows(simulator, entity_set, indexed), _rows(simulator, entity_set, scanned)
        assert sorted(map(str, a)) == sorted(map(str, b))
        assert order in {r["SalesId"] for r in a}


def _canonical(rows: list[dict[str, Any]]) -> list[str]:
    """Rows as served (decimals as JSON numbers), comparable whatever their order."""
    def plain(value: object) -> object:
        if isinstance(value, data.Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return value
    return sorted(repr(sorted((k, plain(v)) for k, v in row.items())) for row in rows)


# The CLI ----------------------------------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)


def test_cli_changes_an_order_through_the_endpoint(simulator: Simulator) -> None:
    done = _cli("change", "--url", simulator.url, "--company", "usmf", "--order", "001003",
                "--set", "ConfirmedShippingDate=2026-12-19", "--set", "ConfirmedReceiptDate=2026-12-21",
                "--line-set", "1:IsLineStopped=Yes")
    assert done.returncode == 0, done.stderr
    header = _header(simulator, "001003")
    assert (header["ConfirmedShippingDate"], header["ConfirmedReceiptDate"]) == (
        "2026-12-19T12:00:00Z", "2026-12-21T12:00:00Z")
    assert [line["IsLineStopped"] for line in header["SalesOrderLines"] if line["LineNumber"] == 1] == ["Yes"]
    assert '"ConfirmedShippingDate": "2026-12-19T12:00:00Z"' in done.stdout
    received = [r for r in simulator.requests() if r["entity_set"] == "SalesOrderHeadersV2"]
    assert len(received) == 1  # the admin endpoint is not an F&O call: only the read above is counted


def test_cli_posts_packing_slips_and_invoices_and_resets(simulator: Simulator) -> None:
    number = _open_order(simulator)["SalesOrderNumber"]
    slip = _cli("add-packing-slip", "--url", simulator.url, "--company", "usmf", "--order", number,
                "--date", "2026-12-19", "--tracking", "1Z0001", "--line", "1=1")
    assert slip.returncode == 0, slip.stderr
    tracking = _rows(simulator, "PackingSlipTrackingInformation", f"dataAreaId eq 'usmf' and SalesOrderNumber eq "
                                                                  f"'{number}'")
    assert [(r["TrackingNumber"], r["DeliveryDate"]) for r in tracking] == [("1Z0001", "2026-12-19T12:00:00Z")]
    invoice = _cli("add-invoice", "--url", simulator.url, "--company", "usmf", "--order", number,
                   "--number", "CIV-777777", "--amount", "99.50", "--tax", "7.37")
    assert invoice.returncode == 0, invoice.stderr
    invoices = _rows(simulator, "SalesInvoiceHeadersV2", "InvoiceNumber eq 'CIV-777777'")
    assert [(r["SalesOrderNumber"], r["TotalInvoiceAmount"], r["TotalTaxAmount"]) for r in invoices] == [
        (number, 99.5, 7.37)]
    assert _cli("reset", "--url", simulator.url).returncode == 0
    assert _rows(simulator, "SalesInvoiceHeadersV2", "InvoiceNumber eq 'CIV-777777'") == []


def test_cli_reports_a_refusal_and_exits_1(simulator: Simulator) -> None:
    done = _cli("change", "--url", simulator.url, "--company", "usmf", "--order", "001003",
                "--set", "SalesOrderStatus=Shipped")
    assert done.returncode == 1
    assert "refused (400)" in done.stderr
    assert "SalesOrderStatus: one of None" in done.stderr
    assert not simulator.state.store.changed


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_cli_gives_up_when_the_simulator_does_not_answer(silent_port: int) -> None:
    done = _cli("change", "--url", f"http://127.0.0.1:{silent_port}", "--timeout", "0.5", "--company", "usmf",
                "--order", "001003", "--set", "SalesOrderStatus=Delivered")
    assert done.returncode == 3
    assert "unreachable: timed out" in done.stderr


def test_cli_refuses_a_url_that_is_not_the_simulators_root() -> None:
    done = _cli("reset", "--url", "file:///etc/passwd")
    assert done.returncode == 2
    assert "expected the simulator's root" in done.stderr
