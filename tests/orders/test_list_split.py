"""Long reads split to fit the URL budget, and every F&O call traced with its own GUID and F&O's activity id.

Against the simulator over a real socket: its request log proves the length of every URL it received."""

from __future__ import annotations

import html
import json
import logging
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
from django.test import Client

from orders import d365, list_reads
from orders.accounts import AccountRef
from orders.filters import OrderFilters
from orders.logs import JsonFormatter
from orders.odata.auth import StaticTokenProvider
from orders.odata.client import Deadline, ODataClient, build_http_client
from orders.odata.errors import UrlTooLong
from orders.odata.query import Query, eq
from orders.roles import AGENT
from orders.selectors import order_list_for_customer
from orders.status import CODES, customer_status
from simulator import data
from simulator.server import Simulator
from tests.factories import make_customer, staff_client

pytestmark = pytest.mark.integration

LIMIT = 2048
REAL = [("usmf", f"US-00{n}") for n in range(1, 7)] + [("demf", "DE-001"), ("demf", "DE-002"), ("demf", "DE-003"),
                                                         ("demf", "US-003")]
# Accounts with no orders yet: a buyer linked to every ship-to of a group. 30 accounts in two companies in all.
EMPTY = [("usmf", f"US-{n}") for n in range(101, 111)] + [("demf", f"DE-{n}") for n in range(101, 111)]
WIDE = tuple(sorted(AccountRef(c, a) for c, a in REAL + EMPTY))


def _dataset() -> data.Dataset:
    """The demo data with creation times cut to the day, so many orders tie on it, and the one order number that
    exists in both companies created at the same instant in both: the order number and the company decide."""
    dataset = data.build()
    for row in dataset.tables["SalesOrderHeadersV2"]:
        row["OrderCreationDateTime"] = row["OrderCreationDateTime"][:10] + "T00:00:00Z"
        if row["SalesOrderNumber"] == "001042":
            row["OrderCreationDateTime"] = "2026-01-15T08:00:00Z"
    return dataset


@pytest.fixture(scope="module")
def tied_simulator() -> Iterator[Simulator]:
    sim = Simulator(port=0, dataset=_dataset(), max_url_length=LIMIT).start()
    yield sim
    sim.stop()


@pytest.fixture
def wide_fno(tied_simulator: Simulator, settings) -> Iterator[Simulator]:
    tied_simulator.clear_faults()
    tied_simulator.reset_log()
    settings.D365_URL = tied_simulator.url
    settings.D365_TIMEOUT_SECONDS = 5.0
    settings.D365_MAX_URL_LENGTH = LIMIT
    d365.set_odata_client(d365.build_odata_client(tokens=StaticTokenProvider()))
    yield tied_simulator
    d365.set_odata_client(None)


def _label(row: dict) -> str:
    return customer_status(status=row["SalesOrderStatus"], processing=row["SalesOrderProcessingStatus"],
                           on_hold=row["IsSalesProcessingStopped"] == "Yes").code


def _expected(sim: Simulator, *, status: str = "", q: str = "") -> list[tuple[str, str]]:
    """The customer's orders computed from the simulator's own data, in the list's order."""
    mine = {(c, a.casefold()) for c, a in REAL + EMPTY}
    needle = q.casefold()
    rows = [
        r for r in sim.state.dataset.tables["SalesOrderHeadersV2"]
        if (r["dataAreaId"], r["OrderingCustomerAccountNumber"].casefold()) in mine
        and (not status or _label(r) == status)
        and (not q or r["SalesOrderNumber"].casefold() == needle or needle in r["CustomersOrderReference"].casefold()
             or needle in r["CustomerRequisitionNumber"].casefold())
    ]
    # OrderCreationDateTime desc, SalesOrderNumber desc, dataAreaId asc: stable sorts, last key first.
    rows.sort(key=lambda r: r["dataAreaId"])
    rows.sort(key=lambda r: r["SalesOrderNumber"].casefold(), reverse=True)
    rows.sort(key=lambda r: r["OrderCreationDateTime"], reverse=True)
    return [(r["dataAreaId"], r["SalesOrderNumber"]) for r in rows]


def _every_page(filters: dict, page_size: int) -> tuple[list[tuple[str, str]], list[int | None], int]:
    got: list[tuple[str, str]] = []
    counts: list[int | None] = []
    page = 1
    while True:
        lookup = order_list_for_customer(
            accounts=WIDE, filters=OrderFilters(page=page, page_size=page_size, **filters), request_id=f"P{page}"
        )
        counts.append(lookup.value.total_count)
        got += [(o.order.company, o.order.number) for o in lookup.value.orders]
        if not lookup.value.has_next:
            return got, counts, page
        page += 1


def _headers_requests(sim: Simulator) -> list[dict]:
    return [r for r in sim.requests() if r["entity_set"] == "SalesOrderHeadersV2"]


@pytest.mark.parametrize(("status", "q"), [("", ""), ("", "PO-5"), *((code, "") for code in CODES)])
def test_thirty_accounts_in_two_companies_list_search_and_filter_within_the_url_budget(
    wide_fno: Simulator, status: str, q: str
) -> None:
    expected = _expected(wide_fno, status=status, q=q)
    assert expected  # the demo data has this customer's orders in every status
    got, counts, pages = _every_page({"status": status, "q": q}, page_size=20)

    assert got == expected  # same orders, same order, no gap, no repeat across pages and parts
    assert set(counts) == {len(expected)}
    assert pages == -(-len(expected) // 20)
    received = _headers_requests(wide_fno)
    assert all(r["url_length"] <= LIMIT for r in received), max(r["url_length"] for r in received)
    assert len(received) > pages  # the reads were split
    companies = {dict(parse_qsl(r["query"]))["$filter"].count("dataAreaId eq") for r in received}
    assert companies == {1}  # by company, then by groups of accounts


def test_a_deep_page_reads_sort_keys_first_then_only_the_rows_of_the_page(wide_fno: Simulator) -> None:
    expected = _expected(wide_fno)
    lookup = order_list_for_customer(accounts=WIDE, filters=OrderFilters(page=4, page_size=15), request_id="DEEP")
    assert [(o.order.company, o.order.number) for o in lookup.value.orders] == expected[45:60]
    assert lookup.value.total_count == len(expected)
    received = [dict(parse_qsl(r["query"])) for r in _headers_requests(wide_fno)]
    keys = [r for r in received if r["$select"] == "dataAreaId,SalesOrderNumber,OrderCreationDateTime"]
    rows = [r for r in received if r not in keys]
    assert keys
    assert all(r["$top"] == "60" and "$expand" not in r for r in keys)
    assert sum(int(r["$top"]) for r in rows) == 15  # full rows only for the page itself
    assert all(r["$orderby"] == "OrderCreationDateTime desc,SalesOrderNumber desc,dataAreaId asc" for r in received)


def test_orders_tied_on_time_and_number_in_two_companies_page_in_company_order(wide_fno: Simulator) -> None:
    expected = _expected(wide_fno)
    tied = [i for i, (_company, number) in enumerate(expected) if number == "001042"]
    assert [expected[i][0] for i in tied] == ["demf", "usmf"]
    assert tied[1] == tied[0] + 1
    # A page boundary between the two tied orders: each lands on exactly one page.
    size = tied[1]
    first = order_list_for_customer(accounts=WIDE, filters=OrderFilters(page=1, page_size=size), request_id="T1")
    second = order_list_for_customer(accounts=WIDE, filters=OrderFilters(page=2, page_size=size), request_id="T2")
    assert [(o.order.company, o.order.number) for o in first.value.orders][-1] == ("demf", "001042")
    assert next((o.order.company, o.order.number) for o in second.value.orders) == ("usmf", "001042")


def test_a_customer_whose_accounts_fit_is_read_in_one_request(wide_fno: Simulator) -> None:
    accounts = (AccountRef("demf", "US-003"), AccountRef("usmf", "US-003"))
    lookup = order_list_for_customer(accounts=accounts, filters=OrderFilters(), request_id="ONE")
    assert len(lookup.value.orders) == 20
    assert len(_headers_requests(wide_fno)) == 1


def test_an_account_that_cannot_fit_alone_is_refused_without_a_request(wide_fno: Simulator) -> None:
    client = ODataClient(service_root=wide_fno.url + "/data/", http=build_http_client(),
                         tokens=StaticTokenProvider(), max_url_length=300)
    base = Query("SalesOrderHeadersV2").selecting("dataAreaId", "SalesOrderNumber", "OrderingCustomerAccountNumber")
    with pytest.raises(UrlTooLong):
        list_reads.order_rows_read(client=client, base=base, accounts=[(a.company, a.account) for a in WIDE],
                                   condition=eq("SalesOrderNumber", "001001"), page=1, page_size=20,
                                   deadline=Deadline(5), request_id="R")
    assert wide_fno.requests() == []


def test_the_simulator_answers_414_past_its_limit_and_the_client_calls_it_url_too_long(wide_fno: Simulator) -> None:
    # A client whose own budget is wider than the server's: the server's refusal is our bug, typed as such.
    client = ODataClient(service_root=wide_fno.url + "/data/", http=build_http_client(),
                         tokens=StaticTokenProvider(), max_url_length=100_000)
    accounts = [(c, f"{a}-{n}") for c, a in REAL + EMPTY for n in range(2)]
    query = Query("SalesOrderHeadersV2").where(list_reads.accounts_filter(accounts))
    with pytest.raises(UrlTooLong) as caught:
        client.get_page(query, deadline=Deadline(5), request_id="R")
    assert caught.value.status_code == 414
    [received] = wide_fno.requests()
    assert received["url_length"] > LIMIT
    assert received["url_length"] == client.url_length(query)


# Tracing ---------------------------------------------------------------------------------------------------------


def _agent() -> Client:
    return staff_client("agent@example.com", AGENT)


def _guid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


@pytest.mark.django_db
def test_staff_pages_show_each_calls_own_guid_and_f_and_o_activity_id(live_fno: Simulator) -> None:
    agent = _agent()
    # The header read meets one 503 and is retried: the retry is an exchange of its own, with a new GUID.
    live_fno.set_faults(status=503, count=1, entity_set="SalesOrderHeadersV2")
    response = agent.get("/staff/orders/usmf/US-001/001001/")
    assert response.status_code == 200
    received = live_fno.requests()
    assert len(received) >= 4  # header twice, packing slips, invoices
    sent = [r["request_id"] for r in received]
    assert all(_guid(s) for s in sent)
    assert len(set(sent)) == len(sent)
    reference = response["X-Reference"]
    assert reference not in sent  # the page's own code stays ours
    page = html.unescape(response.content.decode())
    for r in received:
        assert r["request_id"] in page
        assert r["activity_id"] in page

    replay = html.unescape(agent.get(f"/staff/ref/{reference}").content.decode())
    for r in received:
        assert r["request_id"] in replay
        assert r["activity_id"] in replay


@pytest.mark.django_db
def test_the_json_log_line_of_a_call_carries_our_guid_and_f_and_o_activity_id(live_fno: Simulator, caplog) -> None:
    user = make_customer("trace@example.com", "usmf:US-001")
    client = Client()
    client.force_login(user)
    with caplog.at_level(logging.INFO, logger="orders.d365"):
        assert client.get("/orders/usmf/001001/").status_code == 200
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.getMessage() == "odata.call"]
    received = live_fno.requests()
    assert len(lines) == len(received) >= 3
    assert {(line["client_request_id"], line["activity_id"]) for line in lines} == {
        (r["request_id"], r["activity_id"]) for r in received
    }
    assert all(_guid(line["client_request_id"]) and _guid(line["activity_id"]) for line in lines)
    assert len({line["ref"] for line in lines}) == 1  # one lookup, one reference code of ours


def test_an_order_of_the_thirty_account_customer_opens_within_the_url_budget(wide_fno: Simulator) -> None:
    from orders.selectors import order_get_for_customer

    lookup = order_get_for_customer(accounts=WIDE, company="usmf", number="001001", request_id="DETAIL")
    assert lookup.value.order.number == "001001"
    assert all(r["url_length"] <= LIMIT for r in wide_fno.requests())
