"""What the API shows: orders, list rows, lines, shipments, invoices and freshness as JSON-ready dicts.

Field names are snake_case; dates ISO 8601 (null where F&O has none); money a decimal string beside `currency`.
orders/openapi.py describes the same shapes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from orders.cached_reads import Lookup
from orders.documents import Invoice
from orders.history import PromiseHistory
from orders.presenters import OrderDetail, OrderSummary
from orders.records import SalesOrder
from orders.shipments import LineProgress, Shipment
from orders.status import CustomerStatus, line_status_label


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def freshness(lookup: Lookup[Any]) -> dict[str, Any]:
    return {"as_of": _iso(lookup.as_of), "stale": lookup.stale}


def _order_fields(order: SalesOrder, status: CustomerStatus, total: Decimal) -> dict[str, Any]:
    """What a list row and an order share."""
    return {
        "company": order.company,
        "number": order.number,
        "status": status.code,
        "status_label": status.label,
        "customer_account": order.customer_account,
        "customer_reference": order.customer_reference,
        "requisition_number": order.requisition_number,
        "created_at": _iso(order.created_at),
        "requested_ship_date": _iso(order.requested_ship_date),
        "confirmed_ship_date": _iso(order.confirmed_ship_date),
        "currency": order.currency,
        "total": _money(total),
    }


def order_summary_json(summary: OrderSummary, request: HttpRequest) -> dict[str, Any]:
    order = summary.order
    return {
        **_order_fields(order, summary.status, summary.total),
        "total_kind": summary.total_kind,
        "url": request.build_absolute_uri(reverse("api:order-detail", args=[order.company, order.number])),
    }


def _plain_decimal(value: Decimal) -> str:
    # Fixed-point: Decimal("10").normalize() alone would print "1E+1".
    return format(value.normalize(), "f") if value else "0"


def _line_json(progress: LineProgress) -> dict[str, Any]:
    line = progress.line
    return {
        "line_number": _plain_decimal(line.line_number),
        "item_number": line.item_number,
        "description": line.description,
        "quantity": _plain_decimal(line.quantity),
        "unit": line.unit,
        "unit_price": _money(line.unit_price),
        "amount": _money(line.amount),
        "status": line.status.lower() or "unknown",
        "status_label": line_status_label(line.status),
        "requested_ship_date": _iso(line.requested_ship_date),
        "confirmed_ship_date": _iso(line.confirmed_ship_date),
        "confirmed_receipt_date": _iso(line.confirmed_receipt_date),
        # null: F&O's packing slip journal cannot say (not exposed, or it names a line this order lacks).
        "shipped_quantity": None if progress.shipped is None else _plain_decimal(progress.shipped),
        "remaining_quantity": None if progress.remaining is None else _plain_decimal(progress.remaining),
    }


def _shipment_json(shipment: Shipment) -> dict[str, Any]:
    return {
        "packing_slip_number": shipment.packing_slip_number,
        "shipped_on": _iso(shipment.shipped_on),
        "delivery_mode": shipment.delivery_mode or None,
        "carrier": shipment.carrier or None,
        "tracking": [{"number": t.number, "url": t.url or None} for t in shipment.tracking],
        # null: what was in this packing slip is not known (see the OpenAPI description).
        "lines": None if shipment.items is None else [
            {
                "line_number": _plain_decimal(item.line_number),
                "item_number": item.item_number,
                "description": item.description,
                "quantity": _plain_decimal(item.quantity),
                "unit": item.unit,
            }
            for item in shipment.items
        ],
    }


def _invoice_json(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "date": _iso(invoice.invoice_date),
        "currency": invoice.currency,
        "amount": _money(invoice.amount),
        "tax": _money(invoice.tax),
    }


def order_detail_json(detail: OrderDetail) -> dict[str, Any]:
    order: SalesOrder = detail.order
    status = detail.status
    return {
        **_order_fields(order, status, detail.total),
        "total_kind": detail.total_kind,
        "status_description": status.description,
        "requested_receipt_date": _iso(order.requested_receipt_date),
        "confirmed_receipt_date": _iso(order.confirmed_receipt_date),
        "delivery": {
            "name": order.delivery_name,
            "address": order.delivery_address,
            "mode": order.delivery_mode,
            "terms": order.delivery_terms,
            "carrier": order.carrier,
        },
        "lines": [_line_json(progress) for progress in detail.line_progress],
        "shipments": [_shipment_json(s) for s in detail.shipments],
        "invoices": [_invoice_json(i) for i in detail.invoices],
        "timeline": [
            {"code": s.code, "label": s.label, "state": s.state, "date": _iso(s.at), "detail": s.detail}
            for s in detail.timeline
        ],
    }


def promise_history_json(history: PromiseHistory) -> dict[str, list[dict[str, Any]]]:
    """Each confirmed date the portal has seen, first seen first, per order field."""
    return {
        field: [{"date": _iso(p.value), "first_seen_at": _iso(p.first_seen_at)} for p in promises]
        for field, promises in (("confirmed_ship_date", history.ship), ("confirmed_receipt_date", history.receipt))
    }
