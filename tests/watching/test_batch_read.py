"""The watcher's batch read (orders.reads.watched through orders.selectors.order_details_refresh), against an
in-process F&O that answers every query with all its rows, whatever the filter: what F&O is asked, and what is
kept of what it sends."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import PromiseDate
from orders.selectors import order_cache_key, order_details_refresh
from tests.factories import order_row
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db

SCOPE = "dataAreaId eq 'usmf' and OrderingCustomerAccountNumber eq 'US-001'"


def _slip(number: str, slip: str) -> dict:
    return {"dataAreaId": "usmf", "SalesOrderNumber": number, "PackingSlipNumber": slip,
            "DeliveryDate": "2026-12-01T12:00:00Z", "TrackingNumber": f"1Z-{slip}", "TrackingURL": ""}


def _filters(fno: FakeFnO, entity_set: str) -> list[str]:
    return [unquote(r.url.params.get("$filter", "")) for r in fno.requests if f"/data/{entity_set}" in str(r.url)]


def test_one_request_per_entity_set_scoped_by_company_and_account_documents_only_for_proven_orders(
    fake_fno: FakeFnO,
) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "SO-1", "US-001"), order_row("usmf", "SO-2", "US-001")]
    found = order_details_refresh(company="usmf", account="US-001", numbers=["SO-1", "SO-2", "SO-GONE"],
                                  request_id="t")
    assert sorted(found) == ["so-1", "so-2"]
    [headers] = _filters(fake_fno, "SalesOrderHeadersV2")
    assert headers == (f"{SCOPE} and (SalesOrderNumber eq 'SO-1' or SalesOrderNumber eq 'SO-2' "
                       "or SalesOrderNumber eq 'SO-GONE')")
    # The documents carry no account: they are asked for the orders the account-scoped read returned, only.
    [tracking] = _filters(fake_fno, "PackingSlipTrackingInformation")
    assert tracking == "dataAreaId eq 'usmf' and (SalesOrderNumber eq 'SO-1' or SalesOrderNumber eq 'SO-2')"
    [journal] = _filters(fake_fno, "CustPackingSlipJourBiEntities")
    assert journal.startswith("dataAreaId eq 'usmf' and OrderAccount eq 'US-001' and (SalesId eq 'SO-1' or ")
    assert len(fake_fno.requests) == 5
    assert fake_fno.requests[0].url.path.endswith("/SalesOrderHeadersV2")  # the header first: it is the proof


def test_rows_of_another_account_or_order_are_dropped_whatever_fno_sends(fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "SO-1", "US-001"), order_row("usmf", "SO-2", "US-002"),
                                            order_row("demf", "SO-3", "US-001")]
    fake_fno.rows["PackingSlipTrackingInformation"] = [_slip("SO-1", "PS-1"), _slip("SO-2", "PS-2")]
    found = order_details_refresh(company="usmf", account="US-001", numbers=["SO-1", "SO-2", "SO-3"],
                                  request_id="t")
    assert list(found) == ["so-1"]
    assert [s.packing_slip_number for s in found["so-1"].shipments] == ["PS-1"]


def test_quotes_in_order_numbers_are_escaped_in_the_filter(fake_fno: FakeFnO) -> None:
    order_details_refresh(company="usmf", account="US-001", numbers=["O'Brien 1"], request_id="t")
    [headers] = _filters(fake_fno, "SalesOrderHeadersV2")
    assert headers.endswith("SalesOrderNumber eq 'O''Brien 1'")


def test_a_batch_too_long_for_one_url_is_split_and_each_part_fits(fake_fno: FakeFnO, settings) -> None:
    numbers = [f"SO-{n:02}-" + "X" * 34 for n in range(20)]  # 40 characters each
    order_details_refresh(company="usmf", account="US-001", numbers=numbers, request_id="t")
    headers = [r for r in fake_fno.requests if "/SalesOrderHeadersV2" in str(r.url)]
    assert len(headers) > 1
    assert all(len(r.url.raw_path) <= settings.D365_MAX_URL_LENGTH for r in fake_fno.requests)
    asked = [n for f in _filters(fake_fno, "SalesOrderHeadersV2") for n in numbers if f"'{n}'" in f]
    assert sorted(asked) == sorted(numbers)  # every order asked for once


def test_the_read_refreshes_the_customers_copy_and_records_promised_dates(fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "SO-1", "US-001",
                                                      ConfirmedShippingDate="2026-12-19T12:00:00Z")]
    order_details_refresh(company="usmf", account="us-001", numbers=["so-1"], request_id="t")
    copy = cache.get(order_cache_key(company="usmf", account="US-001", number="SO-1"))
    assert copy is not None
    assert str(copy.value.order.confirmed_ship_date) == "2026-12-19"
    assert list(PromiseDate.objects.values_list("number", "kind", "value")) == [
        ("SO-1", "ship", copy.value.order.confirmed_ship_date)]


def test_a_customers_cached_copy_writes_no_promised_date(alice_client, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001",
                                                      ConfirmedShippingDate="2026-12-19T12:00:00Z")]
    alice_client.get("/orders/usmf/000123/")
    with CaptureQueriesContext(connection) as cached_view:
        alice_client.get("/orders/usmf/000123/")
    assert not [q for q in cached_view.captured_queries if "orders_promisedate" in q["sql"]
                and q["sql"].lstrip().upper().startswith("INSERT")]
    assert PromiseDate.objects.count() == 1
