"""Typed records read from F&O's sales order entities: the header, its lines, whose order a number is, and the
customer. The order's documents (packing slips, tracking numbers, invoices) are in documents.py. F&O's PascalCase
names live in these two modules and in the query code only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self

from orders.odata.values import read_date, read_datetime, read_decimal, read_enum, read_str, read_yes


@dataclass(frozen=True)
class SalesOrder:
    company: str
    number: str
    customer_account: str
    customer_name: str
    status: str
    processing_status: str
    on_hold: bool
    customer_reference: str
    requisition_number: str
    created_at: datetime | None
    requested_ship_date: date | None
    confirmed_ship_date: date | None
    requested_receipt_date: date | None
    confirmed_receipt_date: date | None
    currency: str
    delivery_mode: str
    delivery_terms: str
    carrier: str
    delivery_name: str
    delivery_address: str
    header_total: Decimal
    totals_calculated: bool

    FIELDS = (
        "dataAreaId", "SalesOrderNumber", "OrderingCustomerAccountNumber", "SalesOrderName", "SalesOrderStatus",
        "SalesOrderProcessingStatus", "IsSalesProcessingStopped", "CustomersOrderReference",
        "CustomerRequisitionNumber", "OrderCreationDateTime", "RequestedShippingDate", "ConfirmedShippingDate",
        "RequestedReceiptDate", "ConfirmedReceiptDate", "CurrencyCode", "DeliveryModeCode", "DeliveryTermsCode",
        "ShippingCarrierId", "DeliveryAddressName", "FormattedDelveryAddress", "OrderTotalAmount",
        "AreTotalsCalculated",
    )
    # What a list row shows (web, API and staff search): no delivery address or name, so list copies and their
    # audit snapshots hold nothing they do not need.
    LIST_FIELDS = (
        "dataAreaId", "SalesOrderNumber", "OrderingCustomerAccountNumber", "SalesOrderName", "SalesOrderStatus",
        "SalesOrderProcessingStatus", "IsSalesProcessingStopped", "CustomersOrderReference",
        "CustomerRequisitionNumber", "OrderCreationDateTime", "RequestedShippingDate", "ConfirmedShippingDate",
        "CurrencyCode", "OrderTotalAmount", "AreTotalsCalculated",
    )

    @classmethod
    def from_odata(cls, row: dict[str, Any]) -> Self:
        return cls(
            company=read_str(row, "dataAreaId").lower(),
            number=read_str(row, "SalesOrderNumber"),
            customer_account=read_str(row, "OrderingCustomerAccountNumber"),
            customer_name=read_str(row, "SalesOrderName"),
            status=read_enum(row, "SalesOrderStatus"),
            processing_status=read_enum(row, "SalesOrderProcessingStatus"),
            on_hold=read_yes(row, "IsSalesProcessingStopped"),
            customer_reference=read_str(row, "CustomersOrderReference"),
            requisition_number=read_str(row, "CustomerRequisitionNumber"),
            created_at=read_datetime(row, "OrderCreationDateTime"),
            requested_ship_date=read_date(row, "RequestedShippingDate"),
            confirmed_ship_date=read_date(row, "ConfirmedShippingDate"),
            requested_receipt_date=read_date(row, "RequestedReceiptDate"),
            confirmed_receipt_date=read_date(row, "ConfirmedReceiptDate"),
            currency=read_str(row, "CurrencyCode"),
            delivery_mode=read_str(row, "DeliveryModeCode"),
            delivery_terms=read_str(row, "DeliveryTermsCode"),
            carrier=read_str(row, "ShippingCarrierId"),
            delivery_name=read_str(row, "DeliveryAddressName"),
            # Microsoft's spelling: "Delvery".
            delivery_address=read_str(row, "FormattedDelveryAddress"),
            header_total=read_decimal(row, "OrderTotalAmount"),
            totals_calculated=read_yes(row, "AreTotalsCalculated"),
        )


@dataclass(frozen=True)
class OrderLine:
    company: str
    lot_id: str
    order_number: str
    line_number: Decimal
    item_number: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    currency: str
    status: str
    requested_ship_date: date | None
    confirmed_ship_date: date | None
    confirmed_receipt_date: date | None

    FIELDS = (
        "dataAreaId", "InventoryLotId", "SalesOrderNumber", "LineNumber", "ItemNumber", "LineDescription",
        "OrderedSalesQuantity", "SalesUnitSymbol", "SalesPrice", "LineAmount", "CurrencyCode",
        "SalesOrderLineStatus", "RequestedShippingDate", "ConfirmedShippingDate", "ConfirmedReceiptDate",
    )

    @classmethod
    def from_odata(cls, row: dict[str, Any]) -> Self:
        return cls(
            company=read_str(row, "dataAreaId").lower(),
            lot_id=read_str(row, "InventoryLotId"),
            order_number=read_str(row, "SalesOrderNumber"),
            line_number=read_decimal(row, "LineNumber"),
            item_number=read_str(row, "ItemNumber"),
            description=read_str(row, "LineDescription"),
            quantity=read_decimal(row, "OrderedSalesQuantity"),
            unit=read_str(row, "SalesUnitSymbol"),
            unit_price=read_decimal(row, "SalesPrice"),
            amount=read_decimal(row, "LineAmount"),
            currency=read_str(row, "CurrencyCode"),
            status=read_enum(row, "SalesOrderLineStatus"),
            requested_ship_date=read_date(row, "RequestedShippingDate"),
            confirmed_ship_date=read_date(row, "ConfirmedShippingDate"),
            confirmed_receipt_date=read_date(row, "ConfirmedReceiptDate"),
        )


@dataclass(frozen=True)
class Customer:
    company: str
    account: str
    name: str

    FIELDS = ("dataAreaId", "CustomerAccount", "OrganizationName")

    @classmethod
    def from_odata(cls, row: dict[str, Any]) -> Self:
        return cls(
            company=read_str(row, "dataAreaId").lower(),
            account=read_str(row, "CustomerAccount"),
            name=read_str(row, "OrganizationName"),
        )


@dataclass(frozen=True)
class OrderOwner:
    """Whose order a number is (from SalesOrderHeadersV2), with the two facts a guest may prove it with."""

    company: str
    number: str
    customer_account: str
    postal_code: str
    customer_reference: str

    FIELDS = (
        "dataAreaId", "SalesOrderNumber", "OrderingCustomerAccountNumber", "DeliveryAddressZipCode",
        "CustomersOrderReference",
    )

    @classmethod
    def from_odata(cls, row: dict[str, Any]) -> Self:
        return cls(
            company=read_str(row, "dataAreaId").lower(),
            number=read_str(row, "SalesOrderNumber"),
            customer_account=read_str(row, "OrderingCustomerAccountNumber"),
            postal_code=read_str(row, "DeliveryAddressZipCode"),
            customer_reference=read_str(row, "CustomersOrderReference"),
        )
