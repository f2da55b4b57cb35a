"""A user's budget of lookups that had to be read from F&O (ORDERS_USER_BUDGET), web and API together.

Copies answered from the cache cost nothing; only the request that actually reads F&O is charged.
"""

from __future__ import annotations

from django.conf import settings

from orders import metrics
from orders.exceptions import LookupBudgetExceeded
from orders.resilience.rate_limit import Rate, rate_peek, rate_take


def lookup_budget_check(budget: str, *, take: bool) -> None:
    """Refuse when `budget` (a user's ORDERS_USER_BUDGET) is used up; with `take`, also charge one F&O read."""
    key, rate = f"budget:{budget}", Rate.of(settings.ORDERS_USER_BUDGET)
    wait = rate_take(key, rate) if take else rate_peek(key, rate)
    if wait is not None:
        metrics.cache_event("over_budget")
        raise LookupBudgetExceeded(retry_after=wait, budget=budget)
