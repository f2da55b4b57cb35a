"""What was in which delivery, and what is still to come.

A shipment is one posted packing slip, read from F&O's packing slip journal, with every tracking number F&O holds
for it. `PackingSlipTrackingInformation` alone cannot say this: it has one row per tracking number and none for a
slip posted without one (reference §4). Where a site does not expose the journal, shipments are grouped from the
tracking rows and their contents are unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from orders.documents import PackingSlip, PackingSlipLine, PackingSlipTracking
from orders.records import OrderLine

# F&O's SalesStatus on a line: Delivered and Invoiced mean nothing more will ship (a cancelled remainder included);
# Canceled means nothing will.
_NOTHING_TO_COME = frozenset({"Delivered", "Invoiced", "Canceled"})


@dataclass(frozen=True)
class Tracking:
    number: str
    url: str  # a plain http(s) link, or "" (records drop anything else)


@dataclass(frozen=True)
class ShipmentItem:
    line_number: Decimal
    item_number: str
    description: str
    quantity: Decimal
    unit: str


@dataclass(frozen=True)
class Shipment:
    packing_slip_number: str
    shipped_on: date | None
    delivery_mode: str
    carrier: str
    tracking: tuple[Tracking, ...]
    items: tuple[ShipmentItem, ...] | None  # None: F&O did not tell us what was in it

    @property
    def contents_known(self) -> bool:
        return self.items is not None


@dataclass(frozen=True)
class LineProgress:
    """Shipped so far and still to come for one order line; both None when the journal cannot say."""

    line: OrderLine
    shipped: Decimal | None
    remaining: Decimal | None


@dataclass(frozen=True)
class Deliveries:
    shipments: tuple[Shipment, ...]
    lines: tuple[LineProgress, ...]
    journal_available: bool

    @property
    def quantities_known(self) -> bool:
        return all(p.shipped is not None for p in self.lines)


def _slip_key(number: str) -> str:
    # F&O compares codes without regard to case (SQL collation), so the journal and the tracking table may differ.
    return number.casefold()


def _line_key(line_number: Decimal, item_number: str) -> tuple[Decimal, str]:
    return line_number.normalize() if line_number else Decimal(0), item_number.strip().casefold()


def _tracking_by_slip(rows: Iterable[PackingSlipTracking]) -> dict[str, list[PackingSlipTracking]]:
    grouped: dict[str, list[PackingSlipTracking]] = {}
    for row in rows:
        grouped.setdefault(_slip_key(row.packing_slip_number), []).append(row)
    return grouped


def _tracking(rows: list[PackingSlipTracking]) -> tuple[Tracking, ...]:
    seen: dict[str, Tracking] = {}
    for row in rows:
        if row.tracking_number and row.tracking_number.casefold() not in seen:
            seen[row.tracking_number.casefold()] = Tracking(row.tracking_number, row.tracking_url)
    return tuple(seen.values())


def _earliest(days: Iterable[date | None]) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def _items(rows: list[PackingSlipLine]) -> tuple[ShipmentItem, ...]:
    # One order line can appear more than once on a slip (one row per batch or serial number): show it once.
    merged: dict[tuple[Decimal, str, str], ShipmentItem] = {}
    for row in rows:
        key = (*_line_key(row.line_number, row.item_number), row.unit.casefold())
        if key in merged:
            item = merged[key]
            merged[key] = ShipmentItem(item.line_number, item.item_number, item.description,
                                       item.quantity + row.quantity, item.unit)
        else:
            merged[key] = ShipmentItem(row.line_number, row.item_number, row.description, row.quantity, row.unit)
    return tuple(sorted(merged.values(), key=lambda i: (i.line_number, i.item_number)))


def _ordered(shipments: Iterable[Shipment]) -> tuple[Shipment, ...]:
    return tuple(sorted(shipments, key=lambda s: (s.shipped_on or date.max, s.packing_slip_number)))


def deliveries_from(
    *,
    lines: list[OrderLine],
    tracking: list[PackingSlipTracking],
    slips: list[PackingSlip] | None,
    slip_lines: list[PackingSlipLine] | None,
    complete: bool = True,
) -> Deliveries:
    """Shipments and per-line progress. `slips`/`slip_lines` None: the site has no journal entities.
    `complete` False: a read may have been cut short, so sums would be guesses."""
    by_slip = _tracking_by_slip(tracking)
    unknown = tuple(LineProgress(line, None, None) for line in lines)
    if slips is None or slip_lines is None:
        shipments = [
            Shipment(
                packing_slip_number=rows[0].packing_slip_number,
                shipped_on=_earliest(r.delivery_date for r in rows),
                delivery_mode="",
                carrier="",
                tracking=_tracking(rows),
                items=None,
            )
            for rows in by_slip.values()
        ]
        return Deliveries(_ordered(shipments), unknown, journal_available=False)

    headers: dict[str, PackingSlip] = {}
    for slip in slips:
        headers.setdefault(_slip_key(slip.packing_slip_number), slip)
    contents: dict[str, list[PackingSlipLine]] = {}
    for row in slip_lines:
        contents.setdefault(_slip_key(row.packing_slip_number), []).append(row)

    order_keys = {_line_key(line.line_number, line.item_number): line for line in lines}
    shipments = []
    for key in dict.fromkeys([*headers, *by_slip]):
        header = headers.get(key)
        rows = by_slip.get(key, [])
        # Only a slip in the journal read, which is scoped to the customer's account, shows its contents, and only
        # the items that are lines of this order: a summary packing slip may also carry other orders' lines.
        items = [r for r in contents.get(key, []) if _line_key(r.line_number, r.item_number) in order_keys] \
            if header else None
        shipments.append(Shipment(
            packing_slip_number=header.packing_slip_number if header else rows[0].packing_slip_number,
            shipped_on=(header.delivery_date if header else None) or _earliest(r.delivery_date for r in rows),
            delivery_mode=header.delivery_mode if header else "",
            carrier=header.carrier if header else "",
            tracking=_tracking(rows),
            items=_items(items) if items else None,
        ))
    ordered = _ordered(shipments)

    # Sums would come out short when a slip's contents are unknown (only in the tracking table, or a journal header
    # without lines), when lines belong to no slip we may show, or when a read may have been cut off.
    if not complete or any(s.items is None for s in ordered) or any(key not in headers for key in contents):
        return Deliveries(ordered, unknown, journal_available=True)
    shipped: dict[str, Decimal] = {line.lot_id: Decimal(0) for line in lines}
    for row in slip_lines:
        line = order_keys.get(_line_key(row.line_number, row.item_number))
        if line is None:
            # The journal names a line this order does not have: the figures would be guesses.
            return Deliveries(ordered, unknown, journal_available=True)
        shipped[line.lot_id] += row.quantity
    return Deliveries(
        ordered,
        tuple(LineProgress(line, shipped[line.lot_id], _remaining(line, shipped[line.lot_id])) for line in lines),
        journal_available=True,
    )


def _remaining(line: OrderLine, shipped: Decimal) -> Decimal:
    if line.status in _NOTHING_TO_COME:
        return Decimal(0)
    rest = line.quantity - shipped
    # More shipped than ordered (or, on a return line, more received back): nothing is still to come.
    return max(rest, Decimal(0)) if line.quantity >= 0 else min(rest, Decimal(0))
