"""The token step: get one from the identity provider and show its claims, never the token."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from django.conf import settings

from orders.fno_check.report import Outcome, TokenClaims
from orders.fno_check.state import CheckRun, ms
from orders.odata.auth import TokenProvider
from orders.odata.errors import ODataError


def token_claims(token: str) -> dict[str, Any] | None:
    """The JWT's payload, decoded without verifying: only to show who the token says we are."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


def audience_normalised(value: str) -> str:
    """F&O accepts a token only for the environment URL exactly: lower case, no trailing slash (reference §8)."""
    return value.strip().rstrip("/").lower()


def token_step(run: CheckRun, tokens: TokenProvider) -> bool:
    if not settings.D365_CLIENT_ID:
        run.add("token", "token", Outcome.WARN,
                "no D365_CLIENT_ID configured: no token is sent, which only the local simulator accepts",
                setting="D365_CLIENT_ID")
        return True
    started = time.monotonic()
    try:
        token = tokens.token(timeout=run.deadline().remaining())
    except ODataError as exc:
        run.add("token", "token", Outcome.FAIL, f"no token from the identity provider: {exc}",
                setting="D365_TENANT_ID / D365_CLIENT_ID / D365_CLIENT_SECRET", latency_ms=ms(started))
        return False
    latency = ms(started)
    claims = token_claims(token)
    if claims is None:
        run.add("token", "token", Outcome.WARN, "a token was issued, but it is not a JWT: its claims cannot be "
                "shown", latency_ms=latency)
        return True
    roles = claims.get("roles") or ()
    run.claims = TokenClaims(
        audience=str(claims.get("aud", "")),
        tenant=str(claims.get("tid", "")),
        roles=tuple(str(r) for r in roles) if isinstance(roles, list) else (),
        app_id=str(claims.get("appid") or claims.get("azp") or ""),
    )
    run.add("token", "token", Outcome.OK,
            f"audience {run.claims.audience or '(none)'}, tenant {run.claims.tenant or '(none)'}, "
            f"roles {', '.join(run.claims.roles) or '(none)'}", latency_ms=latency)
    if audience_normalised(run.claims.audience) != audience_normalised(settings.D365_URL):
        run.add("token", "audience", Outcome.FAIL,
                f"the token is for {run.claims.audience!r}, but F&O at {settings.D365_URL} accepts only "
                f"{audience_normalised(settings.D365_URL)!r} (lower case, no trailing slash)",
                setting="D365_SCOPE")
    if settings.D365_TENANT_ID and run.claims.tenant.lower() != settings.D365_TENANT_ID.lower():
        run.add("token", "tenant", Outcome.FAIL,
                f"the token's tenant {run.claims.tenant!r} is not D365_TENANT_ID {settings.D365_TENANT_ID!r}",
                setting="D365_TENANT_ID")
    return True
