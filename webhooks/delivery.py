"""The webhook sender, run by every watcher pass (watching.outbox): claim a due delivery, POST it, record the attempt.

Claims: on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`, then the claim moves `next_attempt_at` a lease ahead with a
compare-and-set on its old value, so two watchers never send the same attempt (on SQLite the watcher's single-runner
lock already keeps a second one out; the compare-and-set holds there too). A watcher that dies mid-send leaves the
row to be claimed again when the lease ends: delivery is at least once, with the same event id every time.

Retries: 1, 2, 4 ... minutes (at most an hour apart) until 24 hours after the event, then one last attempt, then the
delivery gives up. A 2xx answer delivers; anything else (3xx included: redirects are not followed) retries. An
endpoint that failed once in a pass is not tried again in that pass.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta

import httpx
from django.db import transaction
from django.utils import timezone

from watching.locks import claims_with_skip_locked
from webhooks.guard import UrlRefused, url_check
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.signing import delivery_headers, event_body
from webhooks.transport import webhook_post

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # well beyond one POST's deadline (webhooks.transport.TOTAL_SECONDS)
RETRY_FOR = timedelta(hours=24)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
SENDS_PER_PASS = 100

Pending = WebhookDelivery.Status.PENDING


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), LONGEST_RETRY)


def delivery_claim(*, now: datetime, skip_endpoints: set[uuid.UUID]) -> int | None:
    """The id of a due delivery this process now holds a lease on, or None when nothing is due."""
    # The lease runs on the real clock: a long pass's `now` is in the past, and a lease from it could end mid-send.
    lease_until = max(now, timezone.now()) + LEASE
    while True:
        with transaction.atomic():
            due = (WebhookDelivery.objects.filter(status=Pending, next_attempt_at__lte=now)
                   .exclude(endpoint_id__in=skip_endpoints).order_by("next_attempt_at", "pk"))
            if claims_with_skip_locked():
                due = due.select_for_update(skip_locked=True)
            row = due.values_list("pk", "next_attempt_at").first()
            if row is None:
                return None
            pk, seen = row
            if WebhookDelivery.objects.filter(pk=pk, status=Pending, next_attempt_at=seen).update(
                    next_attempt_at=lease_until):
                return pk
        # Another watcher claimed it between our read and our write: look again.


def deliveries_send_due(now: datetime) -> int:
    """The outbox sender: attempt the deliveries due at `now`; how many were delivered."""
    delivered = 0
    failed_endpoints: set[uuid.UUID] = set()
    for _ in range(SENDS_PER_PASS):
        pk = delivery_claim(now=now, skip_endpoints=failed_endpoints)
        if pk is None:
            break
        delivery = WebhookDelivery.objects.select_related("endpoint__user", "event").filter(pk=pk).first()
        if delivery is None:  # its endpoint was deleted meanwhile
            continue
        if delivery_attempt(delivery=delivery, now=now):
            delivered += 1
        else:
            failed_endpoints.add(delivery.endpoint_id)
    return delivered


def delivery_attempt(*, delivery: WebhookDelivery, now: datetime) -> bool:
    """POST one claimed delivery and record how it went. True when the receiver answered 2xx."""
    endpoint = delivery.endpoint
    if not endpoint.user.is_active:
        _finish(delivery, now=now, status=WebhookDelivery.Status.GAVE_UP, status_code=None,
                error="not sent: the user is deactivated", duration_ms=0)
        return False
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    try:
        target = url_check(endpoint.url)  # again: the DNS answer may differ from the one at registration
        body = event_body(delivery.event)
        headers = delivery_headers(secret=endpoint.secret, body=body, timestamp=int(time.time()))
        status_code = webhook_post(url=target.url, address=target.address, body=body, headers=headers)
    except UrlRefused as exc:
        error = f"not sent: {exc}"
    except httpx.TimeoutException:
        error = "timed out"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: could not connect or send"
        logger.info("webhook delivery failed", extra={"delivery": delivery.pk, "error": type(exc).__name__})
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    if not ok and status_code is not None:
        error = f"answered {status_code}"
    if ok:
        status = WebhookDelivery.Status.DELIVERED
    elif now >= delivery.event.occurred_at + RETRY_FOR:
        status = WebhookDelivery.Status.GAVE_UP
    else:
        status = WebhookDelivery.Status.PENDING
    _finish(delivery, now=now, status=status, status_code=status_code, error=error, duration_ms=duration_ms)
    return ok


def _finish(delivery: WebhookDelivery, *, now: datetime, status: str, status_code: int | None, error: str,
            duration_ms: int) -> None:
    with transaction.atomic():
        current = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if current is None:  # the endpoint was deleted while we were sending
            return
        current.attempts += 1
        WebhookAttempt.objects.create(delivery=current, number=current.attempts, at=now, status_code=status_code,
                                      error=error[:200], duration_ms=duration_ms)
        current.last_status_code = status_code
        current.status = status
        if status == Pending:
            current.next_attempt_at = min(now + retry_delay(current.attempts), delivery.event.occurred_at + RETRY_FOR)
        else:
            current.next_attempt_at = None
            current.finished_at = now
            field = "last_delivered_at" if status == WebhookDelivery.Status.DELIVERED else "last_gave_up_at"
            WebhookEndpoint.objects.filter(pk=current.endpoint_id).update(**{field: now})
        current.save(update_fields=["attempts", "last_status_code", "status", "next_attempt_at", "finished_at"])
