"""A small OpenID Connect provider for MSAL to talk to through httpx.MockTransport: the discovery document, the
authorize endpoint (driven by the test, as a browser would be), the token endpoint (which checks the code, the
redirect URI, the client secret and the PKCE verifier) and the signing keys, with RS256-signed ID tokens.

Written from the OpenID Connect and PKCE specifications, not from entra/: it stands in for Microsoft."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "fake-idp-client-secret-do-not-log"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "0b5fd3a2-0000-4c6e-9c1a-0123456789ab"
MICROSOFT = "https://login.microsoftonline.com/organizations"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Account:
    tid: str = TENANT
    oid: str = "00000000-0000-0000-0000-00000000a11c"
    username: str = "alice@contoso.com"


@dataclass
class FakeIdP:
    authority: str = MICROSOFT
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    account: Account = field(default_factory=Account)
    # Claims to change in the next ID tokens (e.g. {"aud": "someone-else"}), and a key to sign them with instead.
    tamper: dict[str, Any] = field(default_factory=dict)
    rogue_key: Any = None
    fail_with: Exception | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "fake-key-1"
        self._codes: dict[str, dict[str, Any]] = {}
        parts = urlsplit(self.authority)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.microsoft = parts.netloc == "login.microsoftonline.com"
        # Entra serves its OpenID configuration under /v2.0 and names a multi-tenant issuer with a placeholder.
        self.config_base = f"{self.authority}/v2.0" if self.microsoft else self.authority
        self.issuer_template = (
            f"{self.origin}/{{tenantid}}/v2.0" if self.microsoft else self.authority
        )
        self.endpoints = {
            "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.authority}/oauth2/v2.0/token",
            "jwks_uri": f"{self.authority}/discovery/v2.0/keys",
        }

    # --- what MSAL reaches over "HTTP" -------------------------------------------------------------------------
    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        url = str(request.url).split("?")[0]
        if url == f"{self.config_base}/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": self.issuer_template, **self.endpoints,
                "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"], "scopes_supported": ["openid", "profile", "email"],
            })
        if url == self.endpoints["jwks_uri"]:
            public = self.key.public_key().public_numbers()
            jwk = {"kty": "RSA", "use": "sig", "kid": self.kid, "alg": "RS256",
                   "n": _b64url(public.n.to_bytes((public.n.bit_length() + 7) // 8, "big")),
                   "e": _b64url(public.e.to_bytes((public.e.bit_length() + 7) // 8, "big"))}
            return httpx.Response(200, json={"keys": [jwk]})
        if url == self.endpoints["token_endpoint"] and request.method == "POST":
            return self._token(request)
        return httpx.Response(404, json={"error": "not_found"})

    # --- what the browser does at the authorize endpoint -------------------------------------------------------
    def authorize(self, auth_uri: str, *, account: Account | None = None) -> str:
        """The user signs in as `account`; returns the redirect back to the portal (path and query)."""
        query = self._authorize_query(auth_uri)
        code = secrets.token_urlsafe(24)
        self._codes[code] = {"query": query, "account": account or self.account}
        return self._back(query, {"code": code, "state": query["state"], "session_state": "fake-session"})

    def deny(self, auth_uri: str) -> str:
        query = self._authorize_query(auth_uri)
        return self._back(query, {"error": "access_denied", "error_description": "AADSTS65004: User declined.",
                                  "state": query["state"]})

    def _authorize_query(self, auth_uri: str) -> dict[str, str]:
        assert auth_uri.startswith(self.endpoints["authorization_endpoint"] + "?"), auth_uri
        query = {k: v[0] for k, v in parse_qs(urlsplit(auth_uri).query).items()}
        assert query["client_id"] == self.client_id
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        assert query["code_challenge"]
        assert "openid" in query["scope"].split()
        assert query["nonce"]
        assert query["state"]
        self.authorize_requests.append(query)
        return query

    @staticmethod
    def _back(query: dict[str, str], params: dict[str, str]) -> str:
        redirect = urlsplit(query["redirect_uri"])
        return f"{redirect.path}?{urlencode(params)}"

    # --- the token endpoint ------------------------------------------------------------------------------------
    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.token_requests.append(form)
        secret = form.get("client_secret", "")
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            secret = base64.b64decode(basic[6:]).decode().partition(":")[2] or secret
        if form.get("client_id") != self.client_id or secret != self.client_secret:
            return httpx.Response(401, json={"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return httpx.Response(400, json={"error": "unsupported_grant_type"})
        issued = self._codes.pop(form.get("code", ""), None)  # a code is spent by its first redemption
        if issued is None:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "code unknown or used"})
        query = issued["query"]
        if form.get("redirect_uri") != query["redirect_uri"]:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "redirect_uri"})
        verifier = form.get("code_verifier", "")
        if _b64url(hashlib.sha256(verifier.encode()).digest()) != query["code_challenge"]:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "PKCE verifier"})
        return httpx.Response(200, json={
            "token_type": "Bearer", "scope": "openid profile email", "expires_in": 3600,
            "access_token": "fake-access-token-" + secrets.token_urlsafe(8),
            "id_token": self.id_token(issued["account"], nonce=query["nonce"]),
        })

    def id_token(self, account: Account, *, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer_template.replace("{tenantid}", account.tid), "aud": self.client_id,
            "iat": now, "nbf": now, "exp": now + 3600, "nonce": nonce, "tid": account.tid, "oid": account.oid,
            "sub": hashlib.sha256(account.oid.encode()).hexdigest()[:43], "ver": "2.0",
            "preferred_username": account.username, "email": account.username, "name": "Alice Example",
        }
        claims.update(self.tamper)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.rogue_key or self.key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})

    def seen(self, host_path: str) -> int:
        return sum(1 for r in self.requests if host_path in str(r.url))

    def log_text(self) -> str:
        return json.dumps([str(r.url) for r in self.requests])
