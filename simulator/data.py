"""Deterministic demo data in F&O's shapes: companies, customers, orders, lines, packing slips (journal, journal
lines and tracking numbers), invoices."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

EMPTY_DATE = "1900-01-01T12:00:00Z"
DEFAULT_COMPANY = "usmf"

CUSTOMERS = [
    # (company, account, name, currency)
    ("usmf", "US-001", "Contoso Retail San Diego", "USD"),
    ("usmf", "US-002", "Forest Wholesales", "USD"),
    ("usmf", "US-003", "Sunset Wholesales", "USD"),
    ("usmf", "US-004", "Cave Wholesales", "USD"),
    ("usmf", "US-005", "Contoso Europe", "USD"),
    ("usmf", "US-006", "Fabrikam Electronics", "USD"),
    ("demf", "DE-001", "Contoso Einzelhandel Berlin", "EUR"),
    ("demf", "DE-002", "Lindenhof Großhandel", "EUR"),
    ("demf", "DE-003", "Nordwind Elektro", "EUR"),
    # The same buyer in both companies (an account code that exists in usmf and demf).
    ("demf", "US-003", "Sunset Wholesales GmbH", "EUR"),
]

# A company that does not keep SalesOrderProcessingStatus up to date: its orders stay "Active" until delivered, so the
# customer's words must come from SalesOrderStatus there. Its orders follow the others, from a random stream of their
# own, so the orders above stay exactly as they were.
ACTIVE_UNTIL_DELIVERY = "gbsi"
ACTIVE_UNTIL_DELIVERY_CUSTOMERS = [
    ("gbsi", "GB-001", "Thames Audio Ltd", "GBP"),
    ("gbsi", "GB-002", "Pennine Sound Supplies", "GBP"),
]
ACTIVE_UNTIL_DELIVERY_ORDERS = 24

ITEMS = [
    ("T0001", "Speaker cable 10m", "ea", Decimal("12.50")),
    ("T0002", "Projector television", "ea", Decimal("1499.00")),
    ("T0003", "Surround sound receiver", "ea", Decimal("549.99")),
    ("T0004", "High-end speaker, pair", "pr", Decimal("2250.00")),
    ("T0005", "Television M12037 52\"", "ea", Decimal("899.00")),
    ("A0001", "HDMI cable 2m", "ea", Decimal("9.95")),
    ("A0002", "Wall mount, tilting", "ea", Decimal("79.00")),
    ("D0001", "MidRangeSpeaker", "ea", Decimal("310.00")),
    ("D0003", "Standard speaker", "ea", Decimal("145.00")),
    ("M0001", "Cabinet, oak veneer", "ea", Decimal("420.00")),
    ("P0001", "Acoustic foam panel", "box", Decimal("64.00")),
    ("P0002", "Cable ties, 100", "pack", Decimal("4.20")),
    ("L0001", "Subwoofer 12\" active", "ea", Decimal("689.00")),
    ("L0002", "Amplifier 2x150W", "ea", Decimal("799.00")),
    ("S0001", "Installation service", "h", Decimal("85.00")),
]

CARRIERS = [
    ("UPS", "https://www.ups.com/track?tracknum={n}", "1Z{r:016d}"),
    ("FedEx", "https://www.fedex.com/fedextrack/?trknbr={n}", "{r:012d}"),
    ("DHL", "https://www.dhl.com/en/express/tracking.html?AWB={n}", "{r:010d}"),
]
DELIVERY_MODES = ["10", "20", "30", "Air", "Truck"]

# (SalesOrderStatus, SalesOrderProcessingStatus, share of delivered quantity, invoiced)
STAGES = [
    ("None", "Active", 0, False),
    ("Backorder", "Active", 0, False),
    ("Backorder", "Confirmed", 0, False),
    ("Backorder", "Picked", 0, False),
    ("Backorder", "PartiallyDelivered", 1, False),
    ("Backorder", "PartiallyInvoiced", 1, True),
    ("Delivered", "Delivered", 2, False),
    ("Delivered", "DeliveredPartiallyInvoiced", 2, True),
    ("Invoiced", "Invoiced", 2, True),
    ("Canceled", "Canceled", 0, False),
]
ACTIVE_UNTIL_DELIVERY_STAGES = [
    ("None", "Active", 0, False),
    ("Backorder", "Active", 0, False),  # open, dates confirmed
    ("Backorder", "Active", 1, False),  # partly delivered, still "Active"
    ("Delivered", "Delivered", 2, False),
    ("Invoiced", "Invoiced", 2, True),
    ("Canceled", "Canceled", 0, False),
]
INVOICE_PREFIX = {"usmf": "CIV", "demf": "DE-CIV", "gbsi": "GB-CIV"}
PICKUP = "Pickup"  # a slip posted without tracking: the customer collected the goods


def date_value(day: date | None) -> str:
    """Date-only fields: noon UTC; no date: 1900-01-01 (reference §5)."""
    return f"{day.isoformat()}T12:00:00Z" if day else EMPTY_DATE


def instant_value(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def etag(rec_version: int, rec_id: int) -> str:
    payload = f"'{rec_version},{rec_id};0,0;0,0;0,0;0,0;0,0;0,0'".encode()
    return 'W/"' + base64.b64encode(payload).decode() + '"'


def _slip_contents(
    line_rows: list[dict[str, object]], slip_count: int, *, partial: bool
) -> list[list[tuple[dict[str, object], Decimal, Decimal]]]:
    """Per packing slip: (order line, quantity shipped, quantity still to come after it). A partial delivery ships
    the lines already marked Delivered/Invoiced and part of the first open line; a full one ships everything, split
    across two slips when there are two."""
    slips: list[list[tuple[dict[str, object], Decimal, Decimal]]] = [[] for _ in range(slip_count)]
    first_open = True
    for row in line_rows:
        status = row["SalesOrderLineStatus"]
        ordered = Decimal(str(row["OrderedSalesQuantity"]))
        if status == "Canceled":
            continue
        if partial and status not in ("Delivered", "Invoiced"):
            if first_open and ordered > 1:
                first_open = False
                shipped = (ordered / 2).to_integral_value(rounding="ROUND_FLOOR")
                slips[0].append((row, shipped, ordered - shipped))
            continue
        if slip_count == 2 and ordered > 1:
            later = (ordered / 2).to_integral_value(rounding="ROUND_FLOOR")
            slips[0].append((row, ordered - later, later))
            slips[1].append((row, later, Decimal(0)))
        else:
            n = int(str(row["LineNumber"]))
            slips[(n - 1) % slip_count].append((row, ordered, Decimal(0)))
    return slips


@dataclass
class Dataset:
    tables: dict[str, list[dict[str, object]]] = field(default_factory=dict)


def build(*, seed: int = 20261128, orders: int = 320, today: date | None = None) -> Dataset:
    main_stream = random.Random(seed)
    today = today or datetime.now(UTC).date()
    headers: list[dict[str, object]] = []
    lines: list[dict[str, object]] = []
    slips: list[dict[str, object]] = []
    journal: list[dict[str, object]] = []
    journal_lines: list[dict[str, object]] = []
    invoices: list[dict[str, object]] = []
    rec_id = 5637144576
    lot = 1
    invoice_no = {"usmf": 1, "demf": 1, "gbsi": 1}
    slip_no = {"usmf": 1, "demf": 1, "gbsi": 1}
    number_by_company = {"usmf": 1000, "demf": 2000, "gbsi": 3000}
    journal_rec = 5637160000

    plan: list[tuple[int, tuple[str, str, str, str]]] = []
    for i in range(orders):
        customer = CUSTOMERS[i % len(CUSTOMERS)]
        plan.append((i, customer))
    # One order number that exists in both companies, for different customers.
    plan.append((orders, ("demf", "DE-001", CUSTOMERS[6][2], "EUR")))
    for k in range(ACTIVE_UNTIL_DELIVERY_ORDERS):
        plan.append((orders + 1 + k, ACTIVE_UNTIL_DELIVERY_CUSTOMERS[k % len(ACTIVE_UNTIL_DELIVERY_CUSTOMERS)]))
    own_stream = random.Random(seed + 1)

    for i, (company, account, cust_name, currency) in plan:
        rnd = own_stream if i > orders else main_stream
        if i == orders:
            number = "001042"
        else:
            number_by_company[company] += 1
            number = f"{number_by_company[company]:06d}"
        age_days = rnd.randint(0, 540)
        stage = STAGES[i % len(STAGES)] if i < 60 else rnd.choice(STAGES)
        if age_days > 120 and i >= 60 and stage[1] not in ("Canceled",):
            stage = STAGES[8]  # old orders are mostly invoiced
        if age_days < 10 and i >= 60 and stage[2] == 2:
            stage = STAGES[2]
        if i == orders:
            stage = STAGES[2]
        if company == ACTIVE_UNTIL_DELIVERY:
            stage = ACTIVE_UNTIL_DELIVERY_STAGES[(i - orders - 1) % len(ACTIVE_UNTIL_DELIVERY_STAGES)]
        sales_status, processing, delivered, invoiced = stage
        created = datetime.combine(today - timedelta(days=age_days), time(8), tzinfo=UTC) + timedelta(
            minutes=rnd.randint(0, 600)
        )
        requested_ship = created.date() + timedelta(days=rnd.randint(3, 21))
        confirmed = (processing != "Active" or company == ACTIVE_UNTIL_DELIVERY) and sales_status != "None"
        confirmed_ship = requested_ship + timedelta(days=rnd.randint(0, 5)) if confirmed else None
        on_hold = sales_status == "Backorder" and rnd.random() < 0.12 and processing in ("Active", "Confirmed")
        carrier = CARRIERS[i % len(CARRIERS)]
        reference = f"PO-{rnd.randint(10000, 99999)}" if rnd.random() < 0.8 else ""
        requisition = f"REQ-{rnd.randint(1000, 9999)}" if rnd.random() < 0.3 else ""
        rec_id += 1
        line_count = rnd.randint(1, 15)
        line_rows = []
        total = Decimal(0)
        for n in range(1, line_count + 1):
            item = ITEMS[rnd.randrange(len(ITEMS))]
            qty = Decimal(rnd.choice([1, 1, 2, 3, 4, 5, 10, 12, 20, 40]))
            price = item[3] if currency == "USD" else (item[3] * Decimal("0.92")).quantize(Decimal("0.01"))
            amount = (qty * price).quantize(Decimal("0.01"))
            line_status = {"None": "None", "Canceled": "Canceled"}.get(sales_status, sales_status)
            if sales_status == "Backorder" and delivered == 1:
                line_status = "Delivered" if n <= max(1, line_count // 2) else "Backorder"
            if sales_status == "Backorder" and processing == "PartiallyInvoiced":
                line_status = "Invoiced" if n <= max(1, line_count // 2) else "Backorder"
            if sales_status == "Delivered" and processing == "DeliveredPartiallyInvoiced":
                line_status = "Invoiced" if n == 1 else "Delivered"
            if sales_status in ("Backorder", "None") and line_count > 2 and n == line_count and rnd.random() < 0.25:
                line_status = "Canceled"
            if line_status != "Canceled":
                total += amount
            rec_id += 1
            row = {
                "dataAreaId": company,
                "InventoryLotId": f"{lot:06d}" if company == "usmf" else f"DAT-{lot:06d}",
                "SalesOrderNumber": number,
                "LineNumber": Decimal(n),
                "LineCreationSequenceNumber": n,
                # F&O keeps item numbers as stored, leading spaces included.
                "ItemNumber": (" " if n == 3 else "") + item[0],
                "LineDescription": item[1],
                "OrderedSalesQuantity": qty,
                "SalesUnitSymbol": item[2],
                "SalesPrice": price,
                "SalesPriceQuantity": Decimal(1),
                "LineAmount": amount,
                "LineDiscountAmount": Decimal(0),
                "LineDiscountPercentage": Decimal(0),
                "SalesOrderLineStatus": line_status,
                "CurrencyCode": currency,
                "RequestedShippingDate": date_value(requested_ship),
                "ConfirmedShippingDate": date_value(confirmed_ship),
                "RequestedReceiptDate": date_value(requested_ship + timedelta(days=2)),
                "ConfirmedReceiptDate": date_value(confirmed_ship + timedelta(days=2) if confirmed_ship else None),
                "ShippingWarehouseId": "11" if company == "usmf" else "DE-W1",
                "ShippingSiteId": "1",
                "DeliveryModeCode": DELIVERY_MODES[i % len(DELIVERY_MODES)],
                "SalesDeliverNow": Decimal(0),
                "IsLineStopped": "No",
                "CustomerRequisitionNumber": requisition,
                "CustomersLineNumber": 0,
                "@odata.etag": etag(rnd.randint(1, 2**31), rec_id),
            }
            lot += 1
            line_rows.append(row)
        lines.extend(line_rows)

        ship_dates: list[date] = []
        if delivered:
            slip_count = 1 if delivered == 1 else rnd.choice([1, 1, 2])
            base = confirmed_ship or requested_ship
            # Parcels and quantities come from the order's own stream: the main one draws exactly what it always did.
            parcels = random.Random(f"{seed}:{company}:{number}")
            contents = _slip_contents(line_rows, slip_count, partial=delivered == 1)
            for s in range(slip_count):
                day = min(base + timedelta(days=s * 3), today)
                tracked = rnd.random() < 0.85
                tracking = carrier[2].format(r=rnd.randint(10**9, 10**10 - 1)) if tracked else ""
                if not contents[s]:
                    continue  # a single item cannot be split across two deliveries
                ship_dates.append(day)
                slip_id = f"{company.upper()}-PS-{slip_no[company]:06d}"
                slip_no[company] += 1
                journal_rec += 1
                numbers = [tracking] if tracked else []
                if tracked:
                    numbers += [carrier[2].format(r=parcels.randint(10**9, 10**10 - 1))
                                for _ in range(parcels.choice([0, 0, 1, 2]))]
                journal.append({
                    "dataAreaId": company,
                    "SourceDocumentHeader": journal_rec,
                    "PackingSlipId": slip_id,
                    "SalesId": number,
                    "OrderAccount": account,
                    "DeliveryDate": date_value(day),
                    "DocumentDate": date_value(day),
                    "DlvMode": DELIVERY_MODES[i % len(DELIVERY_MODES)] if tracked else PICKUP,
                    "ShipCarrierId": carrier[0] if tracked else "",
                    "CustomerRef": reference,
                    "PurchaseOrder": requisition,
                    "Qty": sum((q for _, q, _ in contents[s]), Decimal(0)),
                    "BillOfLadingId": "",
                    "@odata.etag": etag(1, journal_rec),
                })
                for row, qty, remain in contents[s]:
                    journal_rec += 1
                    journal_lines.append({
                        "dataAreaId": company,
                        "SourceDocumentLine": journal_rec,
                        "PackingSlipId": slip_id,
                        "SalesId": number,
                        "LineNum": row["LineNumber"],
                        "ItemId": row["ItemNumber"],
                        "Name": row["LineDescription"],
                        "Qty": qty,
                        "Ordered": row["OrderedSalesQuantity"],
                        "Remain": remain,
                        "SalesUnit": row["SalesUnitSymbol"],
                        "DeliveryDate": date_value(day),
                        "@odata.etag": etag(1, journal_rec),
                    })
                # One tracking row per parcel; a slip posted without tracking information has none (reference §4).
                for p, parcel in enumerate(numbers):
                    slips.append({
                        "dataAreaId": company,
                        "SalesOrderNumber": number,
                        "PackingSlipNumber": slip_id,
                        "DeliveryDate": date_value(day),
                        "TrackingNumber": parcel,
                        "TrackingURL": carrier[1].format(n=parcel),
                        "@odata.etag": etag(1, rec_id + 100000 + 10 * s + p),
                    })
        if invoiced:
            day = min((ship_dates[-1] if ship_dates else requested_ship) + timedelta(days=1), today)
            parts = 1 if processing != "Invoiced" else rnd.choice([1, 1, 2])
            for p in range(parts):
                share = total / parts if processing == "Invoiced" else (total / 2).quantize(Decimal("0.01"))
                amount = share.quantize(Decimal("0.01"))
                tax = (amount * Decimal("0.08")).quantize(Decimal("0.01"))
                invoices.append(
                    {
                        "dataAreaId": company,
                        "InvoiceNumber": f"{INVOICE_PREFIX[company]}-{invoice_no[company]:06d}",
                        "InvoiceDate": date_value(day + timedelta(days=p)),
                        "LedgerVoucher": f"ARI{invoice_no[company]:07d}",
                        "SalesOrderNumber": number,
                        "InvoiceCustomerAccountNumber": account,
                        "CustomersOrderReference": reference,
                        "CurrencyCode": currency,
                        "TotalInvoiceAmount": amount + tax,
                        "TotalTaxAmount": tax,
                        "TotalChargeAmount": Decimal(0),
                        "TotalDiscountAmount": Decimal(0),
                        "DeliveryModeCode": DELIVERY_MODES[i % len(DELIVERY_MODES)],
                        "PaymentTermsName": "Net30",
                        "@odata.etag": etag(1, rec_id + 200000 + p),
                    }
                )
                invoice_no[company] += 1
        # Totals are only filled in once F&O has calculated them (reference §2).
        totals_calculated = rnd.random() < 0.5
        city, street, zip_code, state, country = {
            "usmf": ("San Diego", "123 Coffee Street", "92101", "CA", "USA"),
            "demf": ("Berlin", "Hauptstraße 12", "10115", "", "DEU"),
            "gbsi": ("London", "14 Bankside", "SE1 9TG", "", "GBR"),
        }[company]
        headers.append(
            {
                "dataAreaId": company,
                "SalesOrderNumber": number,
                "SalesOrderName": cust_name,
                "SalesOrderStatus": sales_status,
                "SalesOrderProcessingStatus": processing,
                "IsSalesProcessingStopped": "Yes" if on_hold else "No",
                "OrderingCustomerAccountNumber": account,
                "InvoiceCustomerAccountNumber": account,
                "CustomerRequisitionNumber": requisition,
                "CustomersOrderReference": reference,
                "QuotationNumber": "",
                "OrderCreationDateTime": instant_value(created),
                "RequestedShippingDate": date_value(requested_ship),
                "ConfirmedShippingDate": date_value(confirmed_ship),
                "RequestedReceiptDate": date_value(requested_ship + timedelta(days=2)),
                "ConfirmedReceiptDate": date_value(confirmed_ship + timedelta(days=2) if confirmed_ship else None),
                "CurrencyCode": currency,
                "DeliveryModeCode": DELIVERY_MODES[i % len(DELIVERY_MODES)],
                "DeliveryTermsCode": "FOB" if company == "usmf" else "EXW",
                "ShippingCarrierId": carrier[0],
                "ShippingCarrierServiceId": "",
                "DefaultShippingWarehouseId": "11" if company == "usmf" else "DE-W1",
                "DefaultShippingSiteId": "1",
                "DeliveryAddressName": cust_name,
                "DeliveryAddressDescription": "Delivery",
                "DeliveryAddressStreet": street,
                "DeliveryAddressStreetNumber": "",
                "DeliveryAddressCity": city,
                "DeliveryAddressZipCode": zip_code,
                "DeliveryAddressStateId": state,
                "DeliveryAddressCountyId": "",
                "DeliveryAddressCountryRegionId": country,
                "DeliveryAddressCountryRegionISOCode": country[:2],
                "FormattedDelveryAddress": f"{street}\n{zip_code} {city} {state}".strip() + f"\n{country}",
                "OrderTotalAmount": total if totals_calculated else Decimal(0),
                "OrderTotalTaxAmount": Decimal(0),
                "OrderTotalDiscountAmount": Decimal(0),
                "OrderTotalChargesAmount": Decimal(0),
                "AreTotalsCalculated": "Yes" if totals_calculated else "No",
                "Email": "",
                "LanguageId": {"usmf": "en-us", "demf": "de", "gbsi": "en-gb"}[company],
                "PaymentTermsName": "Net30",
                "DeliveryAddressTimeZone": None,
                "@odata.etag": etag(rnd.randint(1, 2**31), rec_id),
            }
        )

    customers: list[dict[str, object]] = [
        {
            "dataAreaId": company,
            "CustomerAccount": account,
            "OrganizationName": cust_name,
            "CustomerGroupId": "10" if company == "usmf" else "20",
            "SalesCurrencyCode": currency,
            "@odata.etag": etag(1, 5637150000 + n),
        }
        for n, (company, account, cust_name, currency) in enumerate(CUSTOMERS + ACTIVE_UNTIL_DELIVERY_CUSTOMERS)
    ]
    return Dataset(
        tables={
            "SalesOrderHeadersV2": headers,
            "SalesOrderLines": lines,
            "PackingSlipTrackingInformation": slips,
            "CustPackingSlipJourBiEntities": journal,
            "CustPackingSlipTransBiEntities": journal_lines,
            "SalesInvoiceHeadersV2": invoices,
            "CustomersV3": customers,
        }
    )
