"""The identity provider seam: MSAL's ConfidentialClientApplication runs the authorization-code flow with PKCE
(`initiate_auth_code_flow`, `acquire_token_by_auth_code_flow`: state, nonce and the code verifier), and this module
adds what MSAL leaves to the application since 1.38, which decodes the ID token without validating it: signature
against the provider's published keys, issuer, audience and lifetime.

Knows no Django (entra.provider builds it from settings). MSAL's constructor calls the network (the authority's
OpenID configuration), so the application is built lazily, once per process, and a failed build is retried by the
next sign-in. Every call goes through one httpx client with a timeout, whose TLS trusts the system store or the
bundle it is given.
"""

from __future__ import annotations

import hmac
import ssl
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import msal
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS
from msal.exceptions import MsalError

from .errors import FlowRejected, IdentityProviderUnavailable, TokenRejected

# The answer comes back as a query string (response_mode=query), not form_post: the session cookie is SameSite=Lax, so
# a cross-site POST from the identity provider would arrive without the session that holds the flow. The code in that
# query is PKCE-bound, needs the client secret, is spent at once, and is kept out of the logs and the lock-out records.
warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended", category=UserWarning,
                        module="msal.oauth2cli.oauth2")

# MSAL adds openid and profile itself; offline_access (a refresh token the portal has no use for) is excluded below.
SCOPES = ["email"]
CLOCK_SKEW_SECONDS = 120
METADATA_SECONDS = 24 * 3600
# A token signed with a key id the cached key set lacks refetches the set, at most this often (key rollover).
KEYS_REFETCH_SECONDS = 300


@dataclass(frozen=True)
class EntraConfig:
    client_id: str
    authority: str
    # A client secret, or MSAL's certificate dict {"private_key": PEM, "thumbprint": hex}. Never in a repr or a log.
    client_credential: str | dict[str, str] = field(repr=False)
    timeout: float = 10.0
    ca_bundle: str = ""


@dataclass(frozen=True)
class Identity:
    """Who Microsoft says signed in. Only (tenant_id, object_id) identifies; username is for people to read."""

    tenant_id: str
    object_id: str
    username: str = ""

    @property
    def label(self) -> str:
        return f"entra:{self.tenant_id}/{self.object_id}"


def is_microsoft_host(authority: str) -> bool:
    """A host MSAL knows as an Entra authority; any other is used as a generic OpenID Connect authority."""
    host = (urlsplit(authority).hostname or "").lower()
    return host in WELL_KNOWN_AUTHORITY_HOSTS or host.endswith(".ciamlogin.com")


def discovery_url(authority: str) -> str:
    """Where MSAL reads the authority's OpenID configuration: <authority>/v2.0/... for Entra, <authority>/... else."""
    authority = authority.rstrip("/")
    if not is_microsoft_host(authority):
        return f"{authority}/.well-known/openid-configuration"
    parts = urlsplit(authority)
    path = parts.path.rstrip("/")
    host = parts.hostname or ""
    if not path and host.endswith(".ciamlogin.com"):
        path = "/" + host.split(".", 1)[0] + ".onmicrosoft.com"  # as MSAL does for a path-less External ID authority
    return f"{parts.scheme}://{parts.netloc}{path}/v2.0/.well-known/openid-configuration"


def tls_context(ca_bundle: str = "") -> ssl.SSLContext:
    """Certificates verified against the system trust store (OpenSSL honours SSL_CERT_FILE), or only the bundle."""
    return ssl.create_default_context(cafile=ca_bundle or None)


class _ForgetfulTokenCache(msal.TokenCache):  # type: ignore[misc]  # msal ships no type information
    """MSAL would keep every signed-in user's tokens in the process for ever; the portal needs none after sign-in."""

    def add(self, event: Any, now: Any = None) -> None:
        return None


class _MsalHttp:
    """The requests-like object MSAL calls, over httpx; every call carries the timeout."""

    def __init__(self, client: httpx.Client, timeout: httpx.Timeout) -> None:
        self._client = client
        self._timeout = timeout

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        kwargs["timeout"] = self._timeout
        return self._client.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        kwargs["timeout"] = self._timeout
        return self._client.post(url, **kwargs)

    def close(self) -> None:
        self._client.close()


class EntraClient:
    def __init__(
        self,
        config: EntraConfig,
        *,
        http_client: httpx.Client | None = None,
        app_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.config = config
        self._timeout = httpx.Timeout(config.timeout, connect=min(config.timeout, 5.0))
        self._client = http_client or httpx.Client(verify=tls_context(config.ca_bundle), timeout=self._timeout)
        self._http = _MsalHttp(self._client, self._timeout)
        self._app_factory = app_factory or msal.ConfidentialClientApplication
        self._app: Any = None
        self._app_lock = threading.Lock()
        self._keys_lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_at = 0.0

    def _application(self) -> Any:
        with self._app_lock:
            if self._app is None:
                authority = self.config.authority
                where = {"authority": authority} if is_microsoft_host(authority) else {"oidc_authority": authority}
                try:
                    self._app = self._app_factory(
                        self.config.client_id,
                        client_credential=self.config.client_credential,
                        http_client=self._http,
                        instance_discovery=False,
                        exclude_scopes=["offline_access"],
                        token_cache=_ForgetfulTokenCache(),
                        **where,
                    )
                except (httpx.HTTPError, ValueError, MsalError) as exc:
                    raise IdentityProviderUnavailable(f"authority unusable: {type(exc).__name__}") from exc
            return self._app

    def flow_start(self, *, redirect_uri: str) -> dict[str, Any]:
        """A new flow (state, nonce, PKCE verifier, the authorize URL) for the caller to keep until the callback."""
        flow = self._application().initiate_auth_code_flow(
            SCOPES, redirect_uri=redirect_uri, prompt="select_account"
        )
        return dict(flow)

    def flow_finish(self, *, flow: Mapping[str, Any] | None, auth_response: Mapping[str, str]) -> Identity:
        """Redeem the code of the provider's answer for tokens and return the identity its ID token proves."""
        state = flow.get("state") if flow else None
        if not flow or not isinstance(state, str) or not state:
            raise FlowRejected("no sign-in in progress")
        if not hmac.compare_digest(state.encode(), str(auth_response.get("state", "")).encode()):
            raise FlowRejected("state mismatch")
        app = self._application()
        try:
            result = app.acquire_token_by_auth_code_flow(dict(flow), dict(auth_response))
        except httpx.TimeoutException as exc:
            raise IdentityProviderUnavailable("token endpoint: timeout") from exc
        except httpx.HTTPError as exc:
            raise IdentityProviderUnavailable(f"token endpoint: {type(exc).__name__}") from exc
        except RuntimeError as exc:  # MSAL's nonce check (IdTokenError is a RuntimeError)
            raise TokenRejected("nonce mismatch") from exc
        except (ValueError, MsalError) as exc:  # a 5xx, or an answer that is not JSON
            raise IdentityProviderUnavailable(f"token endpoint: {type(exc).__name__}") from exc
        if "error" in result:
            code = str(result.get("error"))
            description = str(result.get("error_description") or "").splitlines()[:1]
            raise FlowRejected(f"identity provider refused: {code} {description[0][:200] if description else ''}",
                               code=code)
        token = result.get("id_token")
        if not isinstance(token, str) or not token:
            raise TokenRejected("no ID token")
        claims = self._claims(token)
        username = claims.get("preferred_username") or claims.get("email") or ""
        return Identity(
            tenant_id=str(claims["tid"]).lower(), object_id=str(claims["oid"]).lower(), username=str(username)[:254]
        )

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRejected("ID token unreadable") from exc
        key = self._signing_key(str(header.get("kid") or ""))
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key=key.key, algorithms=["RS256"], audience=self.config.client_id,
                leeway=CLOCK_SKEW_SECONDS, options={"require": ["iss", "aud", "exp", "iat", "tid", "oid"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"ID token invalid: {type(exc).__name__}") from exc
        # An Entra multi-tenant configuration names its issuer with a {tenantid} placeholder.
        issuer = str(self._metadata_get().get("issuer") or "").replace("{tenantid}", str(claims["tid"]))
        if not issuer or not hmac.compare_digest(str(claims["iss"]).encode(), issuer.encode()):
            raise TokenRejected("ID token issuer mismatch")
        return claims

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        with self._keys_lock:
            now = time.monotonic()
            expired = now - self._keys_at > METADATA_SECONDS
            unknown = kid not in self._keys and now - self._keys_at > KEYS_REFETCH_SECONDS
            if not self._keys_at or expired or unknown:
                self._keys = self._keys_fetch()
                self._keys_at = now
            key = self._keys.get(kid)
        if key is None:
            raise TokenRejected("ID token signed with an unknown key")
        return key

    def _keys_fetch(self) -> dict[str, jwt.PyJWK]:
        jwks_uri = self._metadata_get().get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise IdentityProviderUnavailable("OpenID configuration names no jwks_uri")
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in self._get_json(jwks_uri, "signing keys").get("keys") or []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[str(jwk["kid"])] = jwt.PyJWK(jwk, algorithm="RS256")
            except (KeyError, jwt.PyJWTError):
                continue
        return keys

    def _metadata_get(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._metadata is None or now - self._metadata_at > METADATA_SECONDS:
            self._metadata = self._get_json(discovery_url(self.config.authority), "OpenID configuration")
            self._metadata_at = now
        return self._metadata

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self._client.get(url, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise IdentityProviderUnavailable(f"{what}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise IdentityProviderUnavailable(f"{what}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise IdentityProviderUnavailable(f"{what}: not JSON") from exc
        if not isinstance(data, dict):
            raise IdentityProviderUnavailable(f"{what}: not a JSON object")
        return data

    def close(self) -> None:
        self._client.close()
