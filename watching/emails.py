"""E-mail for watched orders: one message per ChangeEvent, in the user's language (the one they chose, else the one
they watched in), with a link to the order and a signed one-click link that stops watching it (RFC 8058
List-Unsubscribe-Post as well).

The fan-out hook queues an EmailNotification in the transaction that creates the event; the sender, run by every
watcher pass, claims due rows (FOR UPDATE SKIP LOCKED on PostgreSQL, under the single-runner lock on SQLite), leases
them for a few minutes so a crash mid-send retries later and no other watcher sends them meanwhile, and sends.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from languages.selectors import user_language
from orders.changes import change_text, changes_display
from watching import outbox
from watching.locks import claims_with_skip_locked
from watching.models import ChangeEvent, EmailNotification, Watch
from watching.selectors import watch_still_covered
from watching.tokens import unsubscribe_token

logger = logging.getLogger("watching.emails")

BATCH = 50
LEASE = timedelta(minutes=5)
# After the first attempt: 1 minute, 5 minutes, 30 minutes, 2 hours, 6 hours; then the e-mail is given up.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=6))


def order_url(*, company: str, number: str) -> str:
    return settings.PORTAL_BASE_URL + reverse("orders:detail", args=[company, number])


def unsubscribe_url(*, user_id: int, company: str, number: str) -> str:
    token = unsubscribe_token(user_id=user_id, company=company, number=number)
    return settings.PORTAL_BASE_URL + reverse("watching:unsubscribe", args=[token])


def email_queue(event: ChangeEvent) -> None:
    """The fan-out hook: an e-mail is owed to every watcher with an address."""
    if event.user.email:
        EmailNotification.objects.create(event=event, next_attempt_at=event.occurred_at)


def email_message(event: ChangeEvent, *, language: str = "") -> EmailMultiAlternatives:
    user = event.user
    stop_url = unsubscribe_url(user_id=user.pk, company=event.company, number=event.number)
    with translation.override(language or settings.LANGUAGE_CODE):
        changes = changes_display(event.changes)
        context = {
            "event": event,
            "number": event.number,
            "company": event.company,
            "changes": changes,
            "order_url": order_url(company=event.company, number=event.number),
            "unsubscribe_url": stop_url,
        }
        if len(event.changes) == 1:
            subject = translation.gettext("Order %(number)s: %(change)s") % {
                "number": event.number, "change": change_text(event.changes[0])}
        else:
            subject = translation.ngettext("Order %(number)s: %(count)d change", "Order %(number)s: %(count)d changes",
                                           len(changes)) % {"number": event.number, "count": len(changes)}
        text = render_to_string("watching/email/order_changed.txt", context)
        html = render_to_string("watching/email/order_changed.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split())[:200],
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"List-Unsubscribe": f"<{stop_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(html, "text/html")
    return message


def _claim(now: datetime) -> list[EmailNotification]:
    with transaction.atomic():
        due = EmailNotification.objects.filter(next_attempt_at__lte=now).order_by("next_attempt_at")
        if claims_with_skip_locked():
            due = due.select_for_update(skip_locked=True, of=("self",))
        claimed = list(due.select_related("event", "event__user")[:BATCH])
        EmailNotification.objects.filter(pk__in=[n.pk for n in claimed]).update(
            next_attempt_at=now + LEASE, attempts=F("attempts") + 1
        )
    return claimed


def _send_one(note: EmailNotification, now: datetime) -> bool:
    event = note.event
    watch = Watch.objects.filter(user_id=event.user_id, order__company=event.company,
                                 order__number=event.number).values("language").first()
    covered = watch is not None and watch_still_covered(user_id=event.user_id, company=event.company,
                                                        number=event.number)
    if watch is None or not covered or not event.user.is_active or not event.user.email:
        # Stopped watching (or lost access) since the change was seen: owed nothing any more.
        EmailNotification.objects.filter(pk=note.pk).update(next_attempt_at=None, error="no longer watching")
        return False
    try:
        language = user_language(user_id=event.user_id) or watch["language"]
        email_message(event, language=language).send(fail_silently=False)
    except Exception as exc:  # any backend error: SMTP, socket, file
        attempts = note.attempts + 1
        retry_at = now + RETRY_DELAYS[attempts - 1] if attempts <= len(RETRY_DELAYS) else None
        EmailNotification.objects.filter(pk=note.pk).update(next_attempt_at=retry_at, error=type(exc).__name__)
        logger.warning("watching.email.failed", extra={"event_id": str(event.pk), "attempts": attempts,
                                                       "error": type(exc).__name__, "gave_up": retry_at is None})
        return False
    EmailNotification.objects.filter(pk=note.pk).update(next_attempt_at=None, sent_at=now, error="")
    return True


def emails_send(now: datetime) -> int:
    """The sender: every due e-mail, once. Returns how many were sent."""
    sent = 0
    while True:
        claimed = _claim(now)
        sent += sum(_send_one(note, now) for note in claimed)
        if len(claimed) < BATCH:
            return sent


def email_connect() -> None:
    outbox.on_change(email_queue)
    outbox.sender("email", emails_send)
