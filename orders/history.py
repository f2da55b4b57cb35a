"""What the portal remembers of orders between reads: every promised date it saw, and what each user last saw.

Promise dates are recorded on reads that went to F&O (customers', staff's and the watcher's), never on cached
copies: one INSERT ... ON CONFLICT DO NOTHING per live read, so the hot path (cached copies) costs nothing. Order
numbers are stored as F&O spells them (the record's number), whatever case the reader typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from orders.changes import Change, State, state_changes
from orders.local_cache import LocalCache
from orders.models import OrderSeen, PromiseDate
from orders.records import SalesOrder

SHIP, RECEIPT = PromiseDate.Kind.SHIP, PromiseDate.Kind.RECEIPT

# What this process last read or wrote of both records, kept for as long as a hot copy (orders.cached_reads): a
# look at an order read a moment ago costs no query. What another process writes is seen here within that second;
# what this process writes, at once.
_KNOWN_SECONDS = 1.0
_histories = LocalCache(max_entries=5_000, ttl=_KNOWN_SECONDS)
_seen_states = LocalCache(max_entries=20_000, ttl=_KNOWN_SECONDS)


def _order_key(company: str, number: str) -> str:
    return f"{company}|{number}"


@dataclass(frozen=True)
class Promise:
    value: date
    first_seen_at: datetime


@dataclass(frozen=True)
class PromiseHistory:
    ship: tuple[Promise, ...]
    receipt: tuple[Promise, ...]

    def __bool__(self) -> bool:
        return bool(self.ship or self.receipt)


def promise_dates_record(*, orders: Iterable[SalesOrder], seen_at: datetime | None = None) -> None:
    """Remember each confirmed date of these orders that was not seen before (one statement for all of them)."""
    at = seen_at or timezone.now()
    rows = [
        PromiseDate(company=order.company, number=order.number, kind=kind, value=value, first_seen_at=at)
        for order in orders
        for kind, value in ((SHIP, order.confirmed_ship_date), (RECEIPT, order.confirmed_receipt_date))
        if value is not None
    ]
    if rows:
        PromiseDate.objects.bulk_create(rows, ignore_conflicts=True)
        _histories.delete(*{_order_key(row.company, row.number) for row in rows})


def promise_history(*, company: str, number: str) -> PromiseHistory:
    key = _order_key(company, number)
    known: PromiseHistory | None = _histories.get(key)
    if known is not None:
        return known
    history = _promise_history_read(company=company, number=number)
    _histories.set(key, history)
    return history


def _promise_history_read(*, company: str, number: str) -> PromiseHistory:
    rows = PromiseDate.objects.filter(company=company, number=number).order_by("first_seen_at", "value")
    found: dict[str, list[Promise]] = {SHIP: [], RECEIPT: []}
    for kind, value, seen in rows.values_list("kind", "value", "first_seen_at"):
        found.setdefault(kind, []).append(Promise(value, seen))
    return PromiseHistory(ship=tuple(found[SHIP]), receipt=tuple(found[RECEIPT]))


def _short(value: date, today: date) -> str:
    # Translators: the letters of Django's date filter, e.g. German "j. N" for "12. Dez.".
    this_year = pgettext("a date in this year, short", "j M")
    # Translators: the letters of Django's date filter, e.g. German "j. N Y" for "12. Dez. 2026".
    other_year = pgettext("a date in another year, short", "j M Y")
    return date_format(value, this_year if value.year == today.year else other_year)


def promise_history_text(promises: tuple[Promise, ...]) -> str:
    """"promised 12 Dec (first seen 1 Dec), moved to 19 Dec (seen 9 Dec)", in the reader's language."""
    today = localtime().date()
    parts = []
    for index, promise in enumerate(promises):
        values = {"date": _short(promise.value, today), "seen": _short(localtime(promise.first_seen_at).date(), today)}
        if index == 0:
            parts.append(_("promised %(date)s (first seen %(seen)s)") % values)
        else:
            parts.append(_("moved to %(date)s (seen %(seen)s)") % values)
    return ", ".join(parts)


def order_seen_compare(*, user_id: int, company: str, number: str, state: State) -> list[Change] | None:
    """What changed since this user last saw this order, and remember what they see now.

    None on the first view (nothing to compare with), [] when nothing changed. Writes only when something did.
    """
    key = f"{user_id}|{_order_key(company, number)}"
    if _seen_states.get(key) == state:
        return []  # what this process recorded or read for them a moment ago: nothing changed since
    seen = OrderSeen.objects.filter(user_id=user_id, company=company, number=number).first()
    now = timezone.now()
    if seen is None:
        # One INSERT ... ON CONFLICT DO NOTHING: if the same user's other tab recorded it a moment ago, that stands.
        OrderSeen.objects.bulk_create(
            [OrderSeen(user_id=user_id, company=company, number=number, state=state, seen_at=now)],
            ignore_conflicts=True,
        )
        _seen_states.set(key, state)
        return None
    if seen.state == state:
        _seen_states.set(key, state)
        return []
    changes = state_changes(seen.state, state)
    OrderSeen.objects.filter(pk=seen.pk).update(state=state, seen_at=now)
    _seen_states.set(key, state)
    return changes
