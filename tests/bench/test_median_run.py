"""`make bench` reports a case measured in rounds as its median round, not as whichever round ran last."""

from __future__ import annotations

from bench.run import median_run


def _round(cpu: float, p50: float, rps: float) -> dict[str, object]:
    return {"server_cpu_ms_per_request": cpu, "cpu_ms": {"portal": cpu * 100}, "rps": rps, "p50_ms": p50,
            "p95_ms": p50 * 2, "p99_ms": p50 * 3}


def test_the_median_round_keeps_its_cpu_breakdown_and_takes_the_rounds_median_latencies() -> None:
    combined = median_run([_round(11.0, 160.0, 50.0), _round(8.0, 200.0, 40.0), _round(9.0, 170.0, 60.0)])
    assert combined["server_cpu_ms_per_request"] == 9.0
    assert combined["cpu_ms"] == {"portal": 900.0}  # the median round's own, whole
    assert (combined["p50_ms"], combined["p95_ms"], combined["rps"]) == (170.0, 340.0, 50.0)
    assert combined["rounds"] == 3
