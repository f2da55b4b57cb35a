"""What pages and the API show of an order: list rows, the order page (status, timeline, totals), and the template
context both the customer's and the staff views render it with.

These are the values a lookup returns and the cache keeps (orders.cached_reads): built from F&O's rows as read,
which they keep for the audit's replay. Wording (status, timeline) happens when they are shown, in the reader's
language, never when they are cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from orders.cached_reads import Lookup
from orders.changes import Change, changes_display
from orders.documents import Invoice, PackingSlip, PackingSlipLine, PackingSlipTracking
from orders.history import PromiseHistory, promise_history_text
from orders.records import OrderLine, SalesOrder
from orders.shipments import Deliveries, LineProgress, Shipment, Tracking, deliveries_from
from orders.status import CustomerStatus, customer_status
from orders.timeline import Step, order_timeline

ORDER_TOTAL = "order_total"  # F&O's OrderTotalAmount: tax and charges included
LINES_BEFORE_TAX = "lines_before_tax"  # the lines' sum, cancelled lines left out, before tax and charges


def order_status(order: SalesOrder) -> CustomerStatus:
    return customer_status(status=order.status, processing=order.processing_status, on_hold=order.on_hold)


def lines_total(lines: list[OrderLine]) -> Decimal:
    # F&O reports header totals as 0 until they are calculated (reference §2), so add up the lines.
    return sum((line.amount for line in lines if line.status != "Canceled"), Decimal(0))


def order_total(order: SalesOrder, lines: list[OrderLine]) -> tuple[Decimal, str]:
    """F&O's own total once it has calculated it (AreTotalsCalculated = Yes), else the lines' sum, and which."""
    if order.totals_calculated:
        return order.header_total, ORDER_TOTAL
    return lines_total(lines), LINES_BEFORE_TAX


@dataclass(frozen=True)
class OrderSummary:
    """One row of the order list."""

    order: SalesOrder
    total: Decimal
    total_kind: str = LINES_BEFORE_TAX

    @property
    def status(self) -> CustomerStatus:
        # Worded at render time, in the reader's language: copies in the cache hold F&O's values only.
        return order_status(self.order)


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderSummary]
    total_count: int | None
    page: int
    page_size: int
    rows: list[dict[str, Any]] = field(default_factory=list)  # F&O's rows as read, for replay

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]], *, total_count: int | None, page: int,
                  page_size: int) -> OrderPage:
        """The page of F&O's header rows (with their lines expanded), which the read already checked are the
        customer's own."""
        kept = rows[:page_size]
        summaries = []
        for row in kept:
            order = SalesOrder.from_odata(row)
            lines = [OrderLine.from_odata(r) for r in row.get(settings.D365_NAV_SALES_ORDER_LINES) or []]
            summaries.append(OrderSummary(order, *order_total(order, lines)))
        return cls(summaries, total_count, page, page_size, kept)

    @property
    def has_next(self) -> bool:
        return self.total_count is not None and self.page * self.page_size < self.total_count

    @property
    def page_count(self) -> int:
        if not self.total_count:
            return 1
        return -(-self.total_count // self.page_size)


@dataclass(frozen=True)
class OrderDetail:
    order: SalesOrder
    lines: list[OrderLine]
    deliveries: Deliveries
    invoices: list[Invoice]
    # F&O's rows as read: header (with lines), slips (tracking rows), journal and journal_lines (None where the site
    # has no journal entities), shipping_complete, invoices
    rows: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: dict[str, Any]) -> OrderDetail:
        header = rows["header"]
        lines = sorted(
            (OrderLine.from_odata(r) for r in header.get(settings.D365_NAV_SALES_ORDER_LINES) or []),
            key=lambda line: line.line_number,
        )
        # Audit copies taken before the journal was read have no "journal": they replay as the fallback would.
        journal, journal_lines = rows.get("journal"), rows.get("journal_lines")
        deliveries = deliveries_from(
            lines=lines,
            tracking=[PackingSlipTracking.from_odata(r) for r in rows.get("slips", [])],
            slips=None if journal is None else [PackingSlip.from_odata(r) for r in journal],
            slip_lines=None if journal_lines is None else [PackingSlipLine.from_odata(r) for r in journal_lines],
            complete=rows.get("shipping_complete", True),
        )
        return cls(
            order=SalesOrder.from_odata(header),
            lines=lines,
            deliveries=deliveries,
            invoices=[Invoice.from_odata(r) for r in rows.get("invoices", [])],
            rows=rows,
        )

    @property
    def shipments(self) -> tuple[Shipment, ...]:
        return self.deliveries.shipments

    @property
    def line_progress(self) -> tuple[LineProgress, ...]:
        return self.deliveries.lines

    @property
    def status(self) -> CustomerStatus:
        return order_status(self.order)

    @property
    def timeline(self) -> list[Step]:
        return order_timeline(order=self.order, status=self.status, shipments=self.shipments, invoices=self.invoices)

    @property
    def total(self) -> Decimal:
        return order_total(self.order, self.lines)[0]

    @property
    def total_kind(self) -> str:
        return order_total(self.order, self.lines)[1]

    @property
    def items_total(self) -> Decimal:
        return lines_total(self.lines)

    @property
    def invoiced_total(self) -> Decimal:
        return sum((i.amount for i in self.invoices), Decimal(0))


def order_detail_context(lookup: Lookup[OrderDetail], *, refresh_url: str = "") -> dict[str, Any]:
    """The order page's template context: the customer's page, and the staff views that render the same template
    for the same order."""
    detail = lookup.value
    return {
        "lookup": lookup,
        "detail": detail,
        "order": detail.order,
        "status": detail.status,
        "timeline": detail.timeline,
        "refresh_url": refresh_url,
    }


def order_history_context(*, history: PromiseHistory, changes: list[Change] | None = None) -> dict[str, Any]:
    """The order page's memory: the promised dates seen ("promised 12 Dec (first seen 1 Dec), moved to ..."), and
    for a customer, what changed since they last looked (None: first look or not a customer; []: nothing)."""
    return {
        "promise_history": [
            {"label": label, "text": promise_history_text(promises)}
            for label, promises in ((_("Confirmed ship date"), history.ship),
                                    (_("Confirmed delivery date"), history.receipt))
            if promises
        ],
        "changes": None if changes is None else changes_display(changes),
    }


@dataclass(frozen=True)
class GuestShipment:
    shipped_on: date | None
    carrier: str
    tracking: tuple[Tracking, ...]


@dataclass(frozen=True)
class GuestOrder:
    """What a guest (no account, one fact proven) sees of an order: its status, progress and dates, and how it
    ships. Only these fields: no price, amount, address, item, customer name or account, so a guest page, which
    renders this and never the OrderDetail, cannot show them by mistake."""

    number: str
    status: CustomerStatus
    timeline: tuple[Step, ...]
    confirmed_ship_date: date | None
    confirmed_receipt_date: date | None
    shipments: tuple[GuestShipment, ...]

    @classmethod
    def from_detail(cls, detail: OrderDetail) -> GuestOrder:
        order = detail.order
        return cls(
            number=order.number,
            status=detail.status,
            timeline=tuple(detail.timeline),
            confirmed_ship_date=order.confirmed_ship_date,
            confirmed_receipt_date=order.confirmed_receipt_date,
            shipments=tuple(GuestShipment(s.shipped_on, s.carrier, s.tracking) for s in detail.shipments),
        )


def guest_order_context(lookup: Lookup[OrderDetail]) -> dict[str, Any]:
    """The guest page's template context: the GuestOrder, and the lookup's freshness without its value."""
    order = GuestOrder.from_detail(lookup.value)
    return {
        "order": order,
        "status": order.status,
        "lookup": Lookup(None, lookup.taken_at, lookup.source, lookup.problem),
    }


def audit_replay(*, kind: str, rows: Any, as_of_timestamp: float, source: str) -> dict[str, Any]:
    """What a recorded lookup showed, rebuilt from the F&O rows the audit kept, for the staff reference replay."""
    if kind == "order":
        return order_detail_context(Lookup(OrderDetail.from_rows(rows), as_of_timestamp, source))
    if kind == "list":
        page = OrderPage.from_rows(rows, total_count=None, page=1, page_size=len(rows))
        return {"page": page, "lookup": Lookup(None, as_of_timestamp, source),
                "show_company": len({o.order.company for o in page.orders}) > 1}
    return {}
