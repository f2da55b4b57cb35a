"""A bounded, read-only client for F&O's OData service.

One `httpx.Client` per process (pooled keep-alive connections) is injected, so tests can pass
an `httpx.MockTransport`. Every call runs against a `Deadline`: the token, each attempt and
each body chunk spend the same budget. No URL longer than `max_url_length` (path and query) is
sent: IIS refuses long query strings, and a refused read is our bug, not an outage.

Tracing (Microsoft's "service request tracing"): every HTTP exchange carries a fresh GUID in
`x-ms-client-request-id`, and F&O's own activity id comes back in `ms-dyn-aid`. Both land in the
`CallRecord`, because Microsoft support asks for them. The portal's reference code of the lookup
travels beside them in the record, never as F&O's request id.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from .auth import TokenProvider
from .errors import (
    AuthenticationFailed,
    MalformedResponse,
    ODataError,
    ServerError,
    TransportFailed,
    UrlTooLong,
    error_from_response,
)
from .query import Query

REQUEST_ID_HEADER = "x-ms-client-request-id"
ACTIVITY_ID_HEADER = "ms-dyn-aid"
DEFAULT_MAX_URL_LENGTH = 2048
_RETRYABLE_STATUS = frozenset({502, 503, 504})


class CallGuard(Protocol):
    """Decides whether a call may go to F&O now (breaker, shared back-off) and learns from its outcome."""

    def before_call(self, entity_set: str) -> None: ...

    def after_call(self, entity_set: str, error: ODataError | None) -> None: ...


class Deadline:
    """The whole time budget of one lookup, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


@dataclass(frozen=True)
class CallRecord:
    """One HTTP exchange with F&O, for logs, metrics and the staff view.

    `request_id` is the portal's reference code of the lookup (many exchanges share it);
    `client_request_id` is the GUID sent to F&O for this exchange alone, and `activity_id`
    is F&O's `ms-dyn-aid` from its answer ("" when it sent none or never answered).
    """

    entity_set: str
    url: str
    status: int | None
    outcome: str
    latency_ms: float
    request_id: str
    attempt: int
    client_request_id: str = ""
    activity_id: str = ""


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    count: int | None
    next_link: str | None


def build_http_client(
    *,
    connect_timeout: float = 3.0,
    read_timeout: float = 10.0,
    pool_timeout: float = 2.0,
    max_connections: int = 50,
    user_agent: str = "fno-order-portal",
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    tls = ssl.create_default_context()
    # F&O refuses TLS below 1.2.
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    return httpx.Client(
        verify=tls,
        transport=transport,
        timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=pool_timeout),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        headers={"User-Agent": user_agent, "Accept": "application/json", "OData-MaxVersion": "4.0"},
        follow_redirects=False,
    )


class ODataClient:
    def __init__(
        self,
        *,
        service_root: str,
        http: httpx.Client,
        tokens: TokenProvider,
        max_pages: int = 10,
        max_response_bytes: int = 8 * 1024 * 1024,
        on_call: Callable[[CallRecord], None] | None = None,
        guard: CallGuard | None = None,
        max_url_length: int = DEFAULT_MAX_URL_LENGTH,
    ) -> None:
        self.service_root = service_root if service_root.endswith("/") else service_root + "/"
        root = urlsplit(self.service_root)
        if root.scheme not in ("http", "https") or not root.netloc:
            raise ValueError("the OData service root must be an absolute http(s) URL")
        self._root = root
        self._http = http
        self._tokens = tokens
        self.tokens = tokens
        self._max_pages = max_pages
        self._max_bytes = max_response_bytes
        self._on_call = on_call
        self._guard = guard
        if max_url_length < 1:
            raise ValueError("max_url_length must be positive")
        self.max_url_length = max_url_length

    def url_length(self, query: Query) -> int:
        """The length F&O's web server sees for `query`: path and query string, as sent."""
        return request_target_length(self.service_root + query.relative_url())

    def fits(self, query: Query, *, reserve: int = 0) -> bool:
        """Whether `query` (and `reserve` characters more, e.g. a nextLink's paging) stays within the URL budget."""
        return self.url_length(query) + reserve <= self.max_url_length

    def get_one(self, query: Query, *, deadline: Deadline, request_id: str) -> dict[str, Any]:
        if not query.is_key_read:
            raise ValueError("get_one() needs a key read")
        body = self._get(self.service_root + query.relative_url(), query.entity_set, deadline, request_id, True)
        if not isinstance(body, dict) or ("value" in body and isinstance(body["value"], list)):
            raise MalformedResponse("expected one entity")
        return body

    def get_metadata(self, *, deadline: Deadline, request_id: str) -> bytes:
        """The service's `$metadata` document (EDMX, XML) as sent, within the response size cap."""
        return self._get(self.service_root + "$metadata", "$metadata", deadline, request_id, False, raw=True)

    def get_page(self, query: Query, *, deadline: Deadline, request_id: str) -> Page:
        return self._page(self.service_root + query.relative_url(), query.entity_set, deadline, request_id)

    def iter_pages(self, query: Query, *, deadline: Deadline, request_id: str) -> Iterator[Page]:
        """Server-driven paging: follow @odata.nextLink, to our own host only and up to max_pages."""
        url: str | None = self.service_root + query.relative_url()
        for _ in range(self._max_pages):
            assert url is not None
            page = self._page(url, query.entity_set, deadline, request_id)
            yield page
            if not page.next_link:
                return
            url = page.next_link
        raise MalformedResponse(f"more than {self._max_pages} pages; narrow the query")

    def get_all(self, query: Query, *, deadline: Deadline, request_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for page in self.iter_pages(query, deadline=deadline, request_id=request_id):
            rows.extend(page.rows)
        return rows

    def _page(self, url: str, entity_set: str, deadline: Deadline, request_id: str) -> Page:
        body = self._get(url, entity_set, deadline, request_id, False)
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise MalformedResponse("expected a collection with a value array")
        rows = body["value"]
        if not all(isinstance(row, dict) for row in rows):
            raise MalformedResponse("collection holds a non-object")
        count = body.get("@odata.count")
        if count is not None and not isinstance(count, int | Decimal):
            raise MalformedResponse("@odata.count is not a number")
        next_link = body.get("@odata.nextLink")
        if next_link is not None:
            next_link = self.checked_next_link(url, next_link)
        return Page(rows=rows, count=int(count) if count is not None else None, next_link=next_link)

    def checked_next_link(self, request_url: str, link: object) -> str:
        """Resolve a (possibly relative) nextLink and refuse any that leaves our service root."""
        if not isinstance(link, str) or not link:
            raise MalformedResponse("@odata.nextLink is not a string")
        resolved = urljoin(request_url, link)
        parts = urlsplit(resolved)
        if (
            parts.scheme != self._root.scheme
            or parts.netloc.lower() != self._root.netloc.lower()
            or not parts.path.startswith(self._root.path)
            or parts.username
            or parts.password
        ):
            raise MalformedResponse("@odata.nextLink points outside the F&O service root")
        return resolved

    def _get(
        self, url: str, entity_set: str, deadline: Deadline, request_id: str, key_read: bool, *, raw: bool = False
    ) -> Any:
        length = request_target_length(url)
        if length > self.max_url_length:
            # Before the token, the guard or the network: sending it would only earn a 404.15 or 414.
            raise UrlTooLong(
                f"request URL of {length} characters is over the budget of {self.max_url_length}; not sent",
                length=length,
                limit=self.max_url_length,
            )
        token_refreshed = False
        retried = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(url, entity_set, deadline, request_id, key_read, attempt, raw)
            except AuthenticationFailed as exc:
                # One fresh token and one retry on 401: an expired or revoked token.
                if exc.status_code != 401 or token_refreshed or deadline.expired:
                    raise
                token_refreshed = True
            except (TransportFailed, ServerError) as exc:
                retryable = (
                    exc.connect_failed
                    if isinstance(exc, TransportFailed)
                    else exc.status_code in _RETRYABLE_STATUS
                )
                # One retry for an idempotent read, only when at least a useful slice of time remains.
                if not retryable or retried or deadline.remaining() < 0.2:
                    raise
                retried = True

    def _attempt(
        self, url: str, entity_set: str, deadline: Deadline, request_id: str, key_read: bool, attempt: int,
        raw: bool,
    ) -> Any:
        if deadline.expired:
            raise TransportFailed("deadline spent before calling F&O", timed_out=True)
        if self._guard is not None:
            self._guard.before_call(entity_set)
        try:
            result = self._exchange(url, entity_set, deadline, request_id, key_read, attempt, raw)
        except ODataError as exc:
            if self._guard is not None:
                self._guard.after_call(entity_set, exc)
            raise
        if self._guard is not None:
            self._guard.after_call(entity_set, None)
        return result

    def _exchange(
        self, url: str, entity_set: str, deadline: Deadline, request_id: str, key_read: bool, attempt: int,
        raw: bool,
    ) -> Any:
        # One GUID per HTTP exchange, retries included: F&O's telemetry and Microsoft support key on it.
        client_request_id = str(uuid.uuid4())
        activity_id = ""
        headers = {REQUEST_ID_HEADER: client_request_id}
        token = self._tokens.token(timeout=deadline.remaining())
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.monotonic()
        status: int | None = None
        outcome = "ok"
        try:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise TransportFailed("deadline spent while getting a token", timed_out=True)
            base = self._http.timeout
            timeout = httpx.Timeout(
                connect=_cap(base.connect, remaining),
                read=_cap(base.read, remaining),
                write=_cap(base.write, remaining),
                pool=_cap(base.pool, remaining),
            )
            with self._http.stream("GET", url, headers=headers, timeout=timeout) as response:
                status = response.status_code
                activity_id = _activity_id(response)
                body = self._read_body(response, deadline)
            if status >= 400:
                error = error_from_response(response, body=body, key_read=key_read)
                if isinstance(error, AuthenticationFailed) and token:
                    self._tokens.invalidate(token)
                raise error
            if not 200 <= status < 300:
                raise MalformedResponse(f"unexpected status {status}")
            if raw:
                return body
            try:
                return json.loads(body, parse_float=Decimal)
            except (ValueError, RecursionError) as exc:
                raise MalformedResponse("F&O answered with a body that is not JSON") from exc
        except httpx.ConnectTimeout as exc:
            outcome = "timeout"
            raise TransportFailed("timed out connecting to F&O", timed_out=True, connect_failed=True) from exc
        except httpx.TimeoutException as exc:
            outcome = "timeout"
            raise TransportFailed("timed out waiting for F&O", timed_out=True) from exc
        except httpx.ConnectError as exc:
            outcome = "connect_error"
            raise TransportFailed("could not connect to F&O", connect_failed=True) from exc
        except httpx.RemoteProtocolError as exc:
            outcome = "transport_error"
            # A kept-alive connection the server had already closed: nothing was received, so the read may be
            # sent again like a failed connect (it is a GET).
            raise TransportFailed(f"connection to F&O failed: {type(exc).__name__}",
                                  connect_failed=status is None) from exc
        except httpx.TransportError as exc:
            outcome = "transport_error"
            raise TransportFailed(f"connection to F&O failed: {type(exc).__name__}") from exc
        except ODataError as exc:
            outcome = _outcome(exc)
            raise
        finally:
            if self._on_call is not None:
                self._on_call(
                    CallRecord(
                        entity_set=entity_set,
                        url=url,
                        status=status,
                        outcome=outcome,
                        latency_ms=(time.monotonic() - started) * 1000,
                        request_id=request_id,
                        attempt=attempt,
                        client_request_id=client_request_id,
                        activity_id=activity_id,
                    )
                )

    def _read_body(self, response: httpx.Response, deadline: Deadline) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self._max_bytes:
            raise MalformedResponse("F&O response larger than the configured cap")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise MalformedResponse("F&O response larger than the configured cap")
            if deadline.expired:
                # A trickling body keeps each read under the read timeout; the deadline still holds.
                raise TransportFailed("deadline spent while reading F&O's answer", timed_out=True)
            chunks.append(chunk)
        return b"".join(chunks)


def request_target_length(url: str) -> int:
    """Path plus `?query`: what IIS's maxUrl/maxQueryString and the simulator's limit measure."""
    parts = urlsplit(url)
    return len(parts.path) + (len(parts.query) + 1 if parts.query else 0)


def _activity_id(response: httpx.Response) -> str:
    value = response.headers.get(ACTIVITY_ID_HEADER, "")
    # It ends up in logs and pages: keep it to what an activity id looks like.
    return value if len(value) <= 64 and all(c.isalnum() or c in "-{}" for c in value) else ""


def _cap(value: float | None, remaining: float) -> float:
    return max(0.001, min(value if value is not None else remaining, remaining))


def _outcome(exc: ODataError) -> str:
    name = type(exc).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
