"""The one rate-limit helper: counts per window, says how long to wait, and fails open when the cache is down."""

from __future__ import annotations

import pytest

from orders.resilience import rate_limit
from orders.resilience.rate_limit import Rate, rate_peek, rate_take
from tests.fakes import CacheDown


def test_the_limit_holds_within_a_window_and_says_how_long_to_wait() -> None:
    rate = Rate(3, 60)
    assert [rate_take("k", rate) for _ in range(3)] == [None, None, None]
    wait = rate_take("k", rate)
    assert wait is not None
    assert 0 < wait <= 60
    assert rate_peek("k", rate) is not None
    assert rate_peek("other", rate) is None
    assert rate_take("k", None) is None


def test_a_cache_outage_lets_requests_through_instead_of_failing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "cache", CacheDown())
    assert rate_take("k", Rate(1, 60)) is None
    assert rate_take("k", Rate(1, 60)) is None
    assert rate_peek("k", Rate(1, 60)) is None
