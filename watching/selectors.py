"""Reads: a user's watches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Exists, OuterRef, Subquery

from orders.models import CustomerAccountLink
from watching.models import ChangeEvent, Watch


@dataclass(frozen=True)
class WatchRow:
    company: str
    number: str
    since: datetime
    last_change_at: datetime | None


def watches_for_user(*, user_id: int) -> list[WatchRow]:
    last_change = ChangeEvent.objects.filter(
        user_id=user_id, company=OuterRef("order__company"), number=OuterRef("order__number")
    ).order_by("-occurred_at").values("occurred_at")[:1]
    rows = (
        Watch.objects.filter(user_id=user_id)
        .annotate(last_change_at=Subquery(last_change))
        .order_by("-created_at")
        .values_list("order__company", "order__number", "created_at", "last_change_at")
    )
    return [WatchRow(company, number, since, last) for company, number, since, last in rows]


# Asked on every view of an order page, so in plain SQL, as orders.history's reads: building the query through the
# ORM and the query cache costs several times running it. Values are always parameters; the number is compared
# without regard to case, as the watch was made (tests/watching/test_views.py runs it on both databases).
_WATCH_SQL = ('SELECT 1 FROM "watching_watch" w JOIN "watching_watchedorder" o ON o."id" = w."order_id" '
              'WHERE w."user_id" = %s AND o."company" = %s AND UPPER(o."number") = UPPER(%s) LIMIT 1')


def watch_exists(*, user_id: int, company: str, number: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_WATCH_SQL, [user_id, company, number])
        return cursor.fetchone() is not None


def watch_still_covered(*, user_id: int, company: str, number: str) -> bool:
    """The user still watches this order (as the watcher spelled it in the event) and is still linked to its account:
    what the watcher checked before it made the event (watching.watcher), for a sender to check again before it sends
    what it queued then. Signals end watches when access ends; QuerySet.update bypasses them, this does not."""
    linked = CustomerAccountLink.objects.filter(user=OuterRef("user"), company=OuterRef("order__company"),
                                                account__iexact=OuterRef("order__account"))
    return Watch.objects.filter(user_id=user_id, order__company=company, order__number=number).filter(
        Exists(linked)).exists()
