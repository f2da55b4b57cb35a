"""A customer's F&O accounts: the (company, account) pairs a portal user is linked to, and whether a pair is theirs.

Every order read is scoped to these pairs, in the OData $filter and again on what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models.signals import post_delete, post_save

from orders.local_cache import LocalCache
from orders.models import CustomerAccountLink


@dataclass(frozen=True, order=True)
class AccountRef:
    company: str
    account: str

    def __str__(self) -> str:
        return f"{self.company}:{self.account}"


def customer_accounts(*, user: AbstractBaseUser | AnonymousUser) -> tuple[AccountRef, ...]:
    if not user.is_authenticated or not user.is_active:
        return ()
    return customer_accounts_for_id(user_id=user.pk)


# Every page of a signed-in user needs their accounts, so each process keeps them for a second. A link saved or
# deleted in this process is seen at once, in another within that second; and a link removed or changed ends the
# user's sessions and tokens everywhere (orders.revocation), so nothing is shown from an account they lost.
_known = LocalCache(max_entries=10_000, ttl=1.0)


def customer_accounts_for_id(*, user_id: int) -> tuple[AccountRef, ...]:
    key = str(user_id)
    known: tuple[AccountRef, ...] | None = _known.get(key)
    if known is None:
        links = CustomerAccountLink.objects.filter(user_id=user_id).values_list("company", "account")
        known = tuple(sorted(AccountRef(company, account) for company, account in links))
        _known.set(key, known)
    return known


def _link_changed(sender: Any, instance: CustomerAccountLink, **kwargs: Any) -> None:
    _known.delete(str(instance.user_id))


def accounts_connect() -> None:
    post_save.connect(_link_changed, sender=CustomerAccountLink, dispatch_uid="orders.accounts.link_saved")
    post_delete.connect(_link_changed, sender=CustomerAccountLink, dispatch_uid="orders.accounts.link_deleted")


def accounts_own(accounts: tuple[AccountRef, ...], company: str, account: str) -> bool:
    """Whether (company, account) is one of `accounts`. F&O compares strings without regard to case (SQL
    collation), so the check does too."""
    return any(a.company == company.lower() and a.account.casefold() == account.casefold() for a in accounts)
