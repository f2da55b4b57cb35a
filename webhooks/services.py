"""Writes: registering and deleting endpoints, and queueing a delivery per endpoint for each change event."""

from __future__ import annotations

import uuid

from django.conf import settings

from watching.models import ChangeEvent
from webhooks.guard import url_check
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import secret_new


class EndpointLimitReached(Exception):
    """The user already has WEBHOOKS_PER_USER endpoints."""


def endpoint_create(*, user_id: int, url: str) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret, returned here and shown once. Raises UrlRefused or EndpointLimitReached."""
    if WebhookEndpoint.objects.filter(user_id=user_id).count() >= settings.WEBHOOKS_PER_USER:
        raise EndpointLimitReached(f"{settings.WEBHOOKS_PER_USER} endpoints already")
    target = url_check(url.strip())
    secret = secret_new()
    endpoint = WebhookEndpoint.objects.create(user_id=user_id, url=target.url, secret=secret)
    return endpoint, secret


def endpoint_delete(*, user_id: int, endpoint_id: uuid.UUID) -> bool:
    """Delete one of the user's endpoints with its deliveries. False when the user has no such endpoint."""
    deleted, _ = WebhookEndpoint.objects.filter(user_id=user_id, pk=endpoint_id).delete()
    return deleted > 0


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
