"""A bounded, read-only client for F&O's OData service.

One `httpx.Client` per process (pooled keep-alive connections) is injected, so tests can pass
an `httpx.MockTransport`. Every call runs against a `Deadline` (see `calls`), and each HTTP
exchange is one `Exchanger.get` (see `exchange`); this module decides what is sent and what is
retried. No URL longer than `max_url_length` (path and query) is sent: IIS refuses long query
strings, and a refused read is our bug, not an outage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from .auth import TokenProvider
from .calls import CallGuard, CallRecord, Deadline
from .errors import AuthenticationFailed, MalformedResponse, ODataError, ServerError, TransportFailed, UrlTooLong
from .exchange import (
    ACTIVITY_ID_HEADER,
    REQUEST_ID_HEADER,
    Exchanger,
    HttpPool,
    build_http_client,
    json_body,
    raw_body,
    request_target_length,
)
from .query import Query

__all__ = [
    "ACTIVITY_ID_HEADER",
    "DEFAULT_MAX_URL_LENGTH",
    "REQUEST_ID_HEADER",
    "CallGuard",
    "CallRecord",
    "Deadline",
    "HttpPool",
    "ODataClient",
    "Page",
    "build_http_client",
    "request_target_length",
]

DEFAULT_MAX_URL_LENGTH = 2048
_RETRYABLE_STATUS = frozenset({502, 503, 504})

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    count: int | None
    next_link: str | None


class ODataClient:
    def __init__(
        self,
        *,
        service_root: str,
        http: HttpPool,
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
        self._origin = f"{root.scheme}://{root.netloc}"
        self.tokens = tokens
        self._exchanger = Exchanger(http=http, tokens=tokens, max_response_bytes=max_response_bytes, on_call=on_call)
        self._max_pages = max_pages
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
        body = self._get(self.service_root + query.relative_url(), query.entity_set, deadline, request_id, True,
                         json_body)
        if not isinstance(body, dict) or ("value" in body and isinstance(body["value"], list)):
            raise MalformedResponse("expected one entity")
        return body

    def get_metadata(self, *, deadline: Deadline, request_id: str) -> bytes:
        """The service's `$metadata` document (EDMX, XML) as sent, within the response size cap."""
        return self._get(self.service_root + "$metadata", "$metadata", deadline, request_id, False, raw_body)

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
        body = self._get(url, entity_set, deadline, request_id, False, json_body)
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
        self, url: str, entity_set: str, deadline: Deadline, request_id: str, key_read: bool,
        parse: Callable[[bytes], T],
    ) -> T:
        # Our own URLs start with the service root, and then their length needs no parsing (a nextLink's may).
        own = url.startswith(self._origin + "/") and "#" not in url
        length = len(url) - len(self._origin) if own else request_target_length(url)
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
                return self._attempt(url, entity_set, deadline, request_id, key_read, attempt, parse)
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
        parse: Callable[[bytes], T],
    ) -> T:
        if deadline.expired:
            raise TransportFailed("deadline spent before calling F&O", timed_out=True)
        if self._guard is not None:
            self._guard.before_call(entity_set)
        try:
            result = self._exchanger.get(
                url, entity_set=entity_set, deadline=deadline, request_id=request_id, key_read=key_read,
                attempt=attempt, parse=parse,
            )
        except ODataError as exc:
            if self._guard is not None:
                self._guard.after_call(entity_set, exc)
            raise
        if self._guard is not None:
            self._guard.after_call(entity_set, None)
        return result
