"""API bearer tokens: hashing, the check behind every API request with its per-process cache, and the
`last_used_at` write. Creating and revoking tokens are services (orders.services)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from time import monotonic

from django.core.cache import cache

from orders.accounts import AccountRef, customer_accounts_for_id
from orders.local_cache import LocalCache
from orders.models import ApiToken
from orders.resilience.rate_limit import counter_add


@dataclass(frozen=True)
class ApiPrincipal:
    """Who an API request acts for: checked token, active user, their accounts."""

    token_id: int
    user_id: int
    email: str
    accounts: tuple[AccountRef, ...]
    expires_at: datetime | None


# Token checks are the hottest read of the API, so each process keeps them for a few seconds, keyed by the token's
# hash, never the token. Every revocation bumps a generation counter in the shared cache; each process looks at it at
# most every half second and forgets all its token checks when it moved, so a token revoked in one process stops
# working in all of them within about that time (in the revoking process at once).
_principals: LocalCache = LocalCache(max_entries=10_000, ttl=5.0)
_LAST_USED_EVERY_SECONDS = 60
_REVOCATIONS_KEY = "api_tokens:revocations"
_REVOCATIONS_LOOK_EVERY_SECONDS = 0.5
_revocations_seen: dict[str, float | int | None] = {"generation": None, "at": float("-inf")}


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_forget(*, token_hash: str) -> None:
    """Call after the revocation is committed: the other processes re-read the token when they see the bump."""
    _principals.delete(token_hash)
    counter_add(_REVOCATIONS_KEY, timeout=None)


def api_tokens_forget_local() -> None:
    """Forget this process's token checks (tests: as a fresh process would)."""
    _principals.clear()


def _revocations_follow() -> None:
    now = monotonic()
    if now - (_revocations_seen["at"] or 0.0) < _REVOCATIONS_LOOK_EVERY_SECONDS:
        return
    _revocations_seen["at"] = now
    generation = cache.get(_REVOCATIONS_KEY)
    if generation != _revocations_seen["generation"]:
        _revocations_seen["generation"] = generation
        _principals.clear()


def api_token_authenticate(*, raw: str) -> ApiPrincipal | None:
    if not raw or len(raw) > 200:
        return None
    digest = hash_token(raw)
    _revocations_follow()
    principal: ApiPrincipal | None = _principals.get(digest)
    now = datetime.now(UTC)
    if principal is None:
        token = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=digest, revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            return None
        principal = ApiPrincipal(
            token_id=token.pk, user_id=token.user_id, email=token.user.email or token.user.get_username(),
            accounts=customer_accounts_for_id(user_id=token.user_id), expires_at=token.expires_at,
        )
        api_token_used_mark(token=token, now=now)
        _principals.set(digest, principal)
    if principal.expires_at is not None and principal.expires_at <= now:
        return None
    return principal


def api_token_used_mark(*, token: ApiToken, now: datetime) -> None:
    """Record when a token was last used, at most once a minute per token: a write per request would cost more
    than the lookup it serves."""
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > _LAST_USED_EVERY_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
