"""Reads: a user's endpoints and their deliveries, always scoped to the user."""

from __future__ import annotations

import uuid

from django.db.models import Prefetch

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

DELIVERIES_SHOWN = 50


def endpoint_list_for_user(*, user_id: int) -> list[WebhookEndpoint]:
    endpoints = WebhookEndpoint.objects.filter(user_id=user_id).select_related("created_by_token")
    return list(endpoints.order_by("created_at"))


def endpoint_get_for_user(*, user_id: int, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(user_id=user_id, pk=endpoint_id).first()


def delivery_list_for_endpoint(*, endpoint: WebhookEndpoint, limit: int = DELIVERIES_SHOWN) -> list[WebhookDelivery]:
    """The endpoint's newest deliveries, each with its attempts newest first."""
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")
        .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-number")))
        .order_by("-created_at", "-pk")[:limit]
    )


def delivery_list_for_user(*, user_id: int, limit: int = 20) -> list[WebhookDelivery]:
    """The newest deliveries to any of the user's endpoints, for the App access page."""
    return list(
        WebhookDelivery.objects.filter(endpoint__user_id=user_id).select_related("event", "endpoint")
        .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-number")))
        .order_by("-created_at", "-pk")[:limit]
    )
