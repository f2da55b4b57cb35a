"""Typed failures of an F&O OData read.

    ODataError
    ├── UpstreamUnavailable      try again later; views answer 503 (504 for a timeout)
    │   ├── TransportFailed      timeout, refused, reset, deadline spent (.timed_out)
    │   ├── Throttled            429; .retry_after seconds when F&O sends Retry-After (or a shared back-off)
    │   ├── ServerError          5xx
    │   └── CircuitOpen          not called: recent failures opened the circuit breaker
    ├── AuthenticationFailed     MSAL error dict, or 401/403 after one token refresh
    ├── RequestRejected          other 4xx: our bug; .code and .message from the error body
    │   ├── EntityNotFound       404 on a key read
    │   └── UrlTooLong           over the URL budget: refused before sending, or F&O's 414 (or IIS's 404.15)
    └── MalformedResponse        not JSON, wrong shape, too large, foreign nextLink
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime

import httpx


class ODataError(Exception):
    status_code: int | None = None

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructors defeat Exception's default pickling; errors travel through the shared cache.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[ODataError], args: tuple[object, ...], state: dict[str, object]) -> ODataError:
    error = Exception.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class UpstreamUnavailable(ODataError):
    retry_after: float | None = None


class TransportFailed(UpstreamUnavailable):
    def __init__(self, message: str, *, timed_out: bool = False, connect_failed: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.connect_failed = connect_failed


class Throttled(UpstreamUnavailable):
    def __init__(self, message: str, *, retry_after: float | None, status_code: int = 429) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class ServerError(UpstreamUnavailable):
    def __init__(self, message: str, *, status_code: int, retry_after: float | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class CircuitOpen(UpstreamUnavailable):
    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationFailed(ODataError):
    def __init__(self, message: str, *, code: str = "", status_code: int | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.code = code


class RequestRejected(ODataError):
    def __init__(self, summary: str, *, status_code: int, code: str = "", message: str = "") -> None:
        super().__init__(summary, status_code=status_code)
        self.code = code
        self.message = message or summary


class EntityNotFound(RequestRejected):
    pass


class UrlTooLong(RequestRejected):
    """A request URL (path and query) longer than the budget. Our bug, never an outage: the read must be split."""

    def __init__(self, summary: str, *, length: int | None, limit: int | None, status_code: int = 414) -> None:
        super().__init__(summary, status_code=status_code, code="url_too_long")
        self.length = length
        self.limit = limit


class MalformedResponse(ODataError):
    pass


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait, from either form RFC 9110 allows: delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _error_body_message(body: bytes) -> tuple[str, str]:
    """(code, message) from F&O's `{"error": {"code", "message", "innererror": {"message"}}}`."""
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return "", ""
    if not isinstance(error, dict):
        return "", ""
    code = str(error.get("code") or "")
    message = str(error.get("message") or "")
    inner = error.get("innererror")
    # F&O leaves `code` empty and puts the useful detail in innererror.message.
    if isinstance(inner, dict) and inner.get("message"):
        message = str(inner["message"])
    return code, message[:500]


def error_from_response(response: httpx.Response, *, body: bytes, key_read: bool) -> ODataError:
    status = response.status_code
    code, message = _error_body_message(body)
    summary = f"F&O answered {status}" + (f": {message}" if message else "")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429:
        return Throttled(summary, retry_after=retry_after)
    if status >= 500:
        return ServerError(summary, status_code=status, retry_after=retry_after)
    if status in (401, 403):
        return AuthenticationFailed(summary, code=code or str(status), status_code=status)
    if status == 414 or (status == 404 and b"404.15" in body[:4096]):
        # IIS answers an over-long query string with 404.15 (an HTML page), HTTP.sys and others with 414.
        return UrlTooLong(summary, length=None, limit=None, status_code=status)
    if status == 404 and key_read:
        return EntityNotFound(summary, status_code=status, code=code, message=message)
    return RequestRejected(summary, status_code=status, code=code, message=message)
