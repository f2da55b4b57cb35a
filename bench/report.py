"""What `make bench` prints and writes: the targets with PASS/MISS, CPU per request, the interleaved rounds, and
where the machine's CPU went in every run."""

from __future__ import annotations

import statistics
from typing import Any

from bench.procs import GROUPS

SIDES = ("ceiling", "cached_api", "cached_web")


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else float("nan")


def summary(results: dict[str, Any]) -> dict[str, Any]:
    runs = results["runs"]
    rounds = sorted({int(name[5:].split("_", 1)[0]) for name in runs if name.startswith("round")})
    table = []
    for r in rounds:
        row: dict[str, Any] = {"round": r}
        for side in SIDES:
            run = runs[f"round{r}_{side}"]
            row[side] = {"rps": run["rps"], "cpu_ms_per_request": run["server_cpu_ms_per_request"]}
        for side in SIDES[1:]:
            row[side]["ratio"] = round(row[side]["rps"] / row["ceiling"]["rps"], 3)
            # The same comparison by CPU alone: what the ratio would be if nothing else shared the machine.
            row[side]["cpu_ratio"] = round(row["ceiling"]["cpu_ms_per_request"] / row[side]["cpu_ms_per_request"], 3)
        table.append(row)
    out: dict[str, Any] = {"rounds": table}
    for side in SIDES:
        sides = [runs[f"round{r}_{side}"] for r in rounds]
        out[side] = {
            "rps": median([s["rps"] for s in sides]),
            "cpu_ms_per_request": median([s["server_cpu_ms_per_request"] for s in sides]),
            **{k: median([s[k] for s in sides]) for k in ("p50_ms", "p95_ms", "p99_ms")},
            "errors": sum(s["errors"] for s in sides),
            "worker_starts": sum(s["worker_starts"] for s in sides),
        }
        if side != "ceiling":
            out[side]["ratio_to_ceiling"] = median([row[side]["ratio"] for row in table])
            out[side]["ratios"] = [row[side]["ratio"] for row in table]
            out[side]["cpu_ratio_to_ceiling"] = median([row[side]["cpu_ratio"] for row in table])
    return out


def _check(label: str, figure: float, op: str, goal: float) -> dict[str, Any]:
    met = {"<=": figure <= goal, ">=": figure >= goal, "==": figure == goal}[op]
    return {"target": label, "figure": figure, "goal": f"{op} {goal:g}", "verdict": "PASS" if met else "MISS",
            "figure_to_goal": round(figure / goal, 3) if goal else None,
            "missed_by": None if met else round(abs(figure - goal), 3)}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    s, runs = results["summary"], results["runs"]
    latency = results["settings"]["fno_latency_ms"]
    rounds = len(s["rounds"])
    return [
        _check(f"cached API order, req/s as a share of the ceiling's (median of {rounds} interleaved rounds)",
               s["cached_api"]["ratio_to_ceiling"], ">=", 0.6),
        _check("cached web order page, req/s as a share of the ceiling's (median, same rounds)",
               s["cached_web"]["ratio_to_ceiling"], ">=", 0.3),
        _check(f"cold lookup p50 at 10 concurrent, ms (simulator latency {latency:g} ms + 20)",
               runs["cold_api"]["p50_ms"], "<=", latency + 20),
        _check("mix p95, ms", runs["mix"]["p95_ms"], "<=", 250),
        _check("mix errors", runs["mix"]["errors"], "==", 0),
        _check("portal CPU per cached API lookup, ms (issue 12: <= 1.0 on the way to about 0.65)",
               s["cached_api"]["cpu_ms_per_request"], "<=", 1.0),
        _check("portal CPU per cold lookup, ms (issue 12: <= 8)", runs["cold_api"]["server_cpu_ms_per_request"],
               "<=", 8.0),
    ]


def _fmt(value: Any) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def markdown(results: dict[str, Any]) -> str:
    s, runs, settings = results["summary"], results["runs"], results["settings"]
    lines = [f"# Benchmark {results['started_at']}", ""]
    lines += [f"- {key}: {value}" for key, value in settings.items()]
    lines += ["", "## Targets", "", "| target | figure | goal | figure / goal | verdict | missed by |",
              "|---|---|---|---|---|---|"]
    for t in results["targets"]:
        lines.append(f"| {t['target']} | {_fmt(t['figure'])} | {t['goal']} | {_fmt(t['figure_to_goal'])} | "
                     f"**{t['verdict']}** | {_fmt(t['missed_by'])} |")
    lines += ["", "## CPU per request and latency", "",
              "CPU: the server's processes (gunicorn master and workers, reaped children included), read from "
              "/proc/<pid>/stat before and after the run and divided by the requests answered. The three "
              "interleaved cases show the median of the rounds. CPU ratio: the ceiling's CPU per request over the "
              "portal's, the req/s ratio this machine would show if nothing else used it (wrk and the kernel's "
              "network work aside).", "",
              "| case | server CPU ms/request | req/s | ratio to ceiling | CPU ratio to ceiling | p50 ms | p95 ms | "
              "p99 ms | errors | F&O calls/request | worker starts |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for side in SIDES:
        m = s[side]
        lines.append(f"| {side} (median) | **{_fmt(m['cpu_ms_per_request'])}** | {_fmt(m['rps'])} | "
                     f"{_fmt(m.get('ratio_to_ceiling'))} | {_fmt(m.get('cpu_ratio_to_ceiling'))} | "
                     f"{_fmt(m['p50_ms'])} | {_fmt(m['p95_ms'])} | {_fmt(m['p99_ms'])} | {m['errors']} | | "
                     f"{m['worker_starts']} |")
    for name, run in runs.items():
        if not name.startswith("round"):
            lines.append(f"| {name} | **{_fmt(run['server_cpu_ms_per_request'])}** | {_fmt(run['rps'])} | | | "
                         f"{_fmt(run['p50_ms'])} | {_fmt(run['p95_ms'])} | {_fmt(run['p99_ms'])} | {run['errors']} | "
                         f"{_fmt(run['fno_calls_per_request'])} | {run['worker_starts']} |")
    lines += ["", "## Interleaved rounds", "",
              "| round | ceiling req/s | API req/s | API ratio | web req/s | web ratio | CPU ms/request: ceiling, "
              "API, web |", "|---|---|---|---|---|---|---|"]
    for row in s["rounds"]:
        c, a, w = row["ceiling"], row["cached_api"], row["cached_web"]
        lines.append(f"| {row['round']} | {c['rps']} | {a['rps']} | {a['ratio']} | {w['rps']} | {w['ratio']} | "
                     f"{c['cpu_ms_per_request']}, {a['cpu_ms_per_request']}, {w['cpu_ms_per_request']} |")
    lines += ["", "## Where the CPU went", "",
              "Each run's CPU by process group as a share of the machine (2 cores x the run's window, which includes "
              f"{settings['settle_seconds']} s of settling for the audit writer); \"load\" is wrk and the benchmark's "
              "own asyncio client; \"other\" is everything else on this shared machine (the machine's busy time from "
              "/proc/stat less the groups).", "",
              "| run | window s | " + " | ".join(f"{g} %" for g in GROUPS) + " | idle % | " +
              " | ".join(f"{g} ms/req" for g in GROUPS if g != "other") + " |",
              "|---|---|" + "---|" * (2 * len(GROUPS))]
    for name, run in runs.items():
        cpu = run["cpu_ms"]
        total = cpu["machine_total"] or 1
        shares = " | ".join(f"{100 * cpu[g] / total:.1f}" for g in GROUPS)
        idle = 100 * (total - cpu["machine_busy"]) / total
        per = " | ".join(_fmt(run["cpu_ms_per_request"][g]) for g in GROUPS if g != "other")
        lines.append(f"| {name} | {total / 2000:.1f} | {shares} | {idle:.1f} | {per} |")
    if "logs" in results:
        lines += ["", "Log lines written: " + ", ".join(f"{k} {v}" for k, v in results["logs"].items()) + "."]
    return "\n".join(lines) + "\n"
