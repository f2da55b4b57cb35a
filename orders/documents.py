"""Typed records of an order's documents read from F&O: the packing slip journal with its lines
(`CustPackingSlipJourBiEntities`, `CustPackingSlipTransBiEntities`), the slips' tracking numbers
(`PackingSlipTrackingInformation`) and the invoices (`SalesInvoiceHeadersV2`). The order itself is in records.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Self
from urllib.parse import urlsplit

from orders.odata.values import read_date, read_decimal, read_str


def _safe_url(value: str) -> str:
    """Tracking URLs come from F&O data; only plain web links may become a link in our pages."""
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. "http://[x": an unbalanced IPv6 bracket
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return value


@dataclass(frozen=True)
class PackingSlipTracking:
    """One row of `PackingSlipTrackingInformation`: one tracking number of one packing slip, not a shipment.

    A slip with three parcels has three rows; a slip posted without tracking information has none (reference §4).
    """

    company: str
    order_number: str
    packing_slip_number: str
    delivery_date: date | None
    tracking_number: str
    tracking_url: str

    FIELDS = ("dataAreaId", "SalesOrderNumber", "PackingSlipNumber", "DeliveryDate", "TrackingNumber", "TrackingURL")

    @classmethod
    def from_odata(cls, row: dict[str, Any]) -> Self:
        return cls(
            company=read_str(row, "dataAreaId").lower(),
            order_number=read_str(row, "SalesOrderNumber"),
            packing_slip_number=read_str(row, "PackingSlipNumber"),
            delivery_date=read_date(row, "DeliveryDate"),
            tracking_number=read_str(row, "TrackingNumber"),
            tracking_url=_safe_url(read_str(row, "TrackingURL")),
        )


@dataclass(frozen=True)
class PackingSlip:
    """One posted packing slip: a row of the packing slip journal (`CustPackingSlipJourBiEntities`)."""

    company: str
    packing_slip_number: str
    order_number: str
    customer_account: str
    delivery_date: date | None
    delivery_mode: str
    carrier: str

    FIELDS = ("dataAreaId", "PackingSlipId", "SalesId", "OrderAccount", "DeliveryDate", "DlvMode", "ShipCarrierId")

    @classmethod
    def from_odata(cls, row: dict[str, Any]) -> Self:
        return cls(
            company=read_str(row, "dataAreaId").lower(),
            packing_slip_number=read_str(row, "PackingSlipId"),
            order_number=read_str(row, "SalesId"),
            customer_account=read_str(row, "OrderAccount"),
            delivery_date=read_date(row, "DeliveryDate"),
            delivery_mode=read_str(row, "DlvMode"),
            carrier=read_str(row, "ShipCarrierId"),
        )


@dataclass(frozen=True)
class PackingSlipLine:
    """One line of a posted packing slip (`CustPackingSlipTransBiEntities`), quantities in the sales unit.

    `line_number` is the sales order line's number, copied when the slip was posted: matched to the order's lines
    together with the item number, because that copy is unconfirmed (reference §4).
    """

    company: str
    packing_slip_number: str
    order_number: str
    line_number: Decimal
    item_number: str
    description: str
    quantity: Decimal
    ordered: Decimal
    remaining: Decimal
    unit: str

    FIELDS = (
        "dataAreaId", "PackingSlipId", "SalesId", "LineNum", "ItemId", "Name", "Qty", "Ordered", "Remain", "SalesUnit",
    )

    @classmethod
    def from_odata(cls, row: dict[str, Any]) -> Self:
        return cls(
            company=read_str(row, "dataAreaId").lower(),
            packing_slip_number=read_str(row, "PackingSlipId"),
            order_number=read_str(row, "SalesId"),
            line_number=read_decimal(row, "LineNum"),
            item_number=read_str(row, "ItemId"),
            description=read_str(row, "Name"),
            quantity=read_decimal(row, "Qty"),
            ordered=read_decimal(row, "Ordered"),
            remaining=read_decimal(row, "Remain"),
            unit=read_str(row, "SalesUnit"),
        )


@dataclass(frozen=True)
class Invoice:
    company: str
    number: str
    invoice_date: date | None
    order_number: str
    customer_account: str
    currency: str
    amount: Decimal
    tax: Decimal

    FIELDS = (
        "dataAreaId", "InvoiceNumber", "InvoiceDate", "SalesOrderNumber", "InvoiceCustomerAccountNumber",
        "CurrencyCode", "TotalInvoiceAmount", "TotalTaxAmount",
    )

    @classmethod
    def from_odata(cls, row: dict[str, Any]) -> Self:
        return cls(
            company=read_str(row, "dataAreaId").lower(),
            number=read_str(row, "InvoiceNumber"),
            invoice_date=read_date(row, "InvoiceDate"),
            order_number=read_str(row, "SalesOrderNumber"),
            customer_account=read_str(row, "InvoiceCustomerAccountNumber"),
            currency=read_str(row, "CurrencyCode"),
            amount=read_decimal(row, "TotalInvoiceAmount"),
            tax=read_decimal(row, "TotalTaxAmount"),
        )
