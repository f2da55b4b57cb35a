"""What a customer is shown of an order, as plain JSON, and what changed between two such states.

One definition serves "what changed since you last looked" (orders.history) and the watcher's notifications
(watching): both compare customer-visible fields only. The status code covers on hold / released and cancelled,
because the customer's status words say exactly that (orders.status: "on_hold", "cancelled"). A new packing slip
is one change, and each tracking number F&O adds to a slip is another, so a number added later is news too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, TypedDict

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from orders.documents import Invoice
from orders.records import SalesOrder
from orders.shipments import Shipment
from orders.status import RULES_BY_CODE, customer_status

STATE_VERSION = 1
State = dict[str, Any]


# One change: {"field", "from", "to"}. "from" is a Python keyword, so only the functional form can name it.
Change = TypedDict("Change", {"field": str, "from": str | None, "to": str | None})

# The fields a change can name, in the order they are reported and shown.
FIELDS = ("status", "confirmed_ship_date", "confirmed_receipt_date", "packing_slip", "tracking_number", "invoice")
LABELS = {
    "status": _("Status"),
    "confirmed_ship_date": _("Confirmed ship date"),
    "confirmed_receipt_date": _("Confirmed delivery date"),
    "packing_slip": _("Packing slip"),
    "tracking_number": _("Tracking number"),
    "invoice": _("Invoice"),
}
DATE_FIELDS = frozenset({"confirmed_ship_date", "confirmed_receipt_date"})
# Whole sentences per field: "New <label>" cannot be put together in a language whose nouns have genders and
# capitals (German: "Neuer Lieferschein", "Neue Rechnung").
ADDED = {
    "packing_slip": _("New packing slip: %(value)s"),
    "tracking_number": _("New tracking number: %(value)s"),
    "invoice": _("New invoice: %(value)s"),
}
WITHDRAWN = {
    "packing_slip": _("Packing slip withdrawn: %(value)s"),
    "tracking_number": _("Tracking number withdrawn: %(value)s"),
    "invoice": _("Invoice withdrawn: %(value)s"),
}


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def order_state(*, order: SalesOrder, shipments: Iterable[Shipment], invoices: Iterable[Invoice]) -> State:
    """The customer-visible fields of one order, JSON-safe and order-independent (lists sorted)."""
    status = customer_status(status=order.status, processing=order.processing_status, on_hold=order.on_hold)
    return {
        "v": STATE_VERSION,
        "status": status.code,
        "confirmed_ship_date": _iso(order.confirmed_ship_date),
        "confirmed_receipt_date": _iso(order.confirmed_receipt_date),
        "packing_slips": {s.packing_slip_number: sorted({t.number for t in s.tracking if t.number})
                          for s in shipments},
        "invoices": sorted({i.number for i in invoices}),
    }


def _change(field: str, before: str | None, after: str | None) -> Change:
    return {"field": field, "from": before, "to": after}


def state_changes(before: State | None, after: State) -> list[Change]:
    """What differs from `before` to `after`, in FIELDS order. None before (never seen), or a state written by
    another version of this code: nothing to compare, no changes."""
    if before is None or before.get("v") != after.get("v"):
        return []
    changes = [
        _change(field, before.get(field), after.get(field))
        for field in ("status", "confirmed_ship_date", "confirmed_receipt_date")
        if before.get(field) != after.get(field)
    ]
    old_slips: dict[str, list[str]] = before.get("packing_slips") or {}
    new_slips: dict[str, list[str]] = after.get("packing_slips") or {}
    changes += [_change("packing_slip", None, slip) for slip in sorted(set(new_slips) - set(old_slips))]
    changes += [_change("packing_slip", slip, None) for slip in sorted(set(old_slips) - set(new_slips))]
    for slip in sorted(new_slips):
        known = set(old_slips.get(slip, ()))
        changes += [_change("tracking_number", None, number) for number in new_slips[slip] if number not in known]
    old_invoices, new_invoices = set(before.get("invoices") or ()), set(after.get("invoices") or ())
    changes += [_change("invoice", None, number) for number in sorted(new_invoices - old_invoices)]
    changes += [_change("invoice", number, None) for number in sorted(old_invoices - new_invoices)]
    return changes


def change_value_label(field: str, value: str | None) -> str:
    """One side of a change in the reader's words and language (dates in their format, status as its label)."""
    if value is None:
        return str(_("not set")) if field in DATE_FIELDS else "—"
    if field in DATE_FIELDS:
        try:
            return date_format(date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    if field == "status":
        rule = RULES_BY_CODE.get(value)
        return str(rule.label) if rule is not None else value
    return value


def change_text(change: Change) -> str:
    """One change as a sentence: "Confirmed ship date: 12 Dec 2026 → 19 Dec 2026", "New invoice: INV-1"."""
    field = change["field"]
    label = str(LABELS.get(field, field))
    before, after = change["from"], change["to"]
    if field in ADDED:
        if before is None:
            return str(ADDED[field] % {"value": after})
        return str(WITHDRAWN[field] % {"value": before})
    return f"{label}: {change_value_label(field, before)} → {change_value_label(field, after)}"


def changes_display(changes: Iterable[Change]) -> list[dict[str, str]]:
    """For templates: each change's field label, both sides in words, and the sentence."""
    return [
        {
            "field": change["field"],
            "label": str(LABELS.get(change["field"], change["field"])),
            "from": change_value_label(change["field"], change["from"]),
            "to": change_value_label(change["field"], change["to"]),
            "text": change_text(change),
        }
        for change in changes
    ]
