"""Run-time changes, as F&O's users make them: an order's header (and lines) edited, a packing slip posted, an
invoice posted. Served by the admin endpoints under /_sim/orders and by `python -m simulator change|add-...`.

Values are given as the simulator serves them and checked against the entity's types (schema.py): enum members by
name, date-only fields as `2026-12-19` (stored at noon UTC; empty or null is F&O's empty date, 1900-01-01), numbers
as JSON numbers or numeric strings. Posting a slip or an invoice changes no status: set the order's
`SalesOrderStatus`, `SalesOrderProcessingStatus` and line statuses with an order change, as F&O's posting would.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from . import data
from .schema import ENUMS, SETS, EntitySet
from .store import Row, Tables

HEADERS = "SalesOrderHeadersV2"
LINES = "SalesOrderLines"
TRACKING = "PackingSlipTrackingInformation"
JOURNAL = "CustPackingSlipJourBiEntities"
JOURNAL_LINES = "CustPackingSlipTransBiEntities"
INVOICES = "SalesInvoiceHeadersV2"
_NULLABLE_ENUMS = {"Timezone"}
_TAX_RATE = Decimal("0.08")


class ChangeRefused(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _value(entity: EntitySet, prop: str, raw: object) -> object:
    """`raw` as the simulator stores `prop`, or ChangeRefused."""
    kind = entity.properties.get(prop)
    if kind is None:
        raise ChangeRefused(f"'{prop}' is not a property of {entity.name}.")
    if kind == "String":
        if not isinstance(raw, str):
            raise ChangeRefused(f"{prop}: a string is expected.")
        return raw
    if kind == "Date":
        if raw is None or raw == "":
            return data.EMPTY_DATE
        if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}(T12:00:00Z)?", raw):
            try:
                return data.date_value(date.fromisoformat(raw[:10]))
            except ValueError:
                pass
        raise ChangeRefused(f"{prop}: a date like 2026-12-19 is expected (empty for no date).")
    if kind == "DateTime":
        if isinstance(raw, str) and raw.endswith("Z"):
            try:
                return data.instant_value(datetime.fromisoformat(raw[:-1] + "+00:00"))
            except ValueError:
                pass
        raise ChangeRefused(f"{prop}: a UTC time like 2026-12-19T08:30:00Z is expected.")
    if kind.startswith("enum:"):
        members = ENUMS[kind[5:]]
        if raw is None and kind[5:] in _NULLABLE_ENUMS:
            return None
        if raw not in members:
            raise ChangeRefused(f"{prop}: one of {', '.join(members)} is expected.")
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise ChangeRefused(f"{prop}: a number is expected.")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ChangeRefused(f"{prop}: a number is expected.") from None
    if not number.is_finite():
        raise ChangeRefused(f"{prop}: a number is expected.")
    if kind in ("Int32", "Int64"):
        if number != number.to_integral_value():
            raise ChangeRefused(f"{prop}: a whole number is expected.")
        return int(number)
    return number


def _values(entity: EntitySet, raw: dict[str, Any], fixed: set[str]) -> dict[str, object]:
    refused = sorted(set(raw) & fixed)
    if refused:
        raise ChangeRefused(f"{', '.join(refused)} cannot be changed.")
    return {prop: _value(entity, prop, value) for prop, value in raw.items()}


def _bumped(tag: str) -> str:
    """The row's etag with its RecVersion raised, as F&O does on every update."""
    payload = base64.b64decode(tag[3:-1]).decode()
    version, rest = payload[1:].split(",", 1)
    return 'W/"' + base64.b64encode(f"'{int(version) + 1},{rest}".encode()).decode() + '"'


def _same(a: object, b: str) -> bool:
    # F&O compares strings without regard to case (SQL collation).
    return str(a).casefold() == b.casefold()


def _order_index(tables: Tables, company: str, number: str) -> int:
    for i, row in enumerate(tables[HEADERS]):
        if row["dataAreaId"] == company.lower() and _same(row["SalesOrderNumber"], number):
            return i
    raise ChangeRefused(f"No sales order {number} in company {company}.", 404)


def _of_order(rows: list[Row], header: Row, field: str) -> list[Row]:
    return [r for r in rows if r["dataAreaId"] == header["dataAreaId"] and r[field] == header["SalesOrderNumber"]]


def _object(raw: object, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ChangeRefused(f"{what}: a JSON object is expected.")
    return raw


def _today() -> date:
    return datetime.now(UTC).date()


# Order header and lines --------------------------------------------------------------------------------------------

def order_change(tables: Tables, company: str, number: str, body: object) -> dict[str, Any]:
    """Set header fields, and with `"lines": [{"LineNumber": 2, ...}]` line fields (an entry without LineNumber
    applies to every line). Answers the order's header and lines after the change."""
    fields = dict(_object(body, "the change"))
    line_changes = fields.pop("lines", [])
    if not isinstance(line_changes, list):
        raise ChangeRefused("lines: a list of objects is expected.")
    if not fields and not line_changes:
        raise ChangeRefused("Nothing to change.")
    position = _order_index(tables, company, number)
    header = tables[HEADERS][position]
    new_header = {**header, **_values(SETS[HEADERS], fields, set(SETS[HEADERS].keys))}
    if fields:
        new_header["@odata.etag"] = _bumped(header["@odata.etag"])
        tables[HEADERS][position] = new_header
    lines = tables[LINES]
    own = [i for i, r in enumerate(lines) if r["dataAreaId"] == header["dataAreaId"]
           and r["SalesOrderNumber"] == header["SalesOrderNumber"]]
    fixed = {*SETS[LINES].keys, "SalesOrderNumber", "LineNumber"}
    updated: dict[int, Row] = {}
    for entry in line_changes:
        entry = dict(_object(entry, "each entry of lines"))
        targets = own
        if "LineNumber" in entry:
            wanted = _value(SETS[LINES], "LineNumber", entry.pop("LineNumber"))
            targets = [i for i in own if lines[i]["LineNumber"] == wanted]
            if not targets:
                raise ChangeRefused(f"Order {number} has no line {wanted}.", 404)
        values = _values(SETS[LINES], entry, fixed)
        for i in targets:
            updated[i] = {**updated.get(i, lines[i]), **values}
    for i, row in updated.items():
        row["@odata.etag"] = _bumped(lines[i]["@odata.etag"])
        lines[i] = row
    return {"header": new_header, "lines": [lines[i] for i in own]}


# Packing slips ----------------------------------------------------------------------------------------------------

_SLIP_FIELDS = {"PackingSlipId", "DeliveryDate", "DocumentDate", "DlvMode", "ShipCarrierId", "CustomerRef",
                "PurchaseOrder", "BillOfLadingId"}


def _next_id(tables: Tables) -> int:
    """A fresh RecId for the journal's Int64 keys (and the tracking rows' etags)."""
    ids = [r["SourceDocumentHeader"] for r in tables[JOURNAL]]
    ids += [r["SourceDocumentLine"] for r in tables[JOURNAL_LINES]]
    return max(ids, default=5637160000) + 1


def _next_number(existing: list[str], prefix: str, width: int) -> str:
    pattern = re.compile(re.escape(prefix) + r"(\d+)")
    used = [int(m.group(1)) for text in existing if (m := pattern.fullmatch(text))]
    return f"{prefix}{max(used, default=0) + 1:0{width}d}"


def _tracking(raw: object, carrier: str) -> list[tuple[str, str]]:
    """[(TrackingNumber, TrackingURL)]: strings, or objects naming both; the URL follows the carrier's pattern."""
    if not isinstance(raw, list):
        raise ChangeRefused("tracking: a list is expected.")
    pattern = next((url for name, url, _ in data.CARRIERS if name.casefold() == carrier.casefold()), "")
    parcels: list[tuple[str, str]] = []
    for item in raw:
        if isinstance(item, str):
            number, url = item, pattern.format(n=item) if pattern else ""
        else:
            entry = dict(_object(item, "each tracking entry"))
            unknown = set(entry) - {"TrackingNumber", "TrackingURL"}
            if unknown:
                raise ChangeRefused(f"tracking: unknown fields {', '.join(sorted(unknown))}.")
            number = str(_value(SETS[TRACKING], "TrackingNumber", entry.get("TrackingNumber")))
            default = pattern.format(n=number) if pattern else ""
            url = str(_value(SETS[TRACKING], "TrackingURL", entry.get("TrackingURL", default)))
        # TrackingNumber is part of the key and not nullable (reference §4).
        if not number.strip():
            raise ChangeRefused("tracking: a tracking number cannot be empty.")
        if any(_same(number, seen) for seen, _ in parcels):
            raise ChangeRefused(f"tracking: {number} is given twice.")
        parcels.append((number, url))
    return parcels


def _shipped(tables: Tables, header: Row) -> dict[Decimal, Decimal]:
    shipped: dict[Decimal, Decimal] = {}
    for row in _of_order(tables[JOURNAL_LINES], header, "SalesId"):
        shipped[row["LineNum"]] = shipped.get(row["LineNum"], Decimal(0)) + row["Qty"]
    return shipped


def _slip_contents(tables: Tables, header: Row, raw: object) -> list[tuple[Row, Decimal, Decimal]]:
    """[(order line, quantity shipped now, still to come after it)]; by default every open line's remainder."""
    lines = sorted(_of_order(tables[LINES], header, "SalesOrderNumber"), key=lambda r: r["LineNumber"])
    shipped = _shipped(tables, header)
    open_lines = [r for r in lines if r["SalesOrderLineStatus"] != "Canceled"]
    if raw is None:
        wanted = [(r, r["OrderedSalesQuantity"] - shipped.get(r["LineNumber"], Decimal(0))) for r in open_lines]
        wanted = [(r, q) for r, q in wanted if q > 0]
        if not wanted:
            raise ChangeRefused(f"Nothing is left to ship on order {header['SalesOrderNumber']}; name the lines.", 409)
    elif isinstance(raw, list) and raw:
        wanted = []
        for item in raw:
            entry = _object(item, "each entry of lines")
            if set(entry) != {"LineNumber", "Qty"}:
                raise ChangeRefused("lines: each entry needs LineNumber and Qty, and nothing else.")
            number = _value(SETS[LINES], "LineNumber", entry["LineNumber"])
            qty = _value(SETS[JOURNAL_LINES], "Qty", entry["Qty"])
            line = next((r for r in lines if r["LineNumber"] == number), None)
            if line is None:
                raise ChangeRefused(f"Order {header['SalesOrderNumber']} has no line {number}.", 404)
            if line["SalesOrderLineStatus"] == "Canceled":
                raise ChangeRefused(f"Line {number} is cancelled.", 409)
            if not isinstance(qty, Decimal) or qty <= 0 or any(r is line for r, _ in wanted):
                raise ChangeRefused(f"Line {number}: one positive Qty is expected.")
            wanted.append((line, qty))
    else:
        raise ChangeRefused("lines: a non-empty list of {LineNumber, Qty} is expected.")
    result = []
    for line, qty in wanted:
        done = shipped.get(line["LineNumber"], Decimal(0)) + qty
        result.append((line, qty, max(line["OrderedSalesQuantity"] - done, Decimal(0))))
    return result


def packing_slip_add(tables: Tables, company: str, number: str, body: object) -> dict[str, Any]:
    """Post a packing slip: a journal row, its lines and one tracking row per parcel. Answers the rows added."""
    fields = dict(_object(body, "the packing slip"))
    raw_lines = fields.pop("lines", None)
    raw_tracking = fields.pop("tracking", [])
    unknown = set(fields) - _SLIP_FIELDS
    if unknown:
        raise ChangeRefused(f"Unknown packing slip fields: {', '.join(sorted(unknown))}.")
    header = tables[HEADERS][_order_index(tables, company, number)]
    values = _values(SETS[JOURNAL], fields, set())
    parcels = _tracking(raw_tracking, str(values.get("ShipCarrierId", header["ShippingCarrierId"])))
    contents = _slip_contents(tables, header, raw_lines)
    company_id, order = header["dataAreaId"], header["SalesOrderNumber"]
    existing = [r["PackingSlipId"] for r in tables[JOURNAL] if r["dataAreaId"] == company_id]
    slip_id = values.get("PackingSlipId") or _next_number(existing, f"{company_id.upper()}-PS-", 6)
    if any(_same(slip_id, e) for e in existing):
        raise ChangeRefused(f"Packing slip {slip_id} already exists in company {company_id}.", 409)
    day = values.get("DeliveryDate") or data.date_value(_today())
    rec = _next_id(tables)
    slip = {
        "dataAreaId": company_id,
        "SourceDocumentHeader": rec,
        "PackingSlipId": slip_id,
        "SalesId": order,
        "OrderAccount": header["OrderingCustomerAccountNumber"],
        "DeliveryDate": day,
        "DocumentDate": values.get("DocumentDate") or day,
        # A slip posted without tracking is a pickup in the demo data.
        "DlvMode": header["DeliveryModeCode"] if parcels else data.PICKUP,
        "ShipCarrierId": header["ShippingCarrierId"] if parcels else "",
        "CustomerRef": header["CustomersOrderReference"],
        "PurchaseOrder": header["CustomerRequisitionNumber"],
        "Qty": sum((qty for _, qty, _ in contents), Decimal(0)),
        "BillOfLadingId": "",
        **{k: v for k, v in values.items() if k not in ("PackingSlipId", "DeliveryDate", "DocumentDate")},
        "@odata.etag": data.etag(1, rec),
    }
    slip_lines = []
    for line, qty, remain in contents:
        rec += 1
        slip_lines.append({
            "dataAreaId": company_id,
            "SourceDocumentLine": rec,
            "PackingSlipId": slip_id,
            "SalesId": order,
            "LineNum": line["LineNumber"],
            "ItemId": line["ItemNumber"],
            "Name": line["LineDescription"],
            "Qty": qty,
            "Ordered": line["OrderedSalesQuantity"],
            "Remain": remain,
            "SalesUnit": line["SalesUnitSymbol"],
            "DeliveryDate": day,
            "@odata.etag": data.etag(1, rec),
        })
    tracking = []
    for parcel, url in parcels:
        rec += 1
        tracking.append({
            "dataAreaId": company_id,
            "SalesOrderNumber": order,
            "PackingSlipNumber": slip_id,
            "DeliveryDate": day,
            "TrackingNumber": parcel,
            "TrackingURL": url,
            "@odata.etag": data.etag(1, rec),
        })
    tables[JOURNAL].append(slip)
    tables[JOURNAL_LINES].extend(slip_lines)
    tables[TRACKING].extend(tracking)
    return {"journal": slip, "lines": slip_lines, "tracking": tracking}


# Invoices ---------------------------------------------------------------------------------------------------------

def invoice_add(tables: Tables, company: str, number: str, body: object) -> dict[str, Any]:
    """Post an invoice for the order. Without amounts: its lines (cancelled ones left out) plus 8 % tax."""
    fields = dict(_object(body, "the invoice"))
    header = tables[HEADERS][_order_index(tables, company, number)]
    values = _values(SETS[INVOICES], fields, {"dataAreaId", "SalesOrderNumber"})
    company_id = header["dataAreaId"]
    own = [r for r in tables[INVOICES] if r["dataAreaId"] == company_id]
    prefix = data.INVOICE_PREFIX.get(company_id, f"{company_id.upper()}-CIV") + "-"
    invoice_number = values.get("InvoiceNumber") or _next_number([r["InvoiceNumber"] for r in own], prefix, 6)
    if any(_same(invoice_number, r["InvoiceNumber"]) for r in own):
        raise ChangeRefused(f"Invoice {invoice_number} already exists in company {company_id}.", 409)
    net = sum((r["LineAmount"] for r in _of_order(tables[LINES], header, "SalesOrderNumber")
               if r["SalesOrderLineStatus"] != "Canceled"), Decimal(0))
    default_tax = Decimal(0) if "TotalInvoiceAmount" in values else (net * _TAX_RATE).quantize(Decimal("0.01"))
    tax = Decimal(str(values.get("TotalTaxAmount", default_tax)))
    invoice = {
        "dataAreaId": company_id,
        "InvoiceNumber": invoice_number,
        "InvoiceDate": values.get("InvoiceDate") or data.date_value(_today()),
        "LedgerVoucher": values.get("LedgerVoucher") or _next_number([r["LedgerVoucher"] for r in own], "ARI", 7),
        "SalesOrderNumber": header["SalesOrderNumber"],
        "InvoiceCustomerAccountNumber": header["InvoiceCustomerAccountNumber"],
        "CustomersOrderReference": header["CustomersOrderReference"],
        "CurrencyCode": header["CurrencyCode"],
        "TotalInvoiceAmount": net + tax,
        "TotalTaxAmount": tax,
        "TotalChargeAmount": Decimal(0),
        "TotalDiscountAmount": Decimal(0),
        "DeliveryModeCode": header["DeliveryModeCode"],
        "PaymentTermsName": header["PaymentTermsName"],
    }
    invoice.update({k: v for k, v in values.items() if k not in ("InvoiceNumber", "InvoiceDate", "LedgerVoucher")})
    invoice["@odata.etag"] = data.etag(1, 5637300000 + len(tables[INVOICES]))
    tables[INVOICES].append(invoice)
    return {"invoice": invoice}
