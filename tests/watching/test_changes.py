"""What counts as a change: customer-visible fields only, each {"field", "from", "to"}."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from django.utils import translation

from orders.changes import change_text, order_state, state_changes
from orders.documents import Invoice
from orders.records import SalesOrder
from orders.shipments import Shipment, Tracking
from tests.factories import order_row


def _order(**fields: object) -> SalesOrder:
    return replace(SalesOrder.from_odata(order_row("usmf", "SO-1", "US-001")), **fields)


def _slip(number: str, *tracking: str) -> Shipment:
    return Shipment(number, date(2026, 12, 1), "Truck", "UPS", tuple(Tracking(t, "") for t in tracking), None)


def _invoice(number: str) -> Invoice:
    return Invoice("usmf", number, date(2026, 12, 2), "SO-1", "US-001", "USD", Decimal(0), Decimal(0))


def _state(order: SalesOrder | None = None, slips: tuple[Shipment, ...] = (), invoices: tuple[str, ...] = ()) -> dict:
    return order_state(order=order or _order(), shipments=slips, invoices=[_invoice(n) for n in invoices])


def test_first_state_has_nothing_to_compare_with():
    assert state_changes(None, _state()) == []


def test_the_same_state_has_no_changes():
    assert state_changes(_state(), _state()) == []


def test_confirmed_ship_date_set_and_moved():
    unset = _state(_order(confirmed_ship_date=None))
    first = _state(_order(confirmed_ship_date=date(2026, 12, 12)))
    moved = _state(_order(confirmed_ship_date=date(2026, 12, 19)))
    assert state_changes(unset, first) == [{"field": "confirmed_ship_date", "from": None, "to": "2026-12-12"}]
    assert state_changes(first, moved) == [{"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-19"}]


def test_confirmed_delivery_date_moved():
    before = _state(_order(confirmed_receipt_date=date(2026, 12, 14)))
    after = _state(_order(confirmed_receipt_date=date(2026, 12, 21)))
    assert state_changes(before, after) == [
        {"field": "confirmed_receipt_date", "from": "2026-12-14", "to": "2026-12-21"}]


def test_on_hold_released_and_cancelled_are_status_changes():
    confirmed = _state(_order(processing_status="Confirmed", on_hold=False))
    held = _state(_order(processing_status="Confirmed", on_hold=True))
    cancelled = _state(_order(status="Canceled", processing_status="Canceled"))
    assert state_changes(confirmed, held) == [{"field": "status", "from": "confirmed", "to": "on_hold"}]
    assert state_changes(held, confirmed) == [{"field": "status", "from": "on_hold", "to": "confirmed"}]
    assert state_changes(confirmed, cancelled) == [{"field": "status", "from": "confirmed", "to": "cancelled"}]


def test_a_new_packing_slip_with_its_tracking_numbers_and_a_tracking_number_added_later():
    none = _state()
    shipped = _state(slips=(_slip("PS-1", "1Z1", "1Z2"),))
    more = _state(slips=(_slip("PS-1", "1Z1", "1Z2", "1Z3"),))
    assert state_changes(none, shipped) == [
        {"field": "packing_slip", "from": None, "to": "PS-1"},
        {"field": "tracking_number", "from": None, "to": "1Z1"},
        {"field": "tracking_number", "from": None, "to": "1Z2"},
    ]
    assert state_changes(shipped, more) == [{"field": "tracking_number", "from": None, "to": "1Z3"}]


def test_a_new_invoice():
    assert state_changes(_state(), _state(invoices=("INV-1",))) == [{"field": "invoice", "from": None, "to": "INV-1"}]


def test_fields_the_customer_is_not_shown_are_no_change():
    before = _state(_order(header_total=10, delivery_terms="FOB", customer_name="A"))
    after = _state(_order(header_total=99, delivery_terms="CIF", customer_name="B"))
    assert state_changes(before, after) == []


def test_several_changes_come_in_one_set_in_a_fixed_order():
    before = _state(_order(confirmed_ship_date=date(2026, 12, 12)))
    after = _state(_order(confirmed_ship_date=date(2026, 12, 19), processing_status="Delivered"),
                   slips=(_slip("PS-1"),), invoices=("INV-1",))
    assert [c["field"] for c in state_changes(before, after)] == [
        "status", "confirmed_ship_date", "packing_slip", "invoice"]


def test_a_state_of_another_version_is_not_compared():
    assert state_changes({"v": 0, "status": "open"}, _state()) == []


def test_change_text_names_both_dates_in_the_readers_format():
    with translation.override("en"):
        text = change_text({"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-19"})
    assert "Dec. 12, 2026" in text
    assert "Dec. 19, 2026" in text
