"""What the API shows of endpoints and deliveries. The secret appears only in the answer that created the endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def endpoint_created_json(endpoint: WebhookEndpoint, secret: str) -> dict[str, Any]:
    return {"id": str(endpoint.pk), "url": endpoint.url, "secret": secret}


def endpoint_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": str(endpoint.pk),
        "url": endpoint.url,
        "created_at": _iso(endpoint.created_at),
        "last_delivered_at": _iso(endpoint.last_delivered_at),
        "last_gave_up_at": _iso(endpoint.last_gave_up_at),
    }


def _attempt_json(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "at": _iso(attempt.at),
        "status_code": attempt.status_code,
        "error": attempt.error or None,
        "duration_ms": attempt.duration_ms,
    }


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    event = delivery.event
    return {
        "event_id": str(event.pk),
        "type": "order.changed",
        "order": {"company": event.company, "number": event.number},
        "occurred_at": _iso(event.occurred_at),
        "status": delivery.status,
        "next_attempt_at": _iso(delivery.next_attempt_at),
        "finished_at": _iso(delivery.finished_at),
        "attempts": [_attempt_json(a) for a in delivery.attempt_log.all()],
    }
