"""The order's progress, built from F&O's own documents and their real dates, not from one status field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders.documents import Invoice
from orders.records import SalesOrder
from orders.shipments import Shipment
from orders.status import CustomerStatus

_CONFIRMED_OR_LATER = {
    "Confirmed", "Picked", "PartiallyDelivered", "Delivered", "Invoiced", "PartiallyInvoiced",
    "DeliveredPartiallyInvoiced",
}
_PICKED_OR_LATER = _CONFIRMED_OR_LATER - {"Confirmed"}


@dataclass(frozen=True)
class Step:
    code: str
    label: str
    state: str  # "done" | "partial" | "upcoming" | "stopped"
    at: date | datetime | None
    detail: str


def order_timeline(
    *, order: SalesOrder, status: CustomerStatus, shipments: tuple[Shipment, ...], invoices: list[Invoice]
) -> list[Step]:
    """`shipments` are packing slips: one per delivery, however many parcels (tracking numbers) it had."""
    steps = [Step("placed", _("Order placed"), "done", order.created_at, "")]
    if status.code == "cancelled":
        steps.append(Step("cancelled", _("Cancelled"), "stopped", None, _("This order was cancelled.")))
        return steps

    shipped_all = status.code in ("shipped", "invoiced")
    confirmed = order.processing_status in _CONFIRMED_OR_LATER or bool(shipments) or shipped_all
    if order.confirmed_ship_date:
        confirm_detail = _("Ships by %(date)s") % {"date": _date(order.confirmed_ship_date)}
    else:
        confirm_detail = _("Ship date not yet confirmed")
    steps.append(Step("confirmed", _("Confirmed"), "done" if confirmed else "upcoming", None, confirm_detail))

    picked = order.processing_status in _PICKED_OR_LATER or bool(shipments) or shipped_all
    steps.append(Step("picked", _("Packed"), "done" if picked else "upcoming", None, ""))

    slip_dates = [s.shipped_on for s in shipments if s.shipped_on]
    if shipped_all:
        ship_state = "done"
    elif shipments or status.code == "partially_shipped":
        ship_state = "partial"
    else:
        ship_state = "upcoming"
    ship_detail = (
        ngettext("%(count)d shipment", "%(count)d shipments", len(shipments)) % {"count": len(shipments)}
        if shipments
        else _("Not shipped yet")
    )
    steps.append(Step("shipped", _("Shipped"), ship_state, max(slip_dates) if slip_dates else None, ship_detail))

    invoice_dates = [i.invoice_date for i in invoices if i.invoice_date]
    if status.code == "invoiced":
        invoice_state = "done"
    elif invoices:
        invoice_state = "partial"
    else:
        invoice_state = "upcoming"
    count = len(invoices)
    invoice_detail = ngettext("%(count)d invoice", "%(count)d invoices", count) % {"count": count} if count else ""
    steps.append(
        Step("invoiced", _("Invoiced"), invoice_state, max(invoice_dates) if invoice_dates else None, invoice_detail)
    )

    if status.code == "on_hold":
        position = next((i for i, s in enumerate(steps) if s.state != "done"), len(steps))
        steps.insert(position, Step("on_hold", _("On hold"), "stopped", None, str(status.description)))
    return steps


def _date(value: date) -> str:
    from django.utils.formats import date_format

    return date_format(value, "DATE_FORMAT")
