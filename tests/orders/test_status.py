from __future__ import annotations

import pytest

from orders.odata.auth import StaticTokenProvider
from orders.odata.client import Deadline, ODataClient, build_http_client
from orders.odata.query import Query
from orders.status import CODES, RULES, customer_status, status_filter
from simulator import data


@pytest.mark.parametrize(
    ("status", "processing", "on_hold", "code"),
    [
        ("Backorder", "Active", False, "open"),
        ("None", "Active", False, "open"),
        ("Backorder", "Confirmed", False, "confirmed"),
        ("Backorder", "Picked", False, "picked"),
        ("Backorder", "PartiallyDelivered", False, "partially_shipped"),
        ("Backorder", "PartiallyInvoiced", False, "partially_shipped"),
        ("Delivered", "Delivered", False, "shipped"),
        ("Delivered", "DeliveredPartiallyInvoiced", False, "shipped"),
        ("Invoiced", "Invoiced", False, "invoiced"),
        ("Canceled", "Canceled", False, "cancelled"),
        ("Backorder", "Confirmed", True, "on_hold"),
        ("Canceled", "Canceled", True, "cancelled"),
        ("Invoiced", "Invoiced", True, "invoiced"),
    ],
)
def test_f_and_o_statuses_in_the_customers_words(status, processing, on_hold, code) -> None:
    assert customer_status(status=status, processing=processing, on_hold=on_hold).code == code


def test_backorder_is_never_called_a_backorder() -> None:
    label = customer_status(status="Backorder", processing="Active", on_hold=False).label
    assert "backorder" not in label.lower()
    assert all("backorder" not in str(rule.label).lower() for rule in RULES)


def test_every_rule_explains_itself_for_support() -> None:
    assert customer_status(status="Backorder", processing="Picked", on_hold=False).rule == (
        "SalesOrderProcessingStatus = Picked"
    )


@pytest.mark.integration
@pytest.mark.parametrize("code", CODES)
def test_status_filter_selects_exactly_what_the_label_says(simulator, code: str) -> None:
    """The list's status filter, run by the simulator, agrees with the labels computed in Python."""
    client = ODataClient(service_root=simulator.url + "/data/", http=build_http_client(), tokens=StaticTokenProvider())
    query = Query("SalesOrderHeadersV2").where(status_filter(code)).selecting("dataAreaId", "SalesOrderNumber")
    rows = client.get_all(query, deadline=Deadline(10), request_id="T")
    got = {(r["dataAreaId"], r["SalesOrderNumber"]) for r in rows}
    expected = {
        (r["dataAreaId"], r["SalesOrderNumber"])
        for r in data.build().tables["SalesOrderHeadersV2"]
        if customer_status(
            status=r["SalesOrderStatus"],
            processing=r["SalesOrderProcessingStatus"],
            on_hold=r["IsSalesProcessingStopped"] == "Yes",
        ).code == code
    }
    assert got == expected
    assert got  # the demo data has orders in every customer status


@pytest.mark.parametrize("code", CODES)
def test_status_filter_agrees_with_the_labels_for_every_combination_of_f_and_o_values(code: str) -> None:
    """Every documented combination of SalesStatus, SalesOrderProcessingStatus and NoYes, run through the
    simulator's own parser, not only the combinations the demo data happens to hold."""
    from itertools import product

    from simulator.filter import parse_filter
    from simulator.schema import SETS

    predicate = parse_filter(status_filter(code).text, SETS["SalesOrderHeadersV2"])
    for status, processing, stopped in product(
        ("None", "Backorder", "Delivered", "Invoiced", "Canceled"),
        ("Active", "Confirmed", "Picked", "PartiallyDelivered", "Delivered", "Invoiced", "PartiallyInvoiced",
         "Canceled", "DeliveredPartiallyInvoiced"),
        ("No", "Yes"),
    ):
        row = {"SalesOrderStatus": status, "SalesOrderProcessingStatus": processing,
               "IsSalesProcessingStopped": stopped}
        labelled = customer_status(status=status, processing=processing, on_hold=stopped == "Yes").code
        assert predicate(row) == (labelled == code), (status, processing, stopped)


def test_status_filters_are_positive_comparisons_and_short() -> None:
    for code in CODES:
        text = status_filter(code).text
        assert "not " not in text
        # Well inside a 2,048-character URL, beside a customer's accounts and a search.
        assert len(text) < 800, code


@pytest.mark.parametrize(
    ("status", "processing", "code"),
    [
        ("None", "Active", "open"),
        ("Backorder", "Active", "open"),
        ("Delivered", "Active", "shipped"),
        ("Delivered", "Delivered", "shipped"),
        ("Invoiced", "Active", "invoiced"),
        ("Invoiced", "Invoiced", "invoiced"),
        ("Canceled", "Active", "cancelled"),
        ("Canceled", "Canceled", "cancelled"),
    ],
)
def test_a_company_that_leaves_processing_status_active_gets_its_words_from_the_sales_status(
    status, processing, code
) -> None:
    """Where SalesOrderProcessingStatus stays Active until delivery, SalesOrderStatus alone must carry the words."""
    assert customer_status(status=status, processing=processing, on_hold=False).code == code


def test_every_demo_order_of_the_active_until_delivery_company_is_worded_from_its_sales_status() -> None:
    expected = {"None": "open", "Backorder": "open", "Delivered": "shipped", "Invoiced": "invoiced",
                "Canceled": "cancelled"}
    rows = [r for r in data.build().tables["SalesOrderHeadersV2"] if r["dataAreaId"] == data.ACTIVE_UNTIL_DELIVERY]
    assert {r["SalesOrderProcessingStatus"] for r in rows if r["SalesOrderStatus"] in ("None", "Backorder")} == {
        "Active"
    }
    for r in rows:
        if r["IsSalesProcessingStopped"] == "Yes":
            continue
        got = customer_status(status=r["SalesOrderStatus"], processing=r["SalesOrderProcessingStatus"], on_hold=False)
        assert got.code == expected[r["SalesOrderStatus"]], r["SalesOrderNumber"]
