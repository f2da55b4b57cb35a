"""Writes: account links and users, cache purges, refresh budgets, what a user last saw of an order."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from orders.accounts import AccountRef
from orders.api_tokens import api_token_forget, hash_token
from orders.changes import Change, State, order_state
from orders.client_address import address_network
from orders.history import order_seen_compare
from orders.memo import ObjectMemo
from orders.models import ACCOUNT_PATTERN, COMPANY_PATTERN, ApiToken, CustomerAccountLink
from orders.presenters import OrderDetail
from orders.resilience.rate_limit import Rate, rate_take
from orders.selectors import order_cache_key
from orders.signals import api_token_revoked


def account_ref_parse(text: str) -> AccountRef:
    """`usmf:US-001` → AccountRef('usmf', 'US-001')."""
    import re

    company, sep, account = text.strip().partition(":")
    company = company.lower()
    if not sep or not re.fullmatch(COMPANY_PATTERN, company) or not re.fullmatch(ACCOUNT_PATTERN, account):
        raise ValueError(f"not COMPANY:ACCOUNT: {text!r}")
    return AccountRef(company, account)


@transaction.atomic
def customer_user_upsert(
    *, email: str, password: str | None, accounts: Iterable[AccountRef], replace_accounts: bool = False
) -> tuple[User, bool]:
    """Create or update a customer user and link accounts. Running it twice changes nothing the second time."""
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email.strip())
    if "@" not in email:
        raise ValueError(f"not an email address: {email!r}")
    user, created = user_model.objects.get_or_create(
        username__iexact=email, defaults={"username": email.lower(), "email": email}
    )
    # The same password again is no change: setting it anyway would count as a new password and revoke the user's
    # tokens and sessions (orders.revocation) every time a provisioning script runs.
    if password and (created or not user.check_password(password)):
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.email = email
    user.save()
    wanted = set(accounts)
    if replace_accounts:
        for link in CustomerAccountLink.objects.filter(user=user):
            if AccountRef(link.company, link.account) not in wanted:
                link.delete()
    for ref in wanted:
        CustomerAccountLink.objects.get_or_create(user=user, company=ref.company, account=ref.account)
    return user, created


def order_cache_purge(*, company: str, account: str, number: str) -> None:
    """Forget the order's copy everywhere: the next lookup reads F&O live. (Other instances' one-second hot copies
    expire by themselves.)"""
    from orders.cached_reads import copy_delete

    copy_delete(order_cache_key(company=company, account=account, number=number))


def refresh_budget_take(*, user_id: int) -> bool:
    """A user may force a live re-read a few times a minute (ORDERS_REFRESH_RATE); F&O is shared by everyone."""
    return rate_take(f"refresh:{user_id}", Rate.of(settings.ORDERS_REFRESH_RATE)) is None


def guest_try_take(*, address: str, number: str, fact: str = "") -> float | None:
    """Count one guest tracking try, right or wrong, against its client address's limit (an IPv6 address by its
    /64), then its postal code's or reference's, then its order number's (GUEST_TRACKING_TRIES_PER_ADDRESS,
    _PER_FACT, _PER_ORDER). None when allowed, else the seconds until it may try again.

    Counted before the lookup, atomically in the shared cache: concurrent tries cannot slip past the limit while
    their reads are under way. A try refused by one limit is not counted by the next, so one address cannot use up
    a fact's or an order's tries. When the cache cannot count, LimitsUnavailable: without its limits guest tracking
    would be an oracle, so it is refused rather than let through."""
    wait = rate_take(f"guest:address:{address_network(address)}", Rate.of(settings.GUEST_TRACKING_TRIES_PER_ADDRESS),
                     fail_closed=True)
    if wait is not None:
        return wait
    # Per fact: a business's delivery postal code is its warehouse's public address, and order numbers are
    # sequential, so "that postal code, every number" must run out long before the numbers do.
    normalised = "".join(unicodedata.normalize("NFKC", fact).casefold().split())
    if normalised:
        wait = rate_take(f"guest:fact:{_digest(normalised)}", Rate.of(settings.GUEST_TRACKING_TRIES_PER_FACT),
                         fail_closed=True)
        if wait is not None:
            return wait
    # Hashed: the number is the guest's input, whatever its length, and F&O compares it without regard to case.
    return rate_take(f"guest:order:{_digest(number.strip().casefold())}",
                     Rate.of(settings.GUEST_TRACKING_TRIES_PER_ORDER), fail_closed=True)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class TokenLimitReached(Exception):
    """The user already holds API_TOKENS_PER_USER live tokens."""


TOKEN_PREFIX = "fop_"  # noqa: S105  (a public marker, like GitHub's ghp_)


def api_token_create(
    *, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new bearer token. The clear token is returned once, here, and never stored."""
    live = ApiToken.objects.filter(user=user, revoked_at__isnull=True).exclude(expires_at__lte=timezone.now())
    if live.count() >= settings.API_TOKENS_PER_USER:
        raise TokenLimitReached(f"{settings.API_TOKENS_PER_USER} live tokens already")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:80] or "API token", prefix=raw[:12], token_hash=hash_token(raw),
        expires_at=expires_at,
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            api_token_revoked.send(sender=ApiToken, token_id=token.pk, user_id=token.user_id)
    api_token_forget(token_hash=token.token_hash)


def api_tokens_revoke_for_users(*, user_ids: Iterable[int]) -> int:
    tokens = list(ApiToken.objects.filter(user_id__in=list(user_ids), revoked_at__isnull=True))
    for token in tokens:
        api_token_revoke(token=token)
    return len(tokens)


def order_seen_record(*, user_id: int, detail: OrderDetail) -> list[Change] | None:
    """What changed in this order since this user last saw it, and remember what they see now. None on their first
    view, [] when nothing changed."""
    order = detail.order
    # Worked out once per cached copy, like its JSON body: every reader of the copy is shown the same state.
    state = _states.get(detail, None, lambda: order_state(order=order, shipments=detail.shipments,
                                                          invoices=detail.invoices))
    return order_seen_compare(user_id=user_id, company=order.company, number=order.number, state=state)


_states: ObjectMemo[State] = ObjectMemo()
