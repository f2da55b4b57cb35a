from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Crockford's base32 without I, L, O, U: easy to read out on the phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def reference_code_new() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


class ReferenceCodeMiddleware:
    """Gives every request a short reference code: shown on pages and errors, sent to F&O as the request id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from orders.audit import calls_capture_start

        request.reference = reference_code_new()  # type: ignore[attr-defined]
        request.started_at = time.monotonic()  # type: ignore[attr-defined]
        calls_capture_start()
        response = self.get_response(request)
        response["X-Reference"] = request.reference  # type: ignore[attr-defined]
        return response


def reference_context(request: HttpRequest) -> dict[str, str]:
    return {"reference": getattr(request, "reference", "")}


class PermissionsPolicyMiddleware:
    """Django has no setting for Permissions-Policy; the portal uses no browser feature, so it denies them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.conf import settings

        self.policy = settings.PERMISSIONS_POLICY
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.policy)
        return response
