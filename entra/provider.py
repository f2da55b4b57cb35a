"""The one seam: the process-wide EntraClient, built lazily from settings. Tests swap it with set_entra_client()."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .errors import EntraNotConfigured
from .oidc import EntraClient, EntraConfig

_client: EntraClient | None = None
_lock = threading.Lock()


def entra_configured() -> bool:
    """Sign in with Microsoft is offered only when the app registration is configured."""
    return bool(settings.ENTRA_CLIENT_ID and (
        settings.ENTRA_CLIENT_SECRET
        or (settings.ENTRA_CLIENT_CERTIFICATE_PATH and settings.ENTRA_CLIENT_CERTIFICATE_THUMBPRINT)
    ))


def entra_config() -> EntraConfig:
    if not entra_configured():
        raise EntraNotConfigured(
            "ENTRA_CLIENT_ID with ENTRA_CLIENT_SECRET, or with ENTRA_CLIENT_CERTIFICATE_PATH and "
            "ENTRA_CLIENT_CERTIFICATE_THUMBPRINT, are needed for sign-in with Microsoft"
        )
    credential: str | dict[str, str] = settings.ENTRA_CLIENT_SECRET
    if not credential:
        try:
            pem = Path(settings.ENTRA_CLIENT_CERTIFICATE_PATH).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(f"ENTRA_CLIENT_CERTIFICATE_PATH cannot be read: {exc.strerror}") from exc
        credential = {"private_key": pem, "thumbprint": settings.ENTRA_CLIENT_CERTIFICATE_THUMBPRINT}
    return EntraConfig(
        client_id=settings.ENTRA_CLIENT_ID,
        authority=settings.ENTRA_AUTHORITY,
        client_credential=credential,
        timeout=settings.ENTRA_TIMEOUT_SECONDS,
        ca_bundle=settings.ENTRA_CA_BUNDLE,
    )


def build_entra_client(*, transport: httpx.BaseTransport | None = None) -> EntraClient:
    config = entra_config()
    http_client = None
    if transport is not None:
        http_client = httpx.Client(transport=transport, timeout=config.timeout)
    return EntraClient(config, http_client=http_client)


def entra_client() -> EntraClient:
    global _client
    with _lock:
        if _client is None:
            _client = build_entra_client()
        return _client


def set_entra_client(client: EntraClient | None) -> None:
    global _client
    with _lock:
        old, _client = _client, client
    if old is not None and old is not client:
        old.close()
