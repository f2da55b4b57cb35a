"""Access tokens for F&O: the TokenProvider seam and its MSAL client-credentials implementation.

MSAL's constructor calls the network (instance and tenant discovery), so the application is
built lazily, once per process, on the first token request, and never at import time.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from .errors import AuthenticationFailed, TransportFailed

logger = logging.getLogger(__name__)

_call_timeout: contextvars.ContextVar[float] = contextvars.ContextVar("_call_timeout", default=10.0)


class TokenProvider(Protocol):
    status: TokenStatus

    def token(self, *, timeout: float) -> str: ...

    def invalidate(self, token: str) -> None: ...


@dataclass(frozen=True)
class Certificate:
    private_key_pem: str
    thumbprint: str


@dataclass
class TokenStatus:
    """What the staff health page shows about tokens. Never the token itself."""

    acquired: int = 0
    last_refresh_at: float | None = None
    expires_at: float | None = None
    last_error: str = ""
    last_error_at: float | None = None


class _MsalHttpClient:
    """The requests-like object MSAL calls, over httpx, bounded by the caller's remaining time."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        kwargs["timeout"] = _call_timeout.get()
        return self._client.post(url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        kwargs["timeout"] = _call_timeout.get()
        return self._client.get(url, **kwargs)

    def close(self) -> None:
        self._client.close()


class MsalTokenProvider:
    def __init__(
        self,
        *,
        client_id: str,
        authority: str,
        scope: str,
        client_secret: str | None = None,
        certificate: Certificate | None = None,
        http_client: httpx.Client | None = None,
        instance_discovery: bool = True,
        app_factory: Callable[..., Any] | None = None,
    ) -> None:
        self._credential: str | dict[str, str]
        if client_secret:
            self._credential = client_secret
        elif certificate is not None:
            self._credential = {"private_key": certificate.private_key_pem, "thumbprint": certificate.thumbprint}
        else:
            raise ValueError("MsalTokenProvider needs a client secret or a certificate")
        self._client_id = client_id
        self._authority = authority
        self._scope = scope
        self._http = _MsalHttpClient(http_client or httpx.Client(timeout=10.0, verify=True))
        self._instance_discovery = instance_discovery
        self._app_factory = app_factory
        self._app: Any = None
        self._lock = threading.Lock()
        self.status = TokenStatus()
        self.on_refresh: Callable[[], None] | None = None

    def _application(self) -> Any:
        with self._lock:
            if self._app is None:
                factory = self._app_factory
                if factory is None:
                    import msal

                    factory = msal.ConfidentialClientApplication
                self._app = factory(
                    self._client_id,
                    client_credential=self._credential,
                    authority=self._authority,
                    http_client=self._http,
                    instance_discovery=self._instance_discovery,
                )
            return self._app

    def token(self, *, timeout: float) -> str:
        reset = _call_timeout.set(max(0.05, timeout))
        try:
            result = self._application().acquire_token_for_client(scopes=[self._scope])
        except httpx.TimeoutException as exc:
            self._record_error("timeout talking to the identity provider")
            raise TransportFailed("timeout talking to the identity provider", timed_out=True) from exc
        except Exception as exc:
            # MSAL raises, instead of returning its error dict, for transport errors, for 5xx from the
            # token endpoint (MsalServiceError) and for failed discovery (ValueError).
            if not isinstance(exc, httpx.HTTPError | ValueError) and "msal" not in type(exc).__module__:
                raise
            self._record_error(f"identity provider unreachable: {type(exc).__name__}")
            raise AuthenticationFailed(
                f"identity provider unreachable: {type(exc).__name__}", code="token_endpoint_unavailable"
            ) from exc
        finally:
            _call_timeout.reset(reset)
        if "access_token" not in result:
            code = str(result.get("error") or "unknown_error")
            # error_description can echo request details but never the secret; keep its first line.
            description = str(result.get("error_description") or "").splitlines()[0:1]
            message = f"token request refused: {code}" + (f" ({description[0][:200]})" if description else "")
            self._record_error(message)
            raise AuthenticationFailed(message, code=code)
        if result.get("token_source") != "cache":
            if self.on_refresh is not None:
                self.on_refresh()
            self.status.acquired += 1
            self.status.last_refresh_at = time.time()
            self.status.expires_at = time.time() + float(result.get("expires_in") or 0)
            logger.info("odata.token.acquired", extra={"expires_in": result.get("expires_in")})
        return str(result["access_token"])

    def invalidate(self, token: str) -> None:
        """Drop a token F&O refused, so the next token() asks the identity provider again."""
        app = self._app
        if app is None:
            return
        cache = app.token_cache
        for item in list(cache.search(cache.CredentialType.ACCESS_TOKEN, target=[self._scope])):
            if item.get("secret") == token:
                cache.remove_at(item)

    def _record_error(self, message: str) -> None:
        self.status.last_error = message
        self.status.last_error_at = time.time()
        logger.warning("odata.token.failed", extra={"error": message})


class StaticTokenProvider:
    """No identity provider: sends no token (local simulator), or a fixed one (tests)."""

    def __init__(self, token: str = "") -> None:
        self._token = token
        self.status = TokenStatus()

    def token(self, *, timeout: float) -> str:
        return self._token

    def invalidate(self, token: str) -> None:
        return None
