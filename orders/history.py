"""What the portal remembers of orders between reads: every promised date it saw, and what each user last saw.

Promise dates are recorded on reads that went to F&O (customers', staff's and the watcher's), never on cached
copies, so the hot path costs nothing. A live read asks what was seen of its order (one query, which the page then
shows from this process's memory), and a view asks what its user saw last (one query); what changed is written by
a background writer (orders.batch_writer) after the request, in batches. Order numbers are stored as F&O spells them
(the record's number), whatever case the reader typed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from orders import metrics
from orders.batch_writer import BatchWriter
from orders.changes import Change, State, state_changes
from orders.local_cache import LocalCache
from orders.models import OrderSeen, PromiseDate
from orders.records import SalesOrder

SHIP, RECEIPT = PromiseDate.Kind.SHIP, PromiseDate.Kind.RECEIPT
logger = logging.getLogger("orders.history")

# What this process last read or wrote of both records, for two seconds: a look at an order read a moment ago costs
# no query, and what this process wrote is known here until the history writer's batch (at most a second) landed.
# What another process writes is seen here within those two seconds and its writer's batch window.
_KNOWN_SECONDS = 2.0
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


# The two reads a live lookup makes, in plain SQL: building the query through the ORM costs about three times what
# running it does (measured here: ~330 us against ~100 us of CPU), and every cold lookup runs both. Values are
# always parameters; tests/orders/test_history_writer.py runs both on SQLite and PostgreSQL.
_PROMISES_SQL = ('SELECT "company", "number", "kind", "value", "first_seen_at" FROM "orders_promisedate" '
                 'WHERE "company" IN ({companies}) AND "number" IN ({numbers}) ORDER BY "first_seen_at", "value"')
_SEEN_SQL = 'SELECT "state" FROM "orders_orderseen" WHERE "user_id" = %s AND "company" = %s AND "number" = %s'


def _select(sql: str, params: Sequence[str | int]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


# What each database hands back outside the ORM: PostgreSQL typed values (JSON as text, as Django asks psycopg),
# SQLite text or naive UTC datetimes.
def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _instant(value: datetime | str) -> datetime:
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return instant if timezone.is_aware(instant) else instant.replace(tzinfo=UTC)


def _json(value: str | bytes | State) -> State:
    state: State = json.loads(value) if isinstance(value, str | bytes) else value
    return state


def promise_dates_record(*, orders: Iterable[SalesOrder], seen_at: datetime | None = None) -> None:
    """Remember each confirmed date of these orders that was not seen before.

    What was seen is read once for all of them (or known from a moment ago); only dates not among it are written,
    by the history writer, after the request. The reader is shown them at once: this process knows them now.
    """
    at = seen_at or timezone.now()
    orders = [order for order in orders if order.confirmed_ship_date or order.confirmed_receipt_date]
    if not orders:
        return
    histories = _promise_histories({(order.company, order.number) for order in orders})
    for order in orders:
        key = (order.company, order.number)
        history = histories[key]
        ship, receipt = list(history.ship), list(history.receipt)
        for kind, value, known in ((SHIP, order.confirmed_ship_date, ship),
                                   (RECEIPT, order.confirmed_receipt_date, receipt)):
            if value is not None and all(promise.value != value for promise in known):
                known.append(Promise(value, at))
                _writer.put(PromiseDate(company=order.company, number=order.number, kind=kind, value=value,
                                        first_seen_at=at))
        if (len(ship), len(receipt)) != (len(history.ship), len(history.receipt)):
            histories[key] = PromiseHistory(ship=tuple(ship), receipt=tuple(receipt))
            _histories.set(_order_key(*key), histories[key])


def promise_history(*, company: str, number: str) -> PromiseHistory:
    return _promise_histories({(company, number)})[(company, number)]


def _promise_histories(orders: set[tuple[str, str]]) -> dict[tuple[str, str], PromiseHistory]:
    """Each order's history, from what this process knows of a moment ago, else in one query for the rest."""
    found: dict[tuple[str, str], PromiseHistory] = {}
    for order in orders:
        known: PromiseHistory | None = _histories.get(_order_key(*order))
        if known is not None:
            found[order] = known
    missing = orders - found.keys()
    if not missing:
        return found
    promises: dict[tuple[str, str], dict[str, list[Promise]]] = {order: {SHIP: [], RECEIPT: []} for order in missing}
    companies, numbers = sorted({c for c, _ in missing}), sorted({n for _, n in missing})
    # Only placeholders go into the statement, one per value.
    sql = _PROMISES_SQL.format(companies=", ".join(["%s"] * len(companies)), numbers=", ".join(["%s"] * len(numbers)))
    for company, number, kind, value, seen in _select(sql, [*companies, *numbers]):
        if (company, number) in promises:  # the query's cross product may hold another company's same number
            promises[company, number].setdefault(kind, []).append(Promise(_date(value), _instant(seen)))
    for order, kinds in promises.items():
        found[order] = PromiseHistory(ship=tuple(kinds[SHIP]), receipt=tuple(kinds[RECEIPT]))
        _histories.set(_order_key(*order), found[order])
    return found


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

    None on the first view (nothing to compare with), [] when nothing changed. Writes (through the history writer,
    after the request) only when something did.
    """
    key = f"{user_id}|{_order_key(company, number)}"
    seen: State | None = _seen_states.get(key)
    if seen is None:
        found = _select(_SEEN_SQL, [user_id, company, number])
        seen = _json(found[0][0]) if found else None
    # else: what this process recorded or read for them a moment ago, which its writer may not have written yet
    _seen_states.set(key, state)
    if seen == state:
        return []
    _writer.put(OrderSeen(user_id=user_id, company=company, number=number, state=state, seen_at=timezone.now()))
    return None if seen is None else state_changes(seen, state)


class _HistoryWriter(BatchWriter[PromiseDate | OrderSeen]):
    """Promise dates and "last seen" records, written after the requests that saw them, a batch at a time."""

    def __init__(self) -> None:
        super().__init__(name="history-writer", event="history", lost=metrics.HISTORY_LOST, logger=logger)

    def write(self, items: list[PromiseDate | OrderSeen]) -> None:
        promises = [item for item in items if isinstance(item, PromiseDate)]
        # The same user's same order twice in one batch (two tabs): what they saw last is what stands.
        seen = {(s.user_id, s.company, s.number): s for s in items if isinstance(s, OrderSeen)}
        if promises:
            # A date another process recorded first keeps its first sighting.
            PromiseDate.objects.bulk_create(promises, ignore_conflicts=True)
        if seen:
            # A user deleted since their look takes nobody else's record down with them.
            users = set(get_user_model().objects.filter(pk__in={s.user_id for s in seen.values()})
                        .values_list("pk", flat=True))
            _seen_upsert([s for s in seen.values() if s.user_id in users])


# Another process's batch may land after ours with an older look: only a later look replaces an earlier one.
_SEEN_UPSERT_SQL = (
    'INSERT INTO "orders_orderseen" ("user_id", "company", "number", "state", "seen_at") VALUES {rows} '
    'ON CONFLICT ("user_id", "company", "number") DO UPDATE SET "state" = excluded."state", '
    '"seen_at" = excluded."seen_at" WHERE "orders_orderseen"."seen_at" < excluded."seen_at"'
)


def _seen_upsert(records: list[OrderSeen]) -> None:
    if not records:
        return
    state_field, seen_field = OrderSeen._meta.get_field("state"), OrderSeen._meta.get_field("seen_at")
    params: list[Any] = []  # values as each database takes them (JSON adapted, datetimes as the backend stores them)
    for record in records:
        params += [record.user_id, record.company, record.number,
                   state_field.get_db_prep_save(record.state, connection),
                   seen_field.get_db_prep_save(record.seen_at, connection)]
    # Only placeholders go into the statement, five per record.
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(records))
    with connection.cursor() as cursor:
        cursor.execute(_SEEN_UPSERT_SQL.format(rows=rows), params)


_writer = _HistoryWriter()


def history_flush(timeout: float | None = None) -> bool:
    """Write every promise date and "last seen" record queued so far; False if `timeout` seconds ran out first."""
    return _writer.flush(timeout)
