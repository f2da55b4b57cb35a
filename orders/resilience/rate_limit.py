"""One fixed-window counter in the shared cache, used by every limit of the portal (API tokens, refreshes, F&O
read budgets, sign-in attempts per address). Shared by all instances through Redis; per process with locmem."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

from orders.exceptions import LimitsUnavailable
from orders.resilience.shared_cache import redis_client, script

logger = logging.getLogger("orders.resilience")

# Add to a counter and, when this made it, give it its lifetime: one round trip, atomic, any Redis version.
_COUNTER_ADD_LUA = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value == tonumber(ARGV[1]) and tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return value
"""


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def of(cls, pair: tuple[int, int] | None) -> Rate | None:
        return cls(*pair) if pair is not None else None


def counter_add(key: str, amount: int = 1, *, timeout: int | None) -> int | None:
    """Add to a counter in the shared cache, creating it when missing; its new value, or None when the cache is down
    (django-redis ignores its errors and answers None). With Redis one round trip, which every API request pays."""
    redis = redis_client(cache)
    if redis is not None:
        return _redis_counter_add(redis, key, amount, timeout)
    if cache.add(key, amount, timeout=timeout):
        return amount
    try:
        return cache.incr(key, amount)
    except ValueError:  # expired or evicted between add and incr
        cache.add(key, amount, timeout=timeout)
        return amount


def rate_take(key: str, rate: Rate | None, *, cost: int = 1, fail_closed: bool = False) -> float | None:
    """Count one use of `key` against `rate`. None when allowed; otherwise the seconds until the window ends.

    A use past the limit still counts, so hammering does not reopen the window early. With `fail_closed`, a use
    that cannot be counted (the cache is down) raises LimitsUnavailable instead of being let through: for limits
    that are the only thing between an outsider and an oracle (guest tracking).
    """
    if rate is None:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    used = counter_add(f"rl:{key}:{window}", cost, timeout=rate.seconds + 1)
    if used is None:
        if fail_closed:
            raise LimitsUnavailable(key)
        # The shared cache is down (django-redis ignores its errors and answers None): a limit that cannot be
        # counted lets the request through rather than turning a cache outage into a portal outage.
        return None
    if used > rate.count:
        return max(0.001, (window + 1) * rate.seconds - now)
    return None


def rate_key(key: str, rate: Rate | None) -> str | None:
    """The shared-cache key of `key`'s counter for the current window (None when unlimited): to read it alongside
    other keys in one round trip and hand the value to rate_peek."""
    return None if rate is None else f"rl:{key}:{int(time.time() // rate.seconds)}"


def rate_peek(key: str, rate: Rate | None, *, peeked: Mapping[str, object] | None = None) -> float | None:
    """Like rate_take without counting: seconds to wait when the limit is already used up, else None. `peeked`: the
    counters already read (rate_key), by key; one that is not among them is read from the cache."""
    if rate is None:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    counter = f"rl:{key}:{window}"
    used = (peeked[counter] if peeked is not None and counter in peeked else cache.get(counter)) or 0
    if isinstance(used, int) and used >= rate.count:
        return max(0.001, (window + 1) * rate.seconds - now)
    return None


def _redis_counter_add(redis: Any, key: str, amount: int, timeout: int | None) -> int | None:
    # django-redis keeps integers as Redis integers, so cache.get() reads this counter back as an int.
    full_key = redis.make_key(key)
    try:
        return int(script(redis, _COUNTER_ADD_LUA)(keys=[full_key], args=[amount, timeout or 0],
                                                   client=redis.get_client(write=True)))
    except (RedisError, OSError):
        # As django-redis's IGNORE_EXCEPTIONS: a cache outage must not become a portal outage.
        logger.warning("cache.counter_unavailable", exc_info=True)
        return None
