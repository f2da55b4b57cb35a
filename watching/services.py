"""Writes: start and stop watching, end watches when access ends."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.changes import State
from orders.records import SalesOrder
from watching.models import Watch, WatchedOrder


@transaction.atomic
def watch_start(*, user_id: int, order: SalesOrder, state: State, language: str = "") -> tuple[Watch, bool]:
    """Watch an order the caller has just read through the customer's own selector (so it is theirs).

    A new WatchedOrder starts from what the user was shown, and is re-read after one interval; one that others
    already watch keeps its state and schedule.
    """
    watched, _ = WatchedOrder.objects.get_or_create(
        company=order.company,
        number=order.number,
        defaults={
            "account": order.customer_account,
            "state": state,
            "next_check_at": timezone.now() + timedelta(seconds=settings.ORDERS_WATCH_INTERVAL_SECONDS),
        },
    )
    return Watch.objects.get_or_create(user_id=user_id, order=watched, defaults={"language": language[:16]})


def watch_stop(*, user_id: int, company: str, number: str) -> bool:
    """Stop watching. True when there was a watch. The watcher forgets an order nobody watches any more."""
    deleted, _ = Watch.objects.filter(user_id=user_id, order__company=company, order__number__iexact=number).delete()
    return deleted > 0


def watches_end(*, user_id: int, company: str | None = None, account: str | None = None) -> int:
    """End a user's watches: all of them, or those of one company's account (an unlinked account)."""
    watches = Watch.objects.filter(user_id=user_id)
    if company is not None:
        watches = watches.filter(order__company=company)
    if account is not None:
        watches = watches.filter(order__account__iexact=account)
    deleted, _ = watches.delete()
    return deleted
