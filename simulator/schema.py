"""The trimmed entity model the simulator serves: sets, keys, property types and enums (reference §2-4)."""

from __future__ import annotations

from dataclasses import dataclass, replace

NAMESPACE = "Microsoft.Dynamics.DataEntities"

ENUMS: dict[str, list[str]] = {
    "SalesStatus": ["None", "Backorder", "Delivered", "Invoiced", "Canceled"],
    "SalesOrderProcessingStatus": [
        "Active", "Confirmed", "Picked", "PartiallyDelivered", "Delivered",
        "Invoiced", "PartiallyInvoiced", "Canceled", "DeliveredPartiallyInvoiced",
    ],
    "NoYes": ["No", "Yes"],
    "Timezone": ["GMTMINUS0800PACIFICTIME", "GMTPLUS0100BERLIN"],
}


@dataclass(frozen=True)
class EntitySet:
    name: str
    type_name: str
    keys: tuple[str, ...]
    # property -> "String" | "Decimal" | "Int32" | "Int64" | "Date" | "DateTime" | "enum:<EnumType>"
    properties: dict[str, str]
    navigation: dict[str, str]


def _props(strings: str, **typed: str) -> dict[str, str]:
    result = {p: "String" for p in strings.split()}
    result.update(typed)
    return result


SETS: dict[str, EntitySet] = {
    "SalesOrderHeadersV2": EntitySet(
        "SalesOrderHeadersV2",
        "SalesOrderHeaderV2",
        ("dataAreaId", "SalesOrderNumber"),
        _props(
            "dataAreaId SalesOrderNumber SalesOrderName OrderingCustomerAccountNumber InvoiceCustomerAccountNumber "
            "CustomerRequisitionNumber CustomersOrderReference QuotationNumber CurrencyCode DeliveryModeCode "
            "DeliveryTermsCode ShippingCarrierId ShippingCarrierServiceId DefaultShippingWarehouseId "
            "DefaultShippingSiteId DeliveryAddressName DeliveryAddressDescription DeliveryAddressStreet "
            "DeliveryAddressStreetNumber DeliveryAddressCity DeliveryAddressZipCode DeliveryAddressStateId "
            "DeliveryAddressCountyId DeliveryAddressCountryRegionId DeliveryAddressCountryRegionISOCode "
            "FormattedDelveryAddress Email LanguageId PaymentTermsName",
            SalesOrderStatus="enum:SalesStatus",
            SalesOrderProcessingStatus="enum:SalesOrderProcessingStatus",
            IsSalesProcessingStopped="enum:NoYes",
            AreTotalsCalculated="enum:NoYes",
            DeliveryAddressTimeZone="enum:Timezone",
            OrderCreationDateTime="DateTime",
            RequestedShippingDate="Date",
            ConfirmedShippingDate="Date",
            RequestedReceiptDate="Date",
            ConfirmedReceiptDate="Date",
            OrderTotalAmount="Decimal",
            OrderTotalTaxAmount="Decimal",
            OrderTotalDiscountAmount="Decimal",
            OrderTotalChargesAmount="Decimal",
        ),
        {"SalesOrderLines": "SalesOrderLines"},
    ),
    "SalesOrderLines": EntitySet(
        "SalesOrderLines",
        "SalesOrderLine",
        ("dataAreaId", "InventoryLotId"),
        _props(
            "dataAreaId InventoryLotId SalesOrderNumber ItemNumber LineDescription SalesUnitSymbol CurrencyCode "
            "ShippingWarehouseId ShippingSiteId DeliveryModeCode CustomerRequisitionNumber",
            LineNumber="Decimal",
            LineCreationSequenceNumber="Int32",
            OrderedSalesQuantity="Decimal",
            SalesPrice="Decimal",
            SalesPriceQuantity="Decimal",
            LineAmount="Decimal",
            LineDiscountAmount="Decimal",
            LineDiscountPercentage="Decimal",
            SalesDeliverNow="Decimal",
            CustomersLineNumber="Int32",
            SalesOrderLineStatus="enum:SalesStatus",
            IsLineStopped="enum:NoYes",
            RequestedShippingDate="Date",
            ConfirmedShippingDate="Date",
            RequestedReceiptDate="Date",
            ConfirmedReceiptDate="Date",
        ),
        {},
    ),
    "PackingSlipTrackingInformation": EntitySet(
        "PackingSlipTrackingInformation",
        "PackingSlipTrackingInformation",
        ("dataAreaId", "SalesOrderNumber", "PackingSlipNumber", "DeliveryDate", "TrackingNumber"),
        _props("dataAreaId SalesOrderNumber PackingSlipNumber TrackingNumber TrackingURL", DeliveryDate="Date"),
        {},
    ),
    # The packing slip journal, as F&O's BI entities publish it (reference §4): one row per posted slip, whether or
    # not it has tracking numbers, and one per slip line.
    "CustPackingSlipJourBiEntities": EntitySet(
        "CustPackingSlipJourBiEntities",
        "CustPackingSlipJourBiEntity",
        ("dataAreaId", "SourceDocumentHeader"),
        _props(
            "dataAreaId PackingSlipId SalesId DlvMode ShipCarrierId OrderAccount CustomerRef PurchaseOrder "
            "BillOfLadingId",
            SourceDocumentHeader="Int64",
            DeliveryDate="Date",
            DocumentDate="Date",
            Qty="Decimal",
        ),
        {},
    ),
    "CustPackingSlipTransBiEntities": EntitySet(
        "CustPackingSlipTransBiEntities",
        "CustPackingSlipTransBiEntity",
        ("dataAreaId", "SourceDocumentLine"),
        _props(
            "dataAreaId PackingSlipId SalesId ItemId Name SalesUnit",
            SourceDocumentLine="Int64",
            LineNum="Decimal",
            Qty="Decimal",
            Ordered="Decimal",
            Remain="Decimal",
            DeliveryDate="Date",
        ),
        {},
    ),
    "SalesInvoiceHeadersV2": EntitySet(
        "SalesInvoiceHeadersV2",
        "SalesInvoiceHeaderV2",
        ("dataAreaId", "InvoiceNumber", "InvoiceDate", "LedgerVoucher"),
        _props(
            "dataAreaId InvoiceNumber LedgerVoucher SalesOrderNumber InvoiceCustomerAccountNumber "
            "CustomersOrderReference CurrencyCode DeliveryModeCode PaymentTermsName",
            InvoiceDate="Date",
            TotalInvoiceAmount="Decimal",
            TotalTaxAmount="Decimal",
            TotalChargeAmount="Decimal",
            TotalDiscountAmount="Decimal",
        ),
        {},
    ),
    "CustomersV3": EntitySet(
        "CustomersV3",
        "CustomerV3",
        ("dataAreaId", "CustomerAccount"),
        _props("dataAreaId CustomerAccount OrganizationName CustomerGroupId SalesCurrencyCode"),
        {},
    ),
}

_EDM = {"String": "Edm.String", "Decimal": "Edm.Decimal", "Int32": "Edm.Int32", "Int64": "Edm.Int64",
        "Date": "Edm.DateTimeOffset", "DateTime": "Edm.DateTimeOffset"}


def visible(entity: EntitySet, hidden: frozenset[str]) -> EntitySet:
    """The set as F&O would publish it with the `hide` fault: hidden fields and navigations gone, and so is any
    navigation to a hidden set."""
    if not hidden:
        return entity
    return replace(
        entity,
        properties={p: k for p, k in entity.properties.items() if f"{entity.name}.{p}" not in hidden},
        navigation={n: t for n, t in entity.navigation.items()
                    if f"{entity.name}.{n}" not in hidden and t not in hidden},
    )


def metadata_xml(hidden: frozenset[str] = frozenset()) -> str:
    """A trimmed EDMX 4.0 document for the sets above, without what the `hide` fault hides."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        "<edmx:DataServices>",
        f'<Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
    ]
    for enum, members in ENUMS.items():
        out.append(f'<EnumType Name="{enum}">')
        out.extend(f'<Member Name="{m}" Value="{i}"/>' for i, m in enumerate(members))
        out.append("</EnumType>")
    published = [visible(es, hidden) for es in SETS.values() if es.name not in hidden]
    for es in published:
        out.append(f'<EntityType Name="{es.type_name}">')
        out.append("<Key>" + "".join(f'<PropertyRef Name="{k}"/>' for k in es.keys) + "</Key>")
        for prop, kind in es.properties.items():
            edm = f"{NAMESPACE}.{kind[5:]}" if kind.startswith("enum:") else _EDM[kind]
            nullable = ' Nullable="false"' if prop in es.keys or kind in ("Decimal", "Date", "DateTime") else ""
            out.append(f'<Property Name="{prop}" Type="{edm}"{nullable}/>')
        for nav, target in es.navigation.items():
            out.append(f'<NavigationProperty Name="{nav}" Type="Collection({NAMESPACE}.{SETS[target].type_name})"/>')
        out.append("</EntityType>")
    out.append('<EntityContainer Name="Resources">')
    for es in published:
        out.append(f'<EntitySet Name="{es.name}" EntityType="{NAMESPACE}.{es.type_name}"/>')
    out.append("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")
    return "\n".join(out)
