from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

from orders.request_types import PortalRequest

logger = logging.getLogger("portal.request")

# Crockford's base32 without I, L, O, U: easy to read out on the phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def reference_code_new() -> str:
    bits = int.from_bytes(secrets.token_bytes(5), "big")  # 40 random bits, one read of the system's CSPRNG
    raw = "".join(_ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5))
    return f"{raw[:4]}-{raw[4:]}"


class RequestContextMiddleware:
    """Outermost: gives every request a short reference code (shown on pages and errors, kept in the logs and the
    audit beside each F&O call's own GUID), times it, counts it, and writes one JSON log line for it. What it sets
    makes the request a `PortalRequest`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: PortalRequest) -> HttpResponse:
        from orders import metrics
        from orders.audit import calls_capture_start
        from orders.client_address import client_address
        from orders.log_paths import LOG_PATH_KEY, path_for_log

        request.reference = reference_code_new()
        request.started_at = started = time.monotonic()
        calls_capture_start()
        response = self.get_response(request)
        response["X-Reference"] = request.reference
        elapsed = time.monotonic() - started
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unmatched"
        metrics.REQUESTS.labels(view=view, method=request.method, status=str(response.status_code)).inc()
        metrics.REQUEST_SECONDS.labels(view=view).observe(elapsed)
        # A token in the path: its route instead. Left in the WSGI environ for gunicorn's access log too.
        request.META[LOG_PATH_KEY] = log_path = path_for_log(request.path, match)[:200]
        logger.info(
            "request",
            extra={
                "event": "request",
                "ref": request.reference,
                "user_id": _user_id(request),
                "client": client_address(request),
                "method": request.method,
                "path": log_path,
                "view": view,
                "status": response.status_code,
                "latency_ms": round(elapsed * 1000, 1),
            },
        )
        return response


def _user_id(request: HttpRequest) -> int | None:
    principal = getattr(request, "api_principal", None)
    if principal is not None:
        principal_user_id: int = principal.user_id
        return principal_user_id
    user = getattr(request, "user", None)
    # Only read what authentication already resolved; don't load a session just to log.
    if user is not None and getattr(user, "_wrapped", empty) is not empty and user.is_authenticated:
        user_id: int = user.pk
        return user_id
    return None


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


class SessionIdleMiddleware:
    """Sessions end after DJANGO_SESSION_IDLE_SECONDS without a request. Rather than rewrite the session on every
    request (SESSION_SAVE_EVERY_REQUEST), renew it at most once every few minutes: the idle limit holds to within
    that much, and a page view costs no session write."""

    RENEW_EVERY_SECONDS = 300

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not session.is_empty():
            now = int(time.time())
            if now - session.get("_renewed", 0) > self.RENEW_EVERY_SECONDS:
                session["_renewed"] = now
        return response


class PrivatePagesMiddleware:
    """A signed-in user's pages are never kept by a browser or proxy cache: on a shared computer, the Back button
    after sign-out must not show order data. The API keeps its own `private, max-age` and ETags."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.conf import settings

        self.session_cookie = settings.SESSION_COOKIE_NAME
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            return response
        user = getattr(request, "user", None)
        signed_in = user is not None and self.session_cookie in request.COOKIES and user.is_authenticated
        # A page that just signed someone in or out also carries private data or a fresh session.
        session = getattr(request, "session", None)
        if signed_in or (session is not None and session.modified):
            response["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response
