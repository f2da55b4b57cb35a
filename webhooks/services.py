"""Writes: registering and deleting endpoints, ending them with the token or password that let them in, and queueing a
delivery per endpoint for each change event."""

from __future__ import annotations

import logging
import uuid
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from watching.models import ChangeEvent
from webhooks.emails import endpoint_added_notify
from webhooks.guard import url_check
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import secret_new

logger = logging.getLogger(__name__)


class EndpointLimitReached(Exception):
    """The user already has WEBHOOKS_PER_USER endpoints."""


def _limit_check(user_id: int) -> None:
    if WebhookEndpoint.objects.filter(user_id=user_id).count() >= settings.WEBHOOKS_PER_USER:
        raise EndpointLimitReached(f"{settings.WEBHOOKS_PER_USER} endpoints already")


def endpoint_create(*, user_id: int, url: str, token_id: int | None = None) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret, returned here and shown once; `token_id` is the API token that asks, None on the
    web page. The user is e-mailed that it was added. Raises UrlRefused, ResolutionTimedOut or EndpointLimitReached.
    """
    _limit_check(user_id)  # before the DNS lookup, which is slow: a user at the limit is told at once
    target = url_check(url.strip())
    secret = secret_new()
    with transaction.atomic():
        # Counted again under a lock on the user's row: concurrent requests all passed the first count while their
        # lookups ran, and each would otherwise add one more.
        get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True).first()
        _limit_check(user_id)
        endpoint = WebhookEndpoint.objects.create(user_id=user_id, url=target.url, secret=secret,
                                                  created_by_token_id=token_id)
        transaction.on_commit(partial(endpoint_added_notify, endpoint_id=endpoint.pk))
    logger.info("webhooks.endpoint.added", extra={"event": "webhooks.endpoint.added", "user_id": user_id,
                                                  "endpoint": str(endpoint.pk), "token_id": token_id})
    return endpoint, secret


def endpoint_delete(*, user_id: int, endpoint_id: uuid.UUID) -> bool:
    """Delete one of the user's endpoints with its deliveries. False when the user has no such endpoint."""
    deleted, _ = WebhookEndpoint.objects.filter(user_id=user_id, pk=endpoint_id).delete()
    return deleted > 0


def endpoints_end(*, user_id: int, token_id: int | None = None, reason: str) -> int:
    """Delete the endpoints the token added (a revoked token), or all the user's (a new password). How many."""
    endpoints = WebhookEndpoint.objects.filter(user_id=user_id)
    if token_id is not None:
        endpoints = endpoints.filter(created_by_token_id=token_id)
    _, deleted = endpoints.delete()  # with their deliveries and attempts
    removed = deleted.get(WebhookEndpoint._meta.label, 0)
    if removed:
        logger.info("webhooks.endpoints.removed", extra={"event": "webhooks.endpoints.removed", "user_id": user_id,
                                                         "reason": reason, "count": removed})
    return removed


def deliveries_fan_out(event: ChangeEvent) -> None:
    """The outbox hook: a pending delivery per endpoint of the event's user, in the transaction that made the event.

    A deactivated user's endpoints get nothing.
    """
    endpoint_ids = WebhookEndpoint.objects.filter(user_id=event.user_id, user__is_active=True).values_list(
        "pk", flat=True)
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(endpoint_id=endpoint_id, event=event, next_attempt_at=event.occurred_at)
        for endpoint_id in endpoint_ids
    ])
