"""Problem details (RFC 9457): every error of the API, as `application/problem+json` with a stable `code`."""

from __future__ import annotations

import json
import math
from typing import Any

from django.http import HttpRequest, HttpResponse

from orders.exceptions import OrdersUnavailable

PROBLEM = "application/problem+json"

_TITLES = {
    "invalid_parameters": "Invalid parameters",
    "unauthorized": "Authentication required",
    "not_found": "Not found",
    "server_error": "Server error",
    "method_not_allowed": "Method not allowed",
    "rate_limited": "Too many requests",
    "limit_reached": "Limit reached",
    "dns_timeout": "Host name lookup timed out",  # webhooks: DNS did not answer in time
    "upstream_throttled": "Order system busy",
    "upstream_unavailable": "Order system unavailable",
    "upstream_auth": "Order system refused the portal's credentials",
    "upstream_bad_answer": "Order system sent an unreadable answer",
    "upstream_timeout": "Order system timed out",
}


def problem(request: HttpRequest, status: int, code: str, detail: str, *,
            retry_after: float | None = None, headers: dict[str, str] | None = None) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"/api/v1/problems#{code}",
        "code": code,
        "title": _TITLES[code],
        "status": status,
        "detail": detail,
        "reference": getattr(request, "reference", ""),
    }
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM)
    if retry_after is not None:
        seconds = str(max(1, math.ceil(retry_after)))
        response["Retry-After"] = seconds
        body["retry_after"] = int(seconds)
        response.content = json.dumps(body).encode()
    for name, value in (headers or {}).items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


def unavailable_problem(request: HttpRequest, exc: OrdersUnavailable) -> HttpResponse:
    code = {
        "throttled": "upstream_throttled",
        "timeout": "upstream_timeout",
        "auth": "upstream_auth",
        "bad_answer": "upstream_bad_answer",
    }.get(exc.kind, "upstream_unavailable")
    detail = {
        "upstream_throttled": "The order system asked us to slow down. Try again after Retry-After seconds.",
        "upstream_timeout": "The order system did not answer in time. Try again shortly.",
        "upstream_auth": "The portal could not sign in to the order system. Support has been told.",
        "upstream_bad_answer": "The order system sent an answer the portal could not read.",
        "upstream_unavailable": "The order system cannot be reached right now. Try again shortly.",
    }[code]
    return problem(request, exc.status_code, code, detail, retry_after=exc.retry_after)
