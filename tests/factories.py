"""Rows as F&O sends them, and portal users."""
from __future__ import annotations

from typing import Any

from django.test import Client

from orders.accounts import AccountRef
from orders.services import customer_user_upsert

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


def make_customer(email: str, *accounts: str):
    refs = [AccountRef(*a.split(":")) for a in accounts]
    user, _ = customer_user_upsert(email=email, password=PASSWORD, accounts=refs)
    return user


def staff_client(email: str, role: str) -> Client:
    """A signed-in staff member in one of the two portal roles (orders.roles)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username=email, email=email, password="pw-long-enough-1",
                                                is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client
