"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json: each app describes its own paths and
schemas (orders/openapi.py, webhooks/openapi.py, watching/openapi.py) and this module puts them together, as the
project is the one place that knows every app (orders imports neither of the others)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from orders import openapi as orders_part
from watching import openapi as watching_part
from webhooks import openapi as webhooks_part


def _merged(*parts: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        if named_twice := sorted(merged.keys() & part.keys()):
            raise ImproperlyConfigured(f"OpenAPI: two apps describe {', '.join(named_twice)}")
        merged.update(part)
    return merged


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Order portal API",
            "version": "1.0.0",
            "description": (
                "Read-only access to a customer's sales orders in Dynamics 365 F&O, with the same access rules as "
                "the web portal. Every answer says how fresh it is (`as_of`, `stale`). When F&O is unavailable "
                "and a recent copy exists, the copy is returned with `stale: true` instead of an error. Watch an "
                "order (`POST /api/v1/orders/{company}/{number}/watch`) to be told when its dates move, it ships, "
                "is invoiced or changes status: by e-mail, and by webhooks (`/api/v1/webhooks`), which push each "
                "change as signed JSON (see the README)."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": _merged(orders_part.PATHS, webhooks_part.PATHS, watching_part.PATHS),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token from the portal's API tokens page."}},
            "schemas": _merged(orders_part.SCHEMAS, webhooks_part.SCHEMAS, watching_part.SCHEMAS),
        },
    }


def openapi(request: HttpRequest) -> HttpResponse:
    return HttpResponse(json.dumps(openapi_document(), indent=1), content_type="application/json")
