"""Two `make bench` results side by side, typically the code before a change and after it, run on the same machine
in the same session:

    python -m bench.compare bench/results/before-x.json bench/results/after-x.json [--name x]

The machines these benchmarks run on differ in speed from one day to the next (the same code's cold lookup read
8-10 ms of CPU on one and 14-20 ms on another), so a figure in milliseconds is only comparable with one measured
beside it. Besides the milliseconds, each CPU figure is given in **ceiling requests**: the portal's CPU per request
over the ceiling's (a bare Django view under the same gunicorn) in the same run, which carries from one machine to
another far better than milliseconds do. The last column is after over before.

Prints the table and writes it to bench/results/compare-<name>.md (with --name).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

if not __package__:  # run as a script rather than python -m bench.compare
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import ROOT

RESULTS = ROOT / "bench" / "results"
# (label, where the CPU figure is in a result): the cases every full run has.
CPU_CASES = (
    ("cached API order", ("summary", "cached_api", "cpu_ms_per_request")),
    ("cached web order page", ("summary", "cached_web", "cpu_ms_per_request")),
    ("cold API order (median round)", ("runs", "cold_api", "server_cpu_ms_per_request")),
    ("cached order list (API)", ("runs", "cached_list_api", "server_cpu_ms_per_request")),
    ("mix, 140/s with 20 % cold", ("runs", "mix", "server_cpu_ms_per_request")),
)
OTHER_FIGURES = (
    ("cached API req/s over the ceiling's", ("summary", "cached_api", "ratio_to_ceiling")),
    ("cached web req/s over the ceiling's", ("summary", "cached_web", "ratio_to_ceiling")),
    ("cold lookup p50, ms", ("runs", "cold_api", "p50_ms")),
    ("mix p95, ms", ("runs", "mix", "p95_ms")),
    ("mix errors", ("runs", "mix", "errors")),
)


def _at(result: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, int | float) else None


def ceiling_cpu(result: dict[str, Any]) -> float | None:
    return _at(result, ("summary", "ceiling", "cpu_ms_per_request"))


def in_ceiling_requests(result: dict[str, Any], cpu: float | None) -> float | None:
    """CPU per request as a multiple of the ceiling's CPU per request in the same run."""
    ceiling = ceiling_cpu(result)
    return round(cpu / ceiling, 1) if cpu is not None and ceiling else None


def _ratio(after: float | None, before: float | None) -> float | None:
    return round(after / before, 3) if after is not None and before else None


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def table(before: dict[str, Any], after: dict[str, Any]) -> str:
    def source(result: dict[str, Any]) -> str:
        return str(result.get("settings", {}).get("portal_source", "?"))

    lines = [
        f"# Before and after: {source(before)} -> {source(after)}",
        "",
        f"- before: started {before.get('started_at', '?')}; after: started {after.get('started_at', '?')}",
        f"- the ceiling's CPU per request (this machine's speed at the time): before {_fmt(ceiling_cpu(before))} ms, "
        f"after {_fmt(ceiling_cpu(after))} ms",
        "",
        "| case | CPU ms/request before | after | in ceiling requests before | after | after / before (ms) | "
        "after / before (ceiling requests) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, path in CPU_CASES:
        b, a = _at(before, path), _at(after, path)
        cb, ca = in_ceiling_requests(before, b), in_ceiling_requests(after, a)
        lines.append(f"| {label} | {_fmt(b)} | {_fmt(a)} | {_fmt(cb)} | {_fmt(ca)} | {_fmt(_ratio(a, b))} | "
                     f"{_fmt(_ratio(ca, cb))} |")
    lines += ["", "| figure | before | after |", "|---|---|---|"]
    for label, path in OTHER_FIGURES:
        lines.append(f"| {label} | {_fmt(_at(before, path))} | {_fmt(_at(after, path))} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path, help="a result JSON of `make bench` (bench/results/*.json)")
    parser.add_argument("after", type=Path)
    parser.add_argument("--name", default="", help="also write bench/results/compare-<name>.md")
    args = parser.parse_args(argv)
    text = table(json.loads(args.before.read_text()), json.loads(args.after.read_text()))
    print(text)
    if args.name:
        (RESULTS / f"compare-{args.name}.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
