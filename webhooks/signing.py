"""What a delivery carries: the JSON body (the same on every attempt) and its signature header.

`Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the endpoint's secret>`. The time is
signed with the body, so a receiver that refuses old `t` values cannot be fed a recorded delivery later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC
from typing import Any

from django.conf import settings
from django.urls import reverse

from portal import __version__
from watching.models import ChangeEvent

SIGNATURE_HEADER = "Portal-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105  (a public marker, like the API tokens' fop_)
USER_AGENT = f"FnO-Order-Portal-Webhooks/{__version__}"


def secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def event_payload(event: ChangeEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "type": "order.changed",
        "occurred_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "order": {
            "company": event.company,
            "number": event.number,
            "url": settings.PORTAL_BASE_URL + reverse("orders:detail", args=[event.company, event.number]),
        },
        "changes": [{"field": c["field"], "from": c.get("from"), "to": c.get("to")} for c in event.changes],
    }


def event_body(event: ChangeEvent) -> bytes:
    return json.dumps(event_payload(event), separators=(",", ":"), ensure_ascii=False).encode()


def signature(*, secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def delivery_headers(*, secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret=secret, body=body, timestamp=timestamp),
    }
