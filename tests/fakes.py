"""In-process fakes at the transport: httpx.MockTransport handlers that record what they were asked."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

TENANT = "00000000-0000-0000-0000-0000000000aa"
AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"
TOKEN_ENDPOINT = f"{AUTHORITY}/oauth2/v2.0/token"


@dataclass
class FakeIdentityProvider:
    """Entra ID's discovery and token endpoints, enough for MSAL's client-credentials flow."""

    token_requests: int = 0
    fail_with: dict[str, Any] | None = None
    status_code: int = 200
    retry_after: str = ""
    issued: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url.endswith("/.well-known/openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "token_endpoint": TOKEN_ENDPOINT,
                    "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
                    "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
                },
            )
        if url.startswith(TOKEN_ENDPOINT):
            self.token_requests += 1
            if self.fail_with is not None:
                headers = {"Retry-After": self.retry_after} if self.retry_after else {}
                return httpx.Response(self.status_code, json=self.fail_with, headers=headers)
            token = f"token-{self.token_requests}"
            self.issued.append(token)
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "expires_in": 3600})
        return httpx.Response(404)

    def http_client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


@dataclass
class FakeFnO:
    """A tiny F&O: answers from seeded rows or a scripted response, and records every request."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    script: list[Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    valid_tokens: set[str] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.valid_tokens is not None:
            header = request.headers.get("Authorization", "")
            if header.removeprefix("Bearer ") not in self.valid_tokens:
                return httpx.Response(401, headers={"WWW-Authenticate": "Bearer"})
        if self.script:
            return self.script.pop(0)(request)
        entity_set = request.url.path.split("/data/", 1)[1].split("(")[0]
        return httpx.Response(200, json={"value": self.rows.get(entity_set, [])})

    def filters(self) -> list[str]:
        return [unquote(r.url.params.get("$filter", "")) for r in self.requests]

    @staticmethod
    def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Callable:
        content = json.dumps(body).encode() if body is not None else b""
        return lambda request: httpx.Response(status, content=content, headers=headers or {})


class CacheDown:
    """What django-redis answers with IGNORE_EXCEPTIONS while Redis is down."""

    def add(self, *args: object, **kwargs: object) -> None:
        return None

    def incr(self, *args: object, **kwargs: object) -> None:
        return None

    def get(self, *args: object, **kwargs: object) -> None:
        return None

    def get_many(self, *args: object, **kwargs: object) -> dict[str, object]:
        return {}

    def set(self, *args: object, **kwargs: object) -> None:
        return None

    def delete(self, *args: object, **kwargs: object) -> None:
        return None
