"""The one seam between the portal and F&O: the process-wide OData client, built lazily from settings."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orders import audit, metrics
from orders.odata.auth import Certificate, MsalTokenProvider, StaticTokenProvider, TokenProvider, TokenStatus
from orders.odata.client import CallRecord, ODataClient, build_http_client
from orders.resilience.breaker import UpstreamGuard

logger = logging.getLogger("orders.d365")

_lock = threading.Lock()
_client: ODataClient | None = None
_tokens: TokenProvider | None = None
call_listeners: list[Callable[[CallRecord], None]] = []


def _log_call(record: CallRecord) -> None:
    logger.info(
        "odata.call",
        extra={
            "event": "odata.call",
            "ref": record.request_id,
            # What Microsoft support asks for: our GUID for this exchange and F&O's activity id for it.
            "client_request_id": record.client_request_id,
            "activity_id": record.activity_id,
            "entity_set": record.entity_set,
            "status": record.status,
            "outcome": record.outcome,
            "latency_ms": round(record.latency_ms, 1),
            "attempt": record.attempt,
        },
    )
    metrics.fno_call(record.entity_set, record.outcome, record.latency_ms / 1000)
    audit.call_observed(record)
    for listener in list(call_listeners):
        listener(record)


def build_token_provider(*, http_client: httpx.Client | None = None) -> TokenProvider:
    if not settings.D365_CLIENT_ID:
        # Development against the simulator: no identity provider, no token. The deploy check says so.
        return StaticTokenProvider("")
    if not settings.D365_AUTHORITY:
        raise ImproperlyConfigured("D365_TENANT_ID (or D365_AUTHORITY) must be set when D365_CLIENT_ID is")
    if not settings.D365_SCOPE:
        raise ImproperlyConfigured("D365_URL (or D365_SCOPE) must be set")
    certificate = None
    if not settings.D365_CLIENT_SECRET:
        path = settings.D365_CLIENT_CERTIFICATE_PATH
        if not path or not settings.D365_CLIENT_CERTIFICATE_THUMBPRINT:
            raise ImproperlyConfigured(
                "D365_CLIENT_SECRET, or D365_CLIENT_CERTIFICATE_PATH with D365_CLIENT_CERTIFICATE_THUMBPRINT, "
                "must be set when D365_CLIENT_ID is"
            )
        try:
            pem = Path(path).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(f"D365_CLIENT_CERTIFICATE_PATH cannot be read: {exc.strerror}") from exc
        certificate = Certificate(private_key_pem=pem, thumbprint=settings.D365_CLIENT_CERTIFICATE_THUMBPRINT)
    provider = MsalTokenProvider(
        client_id=settings.D365_CLIENT_ID,
        authority=settings.D365_AUTHORITY,
        scope=settings.D365_SCOPE,
        client_secret=settings.D365_CLIENT_SECRET or None,
        certificate=certificate,
        http_client=http_client,
    )
    provider.on_refresh = metrics.TOKEN_REFRESHES.inc
    return provider


def build_odata_client(
    *, transport: httpx.BaseTransport | None = None, tokens: TokenProvider | None = None
) -> ODataClient:
    if not settings.D365_URL:
        raise ImproperlyConfigured("D365_URL must be set to the F&O environment URL")
    http = build_http_client(
        connect_timeout=settings.D365_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.D365_TIMEOUT_SECONDS,
        pool_timeout=min(2.0, settings.D365_TIMEOUT_SECONDS),
        max_connections=settings.D365_MAX_CONNECTIONS,
        user_agent=f"fno-order-portal/{settings.VERSION}",
        transport=transport,
        url=settings.D365_URL,
    )
    return ODataClient(
        service_root=settings.D365_URL + "/data/",
        http=http,
        tokens=tokens or build_token_provider(),
        max_pages=settings.D365_MAX_PAGES,
        max_response_bytes=settings.D365_MAX_RESPONSE_BYTES,
        max_url_length=settings.D365_MAX_URL_LENGTH,
        on_call=_log_call,
        guard=UpstreamGuard(),
    )


def get_odata_client() -> ODataClient:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = build_odata_client()
    return _client


def set_odata_client(client: ODataClient | None) -> None:
    """Swap the process-wide client (tests, or after settings change)."""
    global _client
    with _lock:
        _client = client


def token_status() -> tuple[str, TokenStatus]:
    """("none" | "msal", TokenStatus) for this process's token provider. The token itself is never exposed."""
    client = get_odata_client()
    tokens = client.tokens
    kind = "msal" if isinstance(tokens, MsalTokenProvider) else "none"
    return kind, tokens.status
