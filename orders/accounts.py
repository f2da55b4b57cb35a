"""A customer's F&O accounts: the (company, account) pairs a portal user is linked to, and whether a pair is theirs.

Every order read is scoped to these pairs, in the OData $filter and again on what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

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


def customer_accounts_for_id(*, user_id: int) -> tuple[AccountRef, ...]:
    links = CustomerAccountLink.objects.filter(user_id=user_id).values_list("company", "account")
    return tuple(sorted(AccountRef(company, account) for company, account in links))


def accounts_own(accounts: tuple[AccountRef, ...], company: str, account: str) -> bool:
    """Whether (company, account) is one of `accounts`. F&O compares strings without regard to case (SQL
    collation), so the check does too."""
    return any(a.company == company.lower() and a.account.casefold() == account.casefold() for a in accounts)
