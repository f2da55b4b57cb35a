"""One HTTP exchange with F&O: the token, timeouts capped by the deadline, a bounded body, httpx's failures
mapped onto the error tree, and one `CallRecord` for every exchange, answered or not.

Tracing (Microsoft's "service request tracing"): every HTTP exchange carries a fresh GUID in
`x-ms-client-request-id`, and F&O's own activity id comes back in `ms-dyn-aid`. Both land in the
`CallRecord`, because Microsoft support asks for them. The portal's reference code of the lookup
travels beside them in the record, never as F&O's request id.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from .auth import TokenProvider
from .calls import CallRecord, Deadline
from .errors import AuthenticationFailed, MalformedResponse, ODataError, TransportFailed, error_from_response

REQUEST_ID_HEADER = "x-ms-client-request-id"
ACTIVITY_ID_HEADER = "ms-dyn-aid"

T = TypeVar("T")


@dataclass(frozen=True)
class HttpPool:
    """The pooled keep-alive connections to F&O and what every exchange sends with them.

    httpx's transport, used directly: httpx.Client's per-request layer (header and cookie merging, redirects, auth
    flows, hooks) does nothing this read-only client needs, and cost a third of each exchange's CPU.
    """

    transport: httpx.BaseTransport
    timeout: httpx.Timeout
    headers: tuple[tuple[str, str], ...]

    def close(self) -> None:
        self.transport.close()


def build_http_client(
    *,
    connect_timeout: float = 3.0,
    read_timeout: float = 10.0,
    pool_timeout: float = 2.0,
    max_connections: int = 50,
    user_agent: str = "fno-order-portal",
    transport: httpx.BaseTransport | None = None,
    url: str = "",
) -> HttpPool:
    """The pool for F&O at `url`, through the proxy the environment names for it (HTTPS_PROXY, HTTP_PROXY,
    ALL_PROXY, NO_PROXY), as httpx.Client would; `transport` replaces the network (tests)."""
    if transport is None:
        tls = ssl.create_default_context()
        # F&O refuses TLS below 1.2.
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        transport = httpx.HTTPTransport(
            verify=tls,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            proxy=environment_proxy(url),
        )
    return HttpPool(
        transport=transport,
        timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=pool_timeout),
        headers=(("User-Agent", user_agent), ("Accept", "application/json"), ("Accept-Encoding", "gzip, deflate"),
                 ("OData-MaxVersion", "4.0")),
    )


def environment_proxy(url: str) -> str | None:
    """The proxy the environment sets for `url`: its scheme's (HTTPS_PROXY, HTTP_PROXY) or ALL_PROXY, unless
    NO_PROXY exempts its host."""
    parts = urlsplit(url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    # "proxy.corp:3128" means http://proxy.corp:3128, as httpx.Client and curl read it.
    return proxy if not proxy or "://" in proxy else f"http://{proxy}"


def request_target_length(url: str) -> int:
    """Path plus `?query`: what IIS's maxUrl/maxQueryString and the simulator's limit measure."""
    parts = urlsplit(url)
    return len(parts.path) + (len(parts.query) + 1 if parts.query else 0)


def json_body(body: bytes) -> object:
    try:
        parsed: object = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise MalformedResponse("F&O answered with a body that is not JSON") from exc
    return parsed


def raw_body(body: bytes) -> bytes:
    return body


class Exchanger:
    """Sends one GET over the injected, pooled `httpx.Client`; the client above it decides on retries."""

    def __init__(
        self,
        *,
        http: HttpPool,
        tokens: TokenProvider,
        max_response_bytes: int,
        on_call: Callable[[CallRecord], None] | None,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._max_bytes = max_response_bytes
        self._on_call = on_call

    def get(
        self,
        url: str,
        *,
        entity_set: str,
        deadline: Deadline,
        request_id: str,
        key_read: bool,
        attempt: int,
        parse: Callable[[bytes], T],
    ) -> T:
        # One GUID per HTTP exchange, retries included: F&O's telemetry and Microsoft support key on it.
        client_request_id = str(uuid.uuid4())
        activity_id = ""
        headers = [*self._http.headers, (REQUEST_ID_HEADER, client_request_id)]
        token = self._tokens.token(timeout=deadline.remaining())
        if token:
            headers.append(("Authorization", f"Bearer {token}"))
        started = time.monotonic()
        status: int | None = None
        outcome = "ok"
        try:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise TransportFailed("deadline spent while getting a token", timed_out=True)
            base = self._http.timeout
            timeout = {
                "connect": _cap(base.connect, remaining),
                "read": _cap(base.read, remaining),
                "write": _cap(base.write, remaining),
                "pool": _cap(base.pool, remaining),
            }
            request = httpx.Request("GET", url, headers=headers, extensions={"timeout": timeout})
            response = self._http.transport.handle_request(request)
            try:
                status = response.status_code
                activity_id = _activity_id(response)
                body = self._read_body(response, deadline)
            finally:
                response.close()
            if status >= 400:
                error = error_from_response(response, body=body, key_read=key_read)
                if isinstance(error, AuthenticationFailed) and token:
                    self._tokens.invalidate(token)
                raise error
            if not 200 <= status < 300:
                raise MalformedResponse(f"unexpected status {status}")
            return parse(body)
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


def _activity_id(response: httpx.Response) -> str:
    value = response.headers.get(ACTIVITY_ID_HEADER, "")
    # It ends up in logs and pages: keep it to what an activity id looks like.
    return value if len(value) <= 64 and all(c.isalnum() or c in "-{}" for c in value) else ""


def _cap(value: float | None, remaining: float) -> float:
    return max(0.001, min(value if value is not None else remaining, remaining))


def _outcome(exc: ODataError) -> str:
    name = type(exc).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
