"""A user's budget of lookups that had to be read from F&O (ORDERS_USER_BUDGET), web and API together.

Copies answered from the cache cost nothing; only the request that actually reads F&O is charged. A guest's budget
(named with GUEST_BUDGET_PREFIX) is also charged to the one budget all guests share
(GUEST_TRACKING_READS_PER_MINUTE), so guests can never use up F&O's patience meant for customers; and both fail
closed: a guest read that cannot be counted is not made.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings

from orders import metrics
from orders.exceptions import LookupBudgetExceeded
from orders.resilience.rate_limit import Rate, rate_key, rate_peek, rate_take

GUEST_BUDGET_PREFIX = "guest:"
_GUESTS_KEY = "budget-guests"


def _guests_rate() -> Rate | None:
    per_minute = settings.GUEST_TRACKING_READS_PER_MINUTE
    return Rate(per_minute, 60) if per_minute > 0 else None


def lookup_budget_keys(budget: str) -> tuple[str, ...]:
    """The shared-cache keys a check of `budget` without `take` reads: to be read alongside others and handed to
    lookup_budget_check as `peeked`."""
    keys = [rate_key(f"budget:{budget}", Rate.of(settings.ORDERS_USER_BUDGET))]
    if budget.startswith(GUEST_BUDGET_PREFIX):
        keys.append(rate_key(_GUESTS_KEY, _guests_rate()))
    return tuple(key for key in keys if key is not None)


def lookup_budget_check(budget: str, *, take: bool, peeked: Mapping[str, object] | None = None) -> None:
    """Refuse when `budget` (a user's ORDERS_USER_BUDGET) is used up; with `take`, also charge one F&O read.
    `peeked`: its counters already read (lookup_budget_keys), so the check asks the cache nothing more."""
    guest = budget.startswith(GUEST_BUDGET_PREFIX)
    key, rate = f"budget:{budget}", Rate.of(settings.ORDERS_USER_BUDGET)
    wait = rate_take(key, rate, fail_closed=guest) if take else rate_peek(key, rate, peeked=peeked)
    if wait is not None:
        metrics.cache_event("over_budget")
        raise LookupBudgetExceeded(retry_after=wait, budget=budget)
    if guest:
        rate = _guests_rate()
        wait = rate_take(_GUESTS_KEY, rate, fail_closed=True) if take else rate_peek(_GUESTS_KEY, rate, peeked=peeked)
        if wait is not None:
            metrics.cache_event("over_budget")
            raise LookupBudgetExceeded(retry_after=wait, budget=budget, shared=True)
