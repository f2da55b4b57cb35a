"""`python -m bench.compare`: two benchmark results side by side, in milliseconds and in ceiling requests."""

from __future__ import annotations

from typing import Any

from bench.compare import in_ceiling_requests, table


def _result(source: str, *, ceiling: float, cached: float, cold: float) -> dict[str, Any]:
    return {
        "started_at": "2026-12-01T00:00:00+00:00",
        "settings": {"portal_source": source},
        "summary": {"ceiling": {"cpu_ms_per_request": ceiling},
                    "cached_api": {"cpu_ms_per_request": cached, "ratio_to_ceiling": 0.3},
                    "cached_web": {"cpu_ms_per_request": 4.0, "ratio_to_ceiling": 0.1}},
        "runs": {"cold_api": {"server_cpu_ms_per_request": cold, "p50_ms": 170.0},
                 "mix": {"server_cpu_ms_per_request": 3.0, "p95_ms": 160.0, "errors": 0}},
    }


def test_cpu_is_also_given_in_requests_of_the_ceiling_measured_in_the_same_run() -> None:
    assert in_ceiling_requests(_result("a", ceiling=0.5, cached=1.5, cold=15.0), 15.0) == 30.0
    assert in_ceiling_requests({"summary": {}}, 15.0) is None  # a partial result: no figure rather than a wrong one


def test_the_table_puts_each_case_before_and_after_with_their_ratio_on_a_faster_and_a_slower_machine() -> None:
    before = _result("old", ceiling=0.25, cached=2.0, cold=10.0)
    after = _result("new", ceiling=0.5, cached=2.0, cold=15.0)  # a machine half as fast
    text = table(before, after)
    assert "old -> new" in text
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:] for line in text.splitlines()
            if line.startswith("| ")}
    # milliseconds before, after, ceiling requests before, after, ratio of ms, ratio of ceiling requests
    assert rows["cached API order"][:6] == ["2", "2", "8", "4", "1", "0.5 |"]
    assert rows["cold API order (median round)"][:6] == ["10", "15", "40", "30", "1.5", "0.75 |"]
    assert rows["cached order list (API)"][:2] == ["", ""]  # not in these results: left blank
    assert rows["mix p95, ms"] == ["160", "160 |"]
