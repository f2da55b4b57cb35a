"""The webhook sender, run by every watcher pass (watching.outbox): claim a due delivery, POST it, record the attempt.

Claims: on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`, then the claim moves `next_attempt_at` a lease ahead with a
compare-and-set on its old value, so two watchers never send the same attempt (on SQLite the watcher's single-runner
lock already keeps a second one out; the compare-and-set holds there too). A watcher that dies mid-send leaves the
row to be claimed again when the lease ends: delivery is at least once, with the same event id every time.

Retries: 1, 2, 4 ... minutes (at most an hour apart) until 24 hours after the event, then one last attempt, then the
delivery gives up. A 2xx answer delivers; anything else (3xx included: redirects are not followed) retries.

Before each send, the delivery must still be owed: the user active, the token that added the endpoint (if one did)
neither revoked nor expired, and the user still watching the order through a link to its account (the e-mails check
the same). Otherwise it gives up unsent.

A slow receiver must not hold up the watcher, whose reads and e-mails follow: the database work stays in the calling
thread, and the network leg (DNS within WEBHOOKS_DNS_TIMEOUT_SECONDS, then one POST within its deadline) runs in a
pool of WEBHOOKS_SENDERS threads, one send per endpoint at a time. An endpoint that failed, or that has used more
than WEBHOOKS_ENDPOINT_PASS_SECONDS in this pass, is not tried again in it; no send starts after
WEBHOOKS_PASS_SECONDS. What was not sent stays due for the next pass.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from watching.locks import claims_with_skip_locked
from watching.selectors import watch_still_covered
from webhooks.guard import ResolutionTimedOut, UrlRefused, url_check
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.signing import delivery_headers, event_body
from webhooks.transport import webhook_post

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # well beyond one send's DNS timeout and POST deadline (webhooks.transport)
RETRY_FOR = timedelta(hours=24)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
SENDS_PER_PASS = 100

Pending = WebhookDelivery.Status.PENDING


@dataclass(frozen=True)
class Outcome:
    """How one POST went: the receiver's status code, or why there was none, and the time it took."""

    status_code: int | None
    error: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


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
    """The outbox sender: attempt the deliveries due at `now`, within this pass's budget; how many were delivered."""
    stop_at = time.monotonic() + float(settings.WEBHOOKS_PASS_SECONDS)
    share = float(settings.WEBHOOKS_ENDPOINT_PASS_SECONDS)
    workers = max(1, int(settings.WEBHOOKS_SENDERS))
    spent: defaultdict[uuid.UUID, float] = defaultdict(float)
    skip: set[uuid.UUID] = set()  # failed, or used up its share of this pass
    sending: dict[Future[Outcome], WebhookDelivery] = {}
    delivered = claimed = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhooks-send") as pool:
        while True:
            while len(sending) < workers and claimed < SENDS_PER_PASS and time.monotonic() < stop_at:
                busy = {d.endpoint_id for d in sending.values()}  # one send per endpoint at a time
                pk = delivery_claim(now=now, skip_endpoints=skip | busy)
                if pk is None:
                    break
                claimed += 1
                delivery = _owed(pk, now)
                if delivery is not None:
                    endpoint = delivery.endpoint
                    sending[pool.submit(send, delivery_id=pk, url=endpoint.url, secret=endpoint.secret,
                                        body=event_body(delivery.event))] = delivery
            if not sending:
                return delivered
            # Each send ends within its DNS timeout and POST deadline, so this wait is bounded too.
            done, _ = wait(sending, return_when=FIRST_COMPLETED)
            for future in done:
                delivery = sending.pop(future)
                outcome = future.result()
                _finish(delivery, now=now, outcome=outcome)
                delivered += outcome.ok
                spent[delivery.endpoint_id] += outcome.seconds
                if not outcome.ok or spent[delivery.endpoint_id] > share:
                    skip.add(delivery.endpoint_id)


def _owed(pk: int, now: datetime) -> WebhookDelivery | None:
    """The claimed delivery, when it may still be sent; otherwise it is given up (or was deleted) and None."""
    delivery = (WebhookDelivery.objects.select_related("endpoint__user", "endpoint__created_by_token", "event")
                .filter(pk=pk).first())
    if delivery is None:  # its endpoint was deleted meanwhile
        return None
    endpoint, event = delivery.endpoint, delivery.event
    token = endpoint.created_by_token
    if not endpoint.user.is_active:
        reason = "not sent: the user is deactivated"
    elif token is not None and not token.is_active:
        reason = "not sent: the API token that added this webhook was revoked or has expired"
    elif not watch_still_covered(user_id=event.user_id, company=event.company, number=event.number):
        reason = "not sent: the user no longer watches this order or may no longer see it"
    else:
        return delivery
    _finish(delivery, now=now, outcome=Outcome(status_code=None, error=reason, seconds=0.0), give_up=True)
    return None


def send(*, delivery_id: int, url: str, secret: str, body: bytes) -> Outcome:
    """Check the URL again and POST one delivery to it. Runs in the sender's pool: no database here."""
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    try:
        target = url_check(url)  # again: the DNS answer may differ from the one at registration
        headers = delivery_headers(secret=secret, body=body, timestamp=int(time.time()))
        status_code = webhook_post(url=target.url, address=target.address, body=body, headers=headers)
    except UrlRefused as exc:
        error = f"not sent: {exc}"
    except ResolutionTimedOut:
        error = "not sent: the host name did not resolve in time"
    except httpx.TimeoutException:
        error = "timed out"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: could not connect or send"
        logger.info("webhook delivery failed", extra={"delivery": delivery_id, "error": type(exc).__name__})
    if status_code is not None and not 200 <= status_code < 300:
        error = f"answered {status_code}"
    return Outcome(status_code=status_code, error=error, seconds=time.monotonic() - started)


def _finish(delivery: WebhookDelivery, *, now: datetime, outcome: Outcome, give_up: bool = False) -> None:
    if outcome.ok:
        status = WebhookDelivery.Status.DELIVERED
    elif give_up or now >= delivery.event.occurred_at + RETRY_FOR:
        status = WebhookDelivery.Status.GAVE_UP
    else:
        status = WebhookDelivery.Status.PENDING
    with transaction.atomic():
        current = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if current is None:  # the endpoint was deleted while we were sending
            return
        current.attempts += 1
        WebhookAttempt.objects.create(delivery=current, number=current.attempts, at=now,
                                      status_code=outcome.status_code, error=outcome.error[:200],
                                      duration_ms=int(outcome.seconds * 1000))
        current.last_status_code = outcome.status_code
        current.status = status
        if status == Pending:
            current.next_attempt_at = min(now + retry_delay(current.attempts), delivery.event.occurred_at + RETRY_FOR)
        else:
            current.next_attempt_at = None
            current.finished_at = now
            field = "last_delivered_at" if status == WebhookDelivery.Status.DELIVERED else "last_gave_up_at"
            WebhookEndpoint.objects.filter(pk=current.endpoint_id).update(**{field: now})
        current.save(update_fields=["attempts", "last_status_code", "status", "next_attempt_at", "finished_at"])
