"""Everything the portal reads from F&O, declared once: per entity set the setting that names it, the fields the
portal selects (the record classes' FIELDS) with the type each must have, and the navigation it expands.

`fno_check` iterates this registry, so a record that starts selecting a new field is checked without more work.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from orders import documents, records


class Kind(StrEnum):
    """What the portal's readers (orders/odata/values.py) can turn into a value."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"  # date-only fields are Edm.DateTimeOffset at noon UTC in F&O (reference §5)
    DATETIME = "datetime"
    ID = "id"  # a numeric surrogate key (Int64 RecIds in the BI entities)
    SALES_STATUS = "enum SalesStatus"
    PROCESSING_STATUS = "enum SalesOrderProcessingStatus"
    NO_YES = "enum NoYes"


# By field name: F&O uses one name for one meaning across its entities. A field missing here is checked for
# existence only.
FIELD_KINDS: dict[str, Kind] = {
    # Sales order headers
    "dataAreaId": Kind.TEXT, "SalesOrderNumber": Kind.TEXT, "OrderingCustomerAccountNumber": Kind.TEXT,
    "SalesOrderName": Kind.TEXT, "SalesOrderStatus": Kind.SALES_STATUS,
    "SalesOrderProcessingStatus": Kind.PROCESSING_STATUS, "IsSalesProcessingStopped": Kind.NO_YES,
    "CustomersOrderReference": Kind.TEXT, "CustomerRequisitionNumber": Kind.TEXT,
    "OrderCreationDateTime": Kind.DATETIME, "RequestedShippingDate": Kind.DATE, "ConfirmedShippingDate": Kind.DATE,
    "RequestedReceiptDate": Kind.DATE, "ConfirmedReceiptDate": Kind.DATE, "CurrencyCode": Kind.TEXT,
    "DeliveryModeCode": Kind.TEXT, "DeliveryTermsCode": Kind.TEXT, "ShippingCarrierId": Kind.TEXT,
    "DeliveryAddressName": Kind.TEXT, "FormattedDelveryAddress": Kind.TEXT, "OrderTotalAmount": Kind.NUMBER,
    "AreTotalsCalculated": Kind.NO_YES, "DeliveryAddressZipCode": Kind.TEXT,
    # Sales order lines
    "InventoryLotId": Kind.TEXT, "LineNumber": Kind.NUMBER, "ItemNumber": Kind.TEXT, "LineDescription": Kind.TEXT,
    "OrderedSalesQuantity": Kind.NUMBER, "SalesUnitSymbol": Kind.TEXT, "SalesPrice": Kind.NUMBER,
    "LineAmount": Kind.NUMBER, "SalesOrderLineStatus": Kind.SALES_STATUS,
    # Packing slip tracking
    "PackingSlipNumber": Kind.TEXT, "DeliveryDate": Kind.DATE, "TrackingNumber": Kind.TEXT,
    "TrackingURL": Kind.TEXT,
    # Packing slip journal and its lines (the BI entities)
    "SourceDocumentHeader": Kind.ID, "SourceDocumentLine": Kind.ID, "PackingSlipId": Kind.TEXT,
    "SalesId": Kind.TEXT, "OrderAccount": Kind.TEXT, "DocumentDate": Kind.DATE, "DlvMode": Kind.TEXT,
    "ShipCarrierId": Kind.TEXT, "CustomerRef": Kind.TEXT, "PurchaseOrder": Kind.TEXT, "BillOfLadingId": Kind.TEXT,
    "LineNum": Kind.NUMBER, "ItemId": Kind.TEXT, "Name": Kind.TEXT, "Qty": Kind.NUMBER, "Ordered": Kind.NUMBER,
    "Remain": Kind.NUMBER, "SalesUnit": Kind.TEXT,
    # Invoices
    "InvoiceNumber": Kind.TEXT, "InvoiceDate": Kind.DATE, "InvoiceCustomerAccountNumber": Kind.TEXT,
    "TotalInvoiceAmount": Kind.NUMBER, "TotalTaxAmount": Kind.NUMBER,
    # Customers
    "CustomerAccount": Kind.TEXT, "OrganizationName": Kind.TEXT,
}


@dataclass(frozen=True)
class Navigation:
    """`$expand` from one set to another: the navigation's name and the set it must lead to, both settings."""

    setting: str
    target_setting: str

    @property
    def name(self) -> str:
        name: str = getattr(settings, self.setting)
        return name

    @property
    def target_set(self) -> str:
        target_set: str = getattr(settings, self.target_setting)
        return target_set


@dataclass(frozen=True)
class EntityRead:
    """One entity set the portal reads."""

    setting: str
    purpose: str
    fields: tuple[str, ...]
    navigation: Navigation | None = None

    @property
    def entity_set(self) -> str:
        entity_set: str = getattr(settings, self.setting)
        return entity_set


def portal_reads() -> tuple[EntityRead, ...]:
    """The entity sets the portal reads, in the order a reader of the check expects them."""
    headers = tuple(records.SalesOrder.FIELDS)
    if settings.GUEST_TRACKING:
        # Guest tracking filters the headers by the delivery postal code too (orders/reads/guest.py).
        headers += tuple(f for f in records.OrderOwner.FIELDS if f not in headers)
    reads = [
        EntityRead("D365_ENTITY_SALES_ORDERS", "sales order headers", headers,
                   Navigation("D365_NAV_SALES_ORDER_LINES", "D365_ENTITY_SALES_ORDER_LINES")),
        EntityRead("D365_ENTITY_SALES_ORDER_LINES", "sales order lines", tuple(records.OrderLine.FIELDS)),
    ]
    reads += [
        EntityRead("D365_ENTITY_PACKING_SLIPS", "packing slip tracking numbers",
                   tuple(documents.PackingSlipTracking.FIELDS)),
        EntityRead("D365_ENTITY_PACKING_SLIP_JOURNAL", "packing slip journal", tuple(documents.PackingSlip.FIELDS)),
        EntityRead("D365_ENTITY_PACKING_SLIP_LINES", "packing slip lines", tuple(documents.PackingSlipLine.FIELDS)),
    ]
    reads.append(EntityRead("D365_ENTITY_INVOICES", "invoices", tuple(documents.Invoice.FIELDS)))
    reads.append(EntityRead("D365_ENTITY_CUSTOMERS", "customers (to check account links)",
                            tuple(records.Customer.FIELDS)))
    return tuple(reads)

