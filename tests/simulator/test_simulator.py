"""The simulator is strict where F&O is strict (reference §1, §6, §7). Plain httpx, no portal code."""

from __future__ import annotations

import httpx
import pytest

from simulator import data
from simulator.server import Simulator

pytestmark = pytest.mark.integration


def _get(sim: Simulator, path: str) -> httpx.Response:
    return httpx.get(sim.url + path, timeout=5)


def _assert_fno_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) >= {"code", "message"}
    return error.get("innererror", {}).get("message", error["message"])


@pytest.mark.parametrize(
    "query",
    [
        "$filter=startswith(SalesOrderNumber,'00')",
        "$filter=contains(SalesOrderName,'x')",
        "$filter=SalesOrderNumber%20in%20('1','2')",
        "$filter=SalesOrderStatus%20has%20Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'",
        "$filter=salesOrderNumber%20eq%20'1'",
        "$select=salesordernumber",
        "$filter=SalesOrderStatus%20eq%20'Backorder'",
        "$filter=SalesOrderStatus%20gt%20Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'",
        "$search=blue",
        "$expand=SalesOrderLines($expand=DimensionSet)",
    ],
)
def test_what_f_and_o_rejects_is_a_400_with_its_error_body(simulator: Simulator, query: str) -> None:
    _assert_fno_error(_get(simulator, f"/data/SalesOrderHeadersV2?cross-company=true&{query}"), 400)


def test_key_read_without_every_key_field_is_400(simulator: Simulator) -> None:
    message = _assert_fno_error(_get(simulator, "/data/SalesOrderHeadersV2(SalesOrderNumber='001001')"), 400)
    assert "key" in message


def test_names_are_case_sensitive(simulator: Simulator) -> None:
    _assert_fno_error(_get(simulator, "/data/salesorderheadersv2"), 404)


def test_without_cross_company_only_the_default_company_answers(simulator: Simulator) -> None:
    scoped = _get(simulator, "/data/SalesOrderHeadersV2?$select=dataAreaId").json()["value"]
    everything = _get(simulator, "/data/SalesOrderHeadersV2?cross-company=true&$select=dataAreaId").json()["value"]
    assert {r["dataAreaId"] for r in scoped} == {"usmf"}
    assert {r["dataAreaId"] for r in everything} == {"usmf", "demf", "gbsi"}
    key = "/data/SalesOrderHeadersV2(dataAreaId='demf',SalesOrderNumber='001042')"
    assert _get(simulator, key).status_code == 404
    assert _get(simulator, key + "?cross-company=true").status_code == 200


def test_values_use_f_and_o_formats(simulator: Simulator) -> None:
    rows = _get(simulator, "/data/SalesOrderHeadersV2?cross-company=true").json()["value"]
    row = rows[0]
    assert row["@odata.etag"].startswith('W/"')
    assert row["SalesOrderStatus"] in ("None", "Backorder", "Delivered", "Invoiced", "Canceled")
    assert any(r["ConfirmedShippingDate"] == "1900-01-01T12:00:00Z" for r in rows)
    assert all(r["RequestedShippingDate"].endswith("T12:00:00Z") for r in rows)
    assert any(r["CustomerRequisitionNumber"] == "" for r in rows)


def test_enum_literal_wildcards_count_and_paging(simulator: Simulator) -> None:
    enum = "SalesOrderStatus%20eq%20Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'"
    body = _get(simulator, f"/data/SalesOrderHeadersV2?cross-company=true&$filter={enum}&$count=true&$top=2").json()
    assert body["@odata.count"] > 2
    assert len(body["value"]) == 2
    assert {r["SalesOrderStatus"] for r in body["value"]} == {"Backorder"}
    like = _get(simulator, "/data/SalesOrderHeadersV2?cross-company=true&$filter=SalesOrderName%20eq%20'*wholesales*'")
    assert like.json()["value"]
    assert all("wholesales" in r["SalesOrderName"].lower() for r in like.json()["value"])
    count = _get(simulator, "/data/SalesOrderLines/$count?cross-company=true")
    assert int(count.text) == len(data.build().tables["SalesOrderLines"])


def test_expand_and_metadata(simulator: Simulator) -> None:
    url = (
        "/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='001001')?cross-company=true"
        "&$select=SalesOrderNumber&$expand=SalesOrderLines($select=ItemNumber,LineAmount)"
    )
    body = _get(simulator, url).json()
    assert body["@odata.context"].endswith("#SalesOrderHeadersV2(SalesOrderNumber)/$entity")
    assert body["SalesOrderLines"]
    assert set(body["SalesOrderLines"][0]) == {"@odata.etag", "ItemNumber", "LineAmount"}
    metadata = _get(simulator, "/data/$metadata")
    assert 'EnumType Name="SalesStatus"' in metadata.text


def test_demo_data_covers_the_portal_cases() -> None:
    tables = data.build().tables
    headers = tables["SalesOrderHeadersV2"]
    assert len(headers) >= 300
    assert {r["SalesOrderStatus"] for r in headers} == {"None", "Backorder", "Delivered", "Invoiced", "Canceled"}
    assert len({r["SalesOrderProcessingStatus"] for r in headers}) == 9
    assert any(r["IsSalesProcessingStopped"] == "Yes" for r in headers)
    assert {r["dataAreaId"] for r in headers} == {"usmf", "demf", "gbsi"}
    accounts = {(r["dataAreaId"], r["OrderingCustomerAccountNumber"]) for r in headers}
    assert len(accounts) >= 8
    assert ("usmf", "US-003") in accounts
    assert ("demf", "US-003") in accounts
    by_number: dict[str, set[str]] = {}
    for r in headers:
        by_number.setdefault(r["SalesOrderNumber"], set()).add(r["dataAreaId"])
    assert any(len(companies) == 2 for companies in by_number.values())
    tracking = tables["PackingSlipTrackingInformation"]
    assert all(r["TrackingNumber"] and r["TrackingURL"] for r in tracking)  # a row per parcel, none without one
    assert any(r["SalesOrderLineStatus"] == "Canceled" for r in tables["SalesOrderLines"])
    assert tables["SalesInvoiceHeadersV2"]


def test_fault_switches_over_the_admin_endpoint(simulator: Simulator) -> None:
    assert httpx.post(simulator.url + "/_sim/faults", json={"status": 503, "count": 1}).status_code == 200
    assert _get(simulator, "/data/SalesOrderHeadersV2?$top=1").status_code == 503
    assert _get(simulator, "/data/SalesOrderHeadersV2?$top=1").status_code == 200
    assert httpx.post(simulator.url + "/_sim/faults", json={"nonsense": 1}).status_code == 400
    httpx.post(simulator.url + "/_sim/faults", json={"status": 429, "retry_after": "7"})
    throttled = _get(simulator, "/data/SalesOrderHeadersV2?$top=1")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    httpx.delete(simulator.url + "/_sim/faults")
    assert _get(simulator, "/data/SalesOrderHeadersV2?$top=1").status_code == 200


def test_indexed_and_scanned_filters_agree(simulator: Simulator) -> None:
    # `SalesOrderNumber eq` inside an `and` uses the index; inside an `or` it cannot. Both must find the same rows.
    indexed = "dataAreaId%20eq%20'usmf'%20and%20SalesOrderNumber%20eq%20'001042'"
    scanned = "SalesOrderNumber%20eq%20'001042'%20or%20SalesOrderNumber%20eq%20'nothing'"
    a = _get(simulator, f"/data/SalesOrderHeadersV2?cross-company=true&$filter={indexed}").json()["value"]
    b = _get(simulator, f"/data/SalesOrderHeadersV2?cross-company=true&$filter={scanned}").json()["value"]
    assert [r["dataAreaId"] for r in a] == ["usmf"]
    assert sorted(r["dataAreaId"] for r in b) == ["demf", "usmf"]
    scoped = _get(simulator, "/data/SalesOrderHeadersV2?$filter=SalesOrderNumber%20eq%20'001042'").json()["value"]
    assert [r["dataAreaId"] for r in scoped] == ["usmf"]


def test_demo_data_has_packing_slips_with_several_parcels_none_and_partial_deliveries() -> None:
    tables = data.build().tables
    parcels: dict[tuple[str, str], int] = {}
    for row in tables["PackingSlipTrackingInformation"]:
        key = (row["dataAreaId"], row["PackingSlipNumber"])
        parcels[key] = parcels.get(key, 0) + 1
    journal = tables["CustPackingSlipJourBiEntities"]
    slips = {(r["dataAreaId"], r["PackingSlipId"]) for r in journal}
    assert set(parcels) <= slips  # every tracked slip is in the journal
    assert max(parcels.values()) >= 3
    untracked = [r for r in journal if (r["dataAreaId"], r["PackingSlipId"]) not in parcels]
    assert untracked
    assert {r["DlvMode"] for r in untracked} == {data.PICKUP}
    lines = tables["CustPackingSlipTransBiEntities"]
    assert {(r["dataAreaId"], r["PackingSlipId"]) for r in lines} == slips
    assert any(r["Remain"] > 0 for r in lines)  # partial deliveries
    per_order: dict[tuple[str, str], set[str]] = {}
    for r in journal:
        per_order.setdefault((r["dataAreaId"], r["SalesId"]), set()).add(r["PackingSlipId"])
    assert any(len(s) == 2 for s in per_order.values())
    active = [r for r in tables["SalesOrderHeadersV2"] if r["dataAreaId"] == data.ACTIVE_UNTIL_DELIVERY]
    assert {r["SalesOrderProcessingStatus"] for r in active} == {"Active", "Delivered", "Invoiced", "Canceled"}
    partly = {(r["dataAreaId"], r["SalesOrderNumber"]) for r in active
              if r["SalesOrderStatus"] == "Backorder" and (r["dataAreaId"], r["SalesOrderNumber"]) in per_order}
    assert partly  # partly delivered, and still "Active"


def test_packing_slip_journal_is_served_with_company_scoping_and_strict_names(simulator: Simulator) -> None:
    query = ("$filter=dataAreaId%20eq%20'usmf'%20and%20SalesId%20eq%20'001067'"
             "&$select=PackingSlipId,SalesId,OrderAccount,DlvMode&$orderby=DeliveryDate%20desc&$top=5")
    rows = _get(simulator, f"/data/CustPackingSlipJourBiEntities?cross-company=true&{query}").json()["value"]
    assert rows
    assert {r["SalesId"] for r in rows} == {"001067"}
    assert set(rows[0]) == {"@odata.etag", "PackingSlipId", "SalesId", "OrderAccount", "DlvMode"}
    demf = "$filter=dataAreaId%20eq%20'demf'&$top=3"
    assert _get(simulator, f"/data/CustPackingSlipTransBiEntities?{demf}").json()["value"] == []
    assert _get(simulator, f"/data/CustPackingSlipTransBiEntities?cross-company=true&{demf}").json()["value"]
    _assert_fno_error(_get(simulator, "/data/CustPackingSlipJourBIEntities"), 404)
    _assert_fno_error(_get(simulator, "/data/CustPackingSlipTransBiEntities?$select=LineNumber"), 400)
    _assert_fno_error(_get(simulator, "/data/CustPackingSlipTransBiEntities?$filter=SalesId%20eq%201"), 400)
    metadata = _get(simulator, "/data/$metadata").text
    assert '<EntitySet Name="CustPackingSlipJourBiEntities"' in metadata
    assert '<Property Name="SourceDocumentLine" Type="Edm.Int64" Nullable="false"/>' in metadata
