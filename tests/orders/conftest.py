from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from orders import d365
from orders.odata.auth import StaticTokenProvider
from orders.services import customer_user_upsert
from orders.selectors import AccountRef
from simulator.server import Simulator
from tests.fakes import FakeFnO

PASSWORD = "correct-horse-battery-staple"


def order_row(company: str, number: str, account: str, **fields: Any) -> dict[str, Any]:
    """A SalesOrderHeadersV2 row as F&O sends it, with its expanded lines."""
    row: dict[str, Any] = {
        "@odata.etag": 'W/"JzEsNTYzNzE0NDU3Nic="',
        "dataAreaId": company,
        "SalesOrderNumber": number,
        "OrderingCustomerAccountNumber": account,
        "SalesOrderName": "Contoso",
        "SalesOrderStatus": "Backorder",
        "SalesOrderProcessingStatus": "Confirmed",
        "IsSalesProcessingStopped": "No",
        "CustomersOrderReference": "PO-1",
        "CustomerRequisitionNumber": "",
        "OrderCreationDateTime": "2026-11-02T09:15:00Z",
        "RequestedShippingDate": "2026-11-10T12:00:00Z",
        "ConfirmedShippingDate": "1900-01-01T12:00:00Z",
        "RequestedReceiptDate": "2026-11-12T12:00:00Z",
        "ConfirmedReceiptDate": "1900-01-01T12:00:00Z",
        "CurrencyCode": "USD",
        "DeliveryModeCode": "Truck",
        "DeliveryTermsCode": "FOB",
        "ShippingCarrierId": "UPS",
        "DeliveryAddressName": "Contoso Receiving",
        "FormattedDelveryAddress": "1 Main St\nSan Diego CA 92101\nUSA",
        "OrderTotalAmount": 0,
        "AreTotalsCalculated": "No",
        "SalesOrderLines": [
            line_row(company, number, 1, amount=100),
            line_row(company, number, 2, amount=50.5),
            line_row(company, number, 3, amount=1000, status="Canceled"),
        ],
    }
    row.update(fields)
    return row


def line_row(company: str, number: str, n: int, *, amount: float, status: str = "Backorder") -> dict[str, Any]:
    return {
        "dataAreaId": company, "InventoryLotId": f"{number}-{n}", "SalesOrderNumber": number, "LineNumber": n,
        "ItemNumber": f"  T000{n}", "LineDescription": f"Item {n}", "OrderedSalesQuantity": 2,
        "SalesUnitSymbol": "ea", "SalesPrice": amount / 2, "LineAmount": amount, "CurrencyCode": "USD",
        "SalesOrderLineStatus": status, "RequestedShippingDate": "2026-11-10T12:00:00Z",
        "ConfirmedShippingDate": "1900-01-01T12:00:00Z", "ConfirmedReceiptDate": "1900-01-01T12:00:00Z",
    }


@pytest.fixture
def fake_fno() -> Iterator[FakeFnO]:
    """F&O in process, behind httpx.MockTransport."""
    import httpx

    fno = FakeFnO()
    d365.set_odata_client(d365.build_odata_client(transport=httpx.MockTransport(fno), tokens=StaticTokenProvider()))
    yield fno
    d365.set_odata_client(None)


@pytest.fixture
def live_fno(simulator: Simulator, settings) -> Iterator[Simulator]:
    """The portal talks to the simulator over a real socket."""
    settings.D365_URL = simulator.url
    settings.D365_TIMEOUT_SECONDS = 2.0
    d365.set_odata_client(d365.build_odata_client(tokens=StaticTokenProvider()))
    yield simulator
    d365.set_odata_client(None)


def make_customer(email: str, *accounts: str):
    refs = [AccountRef(*a.split(":")) for a in accounts]
    user, _ = customer_user_upsert(email=email, password=PASSWORD, accounts=refs)
    return user


@pytest.fixture
def alice(db):
    return make_customer("alice@example.com", "usmf:US-001")


@pytest.fixture
def bob(db):
    return make_customer("bob@example.com", "usmf:US-002")


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client
