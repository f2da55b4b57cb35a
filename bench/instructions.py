"""Instructions per lookup, counted by valgrind's callgrind: a figure that hardly moves with the machine.

The CPU milliseconds of `make bench` move by half from one day to the next, and by a third within one run, because
these machines share their cores with others. An instruction count does not, or far less: callgrind counts the
instructions the process executes, so the same code gives nearly the same count whatever else the machine is doing
(seen over three runs each: the cold lookup within 3 % now and 6 % before issue 12, the cached ones within 4-5 %),
and two revisions counted in one go compare directly.

    python -m bench.instructions [--portal-rev REV ...] [--cold 40] [--cached 300] [--web 100] [--name NAME]

Each revision (`--portal-rev`, repeatable; "" or none: the work tree) runs in one process under
`valgrind --tool=callgrind`, with the portal's real WSGI application and production settings (PostgreSQL, Redis,
the JSON request log, the asynchronous audit), calling the application directly as gunicorn would (no HTTP parsing,
no access log) against the F&O simulator in a process of its own, which is not counted. After a warm-up, a small
C helper loaded with ctypes turns counting on and asks callgrind to dump its counters after each phase: the cold
API lookups (each a different order, never read before), the cached API lookups (one order) and the cached web
order page. Every thread is counted: the request's, the pool's parallel F&O reads and the background writers'.
Each phase ends with a pause for the writers (audit, history) to write what the phase gave them, so their work
lands in its phase; an idle pause of the same length is counted too and taken off. The simulator's count of F&O
requests is read between phases (not counted): a cached phase that read F&O fails the run. The ceiling (the bare
Django project of `make bench`) is counted the same way, so each figure is also given in ceiling requests.

What it does not count, or counts differently from production:
- The kernel's work for the process (system calls: the sockets to F&O, Redis and PostgreSQL), which `make
  bench`'s CPU milliseconds include. The same phases run natively first, and their user and system milliseconds
  stand beside the counts.
- Instructions are not all equally dear (a cache miss costs more than an add).
- Work done by the clock: memos that expire after 0.2-5 s (a user's accounts, a token) and the writers' batches
  (every 0.5-1 s) come about thirty times as often per call under callgrind, which runs that much slower. Every
  revision is counted a little above what it pays at full speed, a slower one more: slowing valgrind down further
  (with its cache simulation) added 3 % to the cold lookup and about 10 % to the cached one. Read a ratio between
  revisions as good to a few per cent.

Writes bench/results/instructions-<stamp>.json and .md (and instructions-<name>.* with --name).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if not __package__:  # run as a script rather than python -m bench.instructions
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import ROOT, Stack

RESULTS = ROOT / "bench" / "results"
PHASES = ("cold_api", "cached_api", "cached_web")
LABELS = {
    "cold_api": "cold API order lookup (cache miss, five F&O reads)",
    "cached_api": "cached API order lookup",
    "cached_web": "cached web order page",
    "ceiling": "ceiling: the bare Django view of `make bench`",
}
SPEC = "BENCH_INSTRUCTIONS_SPEC"
# A copy stays fresh for the whole run, as the hot order's copy does at full speed: under callgrind a run lasts
# minutes, and a copy running out in a cached phase would count a read from F&O as a cached lookup.
FRESH_FOR_THE_RUN = {"ORDERS_CACHE_SECONDS": "3600", "ORDERS_STALE_SECONDS": "3600"}
# Client requests to callgrind: inline instruction sequences that valgrind recognises, which Python cannot emit.
HELPER_C = r"""
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void cg_zero(void) { CALLGRIND_ZERO_STATS; }
void cg_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""


def build_helper(directory: Path) -> Path:
    source, library = directory / "callgrind_helper.c", directory / "callgrind_helper.so"
    source.write_text(HELPER_C)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    return library


def totals(directory: Path) -> dict[str, int]:
    """The instructions of each dump callgrind wrote to `directory`, by the name the dump was asked for under."""
    found: dict[str, int] = {}
    for path in directory.glob("callgrind.out*"):
        text = path.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (\S+)", text, re.MULTILINE)
        count = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
        if trigger and count:
            found[trigger.group(1)] = int(count.group(1))
    return found


def per_call(counts: dict[str, int], calls: dict[str, int]) -> dict[str, float]:
    """Instructions per call of each phase, the idle pause's count taken off (every phase ends with one)."""
    idle = counts.get("idle", 0)
    return {phase: round((counts[phase] - idle) / calls[phase]) for phase in calls if phase in counts}


# --- the counted process -------------------------------------------------------------------------------------


def _child() -> int:
    """Run the phases; under valgrind, dump callgrind's counters after each. Always write each phase's CPU time
    (user and system, from the operating system: meaningful only when run natively) and the F&O requests it made
    to the spec's `out` file."""
    spec = json.loads(os.environ[SPEC])
    helper = ctypes.CDLL(spec["helper"])  # natively, its client requests do nothing
    helper.cg_dump.argtypes = [ctypes.c_char_p]
    sys.path.insert(0, spec["source"])
    from bench.profiling import wsgi_get

    if spec["side"] == "ceiling":
        from bench.ceiling.wsgi import application as ceiling

        phases: dict[str, list[Callable[[], int]]] = {"ceiling": [lambda: wsgi_get(ceiling, "/order", {})]
                                                      * spec["calls"]["ceiling"]}
        warm = phases["ceiling"][:50]
    else:
        from portal.wsgi import application

        cookie = {"Cookie": _session_cookie(spec["email"])}
        auth = {"Authorization": spec["authorization"]}
        cold = iter(spec["cold_paths"])
        hot, web = spec["hot_path"], spec["web_path"]

        def get(path: str, headers: dict[str, str]) -> Callable[[], int]:
            return lambda: wsgi_get(application, path, headers)

        warm = [get(hot, auth)] * 50 + [get(web, cookie)] * 5 + [get(next(cold), auth) for _ in range(3)]
        phases = {
            "cold_api": [get(next(cold), auth) for _ in range(spec["calls"]["cold_api"])],
            "cached_api": [get(hot, auth)] * spec["calls"]["cached_api"],
            "cached_web": [get(web, cookie)] * spec["calls"]["cached_web"],
        }
    for call in warm:
        _expect_200(call())
    time.sleep(spec["settle"])
    helper.cg_start()
    times: dict[str, tuple[float, float]] = {}
    fno_calls: dict[str, int] = {}
    asked = _fno_calls(spec["simulator"])
    for name, calls in (*phases.items(), ("idle", [])):
        helper.cg_zero()  # what asking the simulator cost is not counted
        started = resource.getrusage(resource.RUSAGE_SELF)  # every thread's, to the microsecond
        for call in calls:
            _expect_200(call())
        time.sleep(spec["settle"])
        ended = resource.getrusage(resource.RUSAGE_SELF)
        helper.cg_dump(name.encode())
        times[name] = (ended.ru_utime - started.ru_utime, ended.ru_stime - started.ru_stime)
        now = _fno_calls(spec["simulator"])  # asked before the next phase's zero: not counted either
        fno_calls[name], asked = now - asked, now
    Path(spec["out"]).write_text(json.dumps({"times": times, "fno_calls": fno_calls}))
    return 0


def _fno_calls(simulator: str) -> int:
    """The simulator's count of the requests it has answered (none for the ceiling)."""
    if not simulator:
        return 0
    import httpx

    return int(httpx.get(simulator + "/_sim/stats", timeout=30).json()["total"])


def _expect_200(status: int) -> None:
    if status != 200:
        raise SystemExit(f"a counted call answered {status}, not 200")


def _session_cookie(email: str) -> str:
    """A signed-in session for the web page, made as Django's test client makes one."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(email=email))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


# --- the parent: one revision at a time -----------------------------------------------------------------------


def count(rev: str, args: argparse.Namespace, helper: Path) -> dict[str, Any]:
    """One revision: its phases run once natively (CPU time, user and system) and once under callgrind."""
    args.portal_rev = rev
    args.workers, args.threads, args.max_requests, args.sim_nice, args.timeout = 1, 1, None, 0, 30.0
    stack = Stack(args, database=f"portal_bench_instructions_{os.getpid()}")
    try:
        stack.start_simulator()
        email = "instructions@example.com"
        every, token = stack.customer_of_every_order(email)
        stack.manage("collectstatic", "--noinput")
        company, number, _ = every[0]
        calls = {"cold_api": args.cold, "cached_api": args.cached, "cached_web": args.web}
        spec = {
            "side": "portal", "helper": str(helper), "source": str(stack.source), "email": email,
            "authorization": f"Bearer {token}", "settle": args.settle, "calls": calls, "simulator": stack.sim_url,
            "hot_path": f"/api/v1/orders/{company}/{number}", "web_path": f"/orders/{company}/{number}/",
        }
        env = {**stack.env(), **FRESH_FOR_THE_RUN}
        ceiling_calls = {"ceiling": args.cached}
        ceiling_env = {k: v for k, v in env.items() if not k.startswith(("DJANGO_", "PROMETHEUS_"))}
        ceiling_spec = {**spec, "side": "ceiling", "source": str(ROOT), "calls": ceiling_calls, "simulator": ""}
        ceiling_env["DJANGO_SETTINGS_MODULE"] = "bench.ceiling.settings"
        figures: dict[str, Any] = {"instructions_per_call": {}, "native_cpu_ms_per_call": {}, "fno_calls_per_call": {}}
        # Natively and then counted, each with orders of its own: the first run's cold orders are cached now.
        native, counted = cold_orders([f"/api/v1/orders/{c}/{n}" for c, n, _ in every[1:]], args.cold)
        runs = ((False, native), (True, counted))
        for valgrind, orders in runs[1:] if args.no_native else runs:
            for side, side_env, side_spec, side_calls in (("portal", env, {**spec, "cold_paths": orders}, calls),
                                                          ("ceiling", ceiling_env, ceiling_spec, ceiling_calls)):
                found, fno_calls = _run(stack, side_env, side_spec, side_calls, side, valgrind=valgrind)
                figures["instructions_per_call" if valgrind else "native_cpu_ms_per_call"].update(found)
                if valgrind:
                    figures["fno_calls_per_call"].update(fno_per_call(fno_calls, side_calls))
        return {"portal_source": stack.revision, **figures, "calls": {**calls, **ceiling_calls}}
    finally:
        stack.stop()


def _run(stack: Stack, env: dict[str, str], spec: dict[str, Any], calls: dict[str, int], side: str, *,
         valgrind: bool) -> tuple[dict[str, Any], dict[str, int]]:
    """One run of the child: natively, its CPU milliseconds per call; under callgrind, its instructions per call.
    Either way, the F&O requests each phase made."""
    name = f"{side}-{'callgrind' if valgrind else 'native'}"
    out = stack.tmp / name
    out.mkdir()
    spec = {**spec, "out": str(out / "phases.json")}
    env = {**env, "PYTHONHASHSEED": "0", SPEC: json.dumps(spec)}  # the same hashing, dict and set layouts
    command = [sys.executable, "-m", "bench.instructions", "--child"]
    if valgrind:
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--log-file={out}/valgrind.log",
                   f"--callgrind-out-file={out}/callgrind.out", *command]
    log = out / "child.log"
    with log.open("w") as stream:
        finished = subprocess.run(command, cwd=ROOT, env=env, stdout=stream, stderr=stream)
    if finished.returncode != 0:
        raise RuntimeError(f"the {name} run failed ({finished.returncode}):\n{log.read_text()[-3000:]}")
    written = json.loads((out / "phases.json").read_text())
    fno_calls: dict[str, int] = written["fno_calls"]
    cached_reads = {phase: n for phase, n in fno_calls.items() if phase != "cold_api" and n}
    if cached_reads:
        # A copy ran out or was dropped during the run: those phases would count a read from F&O as cached.
        raise RuntimeError(f"the {name} run read from F&O outside the cold phase: {cached_reads}")
    if not valgrind:
        return cpu_per_call(written["times"], calls), fno_calls
    counts = totals(out)
    missing = [phase for phase in (*calls, "idle") if phase not in counts]
    if missing:
        raise RuntimeError(f"callgrind wrote no dump for {missing}")
    return per_call(counts, calls), fno_calls


def cold_orders(paths: list[str], cold: int) -> tuple[list[str], list[str]]:
    """Orders for the native run and for the counted one, none in both: after the first run, its cold orders are
    cached. Each run reads three of its orders in its warm-up and `cold` in its counted phase."""
    each = cold + 3
    if len(paths) < 2 * each:
        raise SystemExit(f"the simulator holds {len(paths)} orders besides the hot one: too few for --cold {cold}")
    return paths[:each], paths[each:2 * each]


def fno_per_call(fno_calls: dict[str, int], calls: dict[str, int]) -> dict[str, float]:
    return {phase: round(fno_calls.get(phase, 0) / n, 2) for phase, n in calls.items()}


def cpu_per_call(times: dict[str, list[float]], calls: dict[str, int]) -> dict[str, dict[str, float]]:
    """User and system CPU milliseconds per call of each phase, the idle pause's taken off."""
    idle_user, idle_system = times.get("idle", (0.0, 0.0))
    return {phase: {"user_ms": round(max(0.0, times[phase][0] - idle_user) * 1000 / calls[phase], 3),
                    "system_ms": round(max(0.0, times[phase][1] - idle_system) * 1000 / calls[phase], 3)}
            for phase in calls if phase in times}


# --- report ---------------------------------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    revisions = results["revisions"]
    compared = len(revisions) > 1
    head = "| case | " + " | ".join(f"`{r['portal_source']}`" for r in revisions) + " |"
    head += " last over first |" if compared else ""
    rule = "|" + "---|" * (head.count("|") - 1)
    lines = [
        f"# Instructions per lookup, {results['finished_at']}",
        "",
        "Counted by callgrind in one process calling the WSGI application directly (see bench/instructions.py). "
        "Millions of instructions per call; in brackets, the same in ceiling requests (the bare Django view, "
        "counted the same way). Calls per phase: "
        + ", ".join(f"{k} {v}" for k, v in revisions[0]["calls"].items()) + ".",
        "",
        head,
        rule,
    ]
    for case in (*PHASES, "ceiling"):
        cells = []
        for revision in revisions:
            figures = revision["instructions_per_call"]
            cells.append(f"{figures[case] / 1e6:.2f}" + (f" ({figures[case] / figures['ceiling']:.1f})"
                                                          if case != "ceiling" else ""))
        row = f"| {LABELS[case]} | " + " | ".join(cells) + " |"
        if compared:
            first, last = (r["instructions_per_call"][case] for r in (revisions[0], revisions[-1]))
            row += f" {last / first:.3f} |"
        lines.append(row)
    lines += ["", "F&O requests per cold lookup, as the simulator counted them: " + ", ".join(
        f"{r.get('fno_calls_per_call', {}).get('cold_api', float('nan')):g}" for r in revisions
    ) + " (none in the cached phases: a run that reads F&O there fails)."]
    if not all(r["native_cpu_ms_per_call"] for r in revisions):
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "The same phases run natively just before, for what callgrind does not count: CPU milliseconds per call, "
        "user + system (the kernel's work for the process), from getrusage. These move with the machine, and "
        "the kernel splits user from system by sampling at its clock tick: read the system share, roughly.",
        "",
        head.replace(" last over first |", ""),
        rule[:-4] if compared else rule,
    ]
    for case in (*PHASES, "ceiling"):
        cells = []
        for revision in revisions:
            cpu = revision["native_cpu_ms_per_call"][case]
            total = cpu["user_ms"] + cpu["system_ms"]
            share = cpu["system_ms"] / total if total else 0.0
            cells.append(f"{cpu['user_ms']:.3f} + {cpu['system_ms']:.3f} ({share:.0%} system)")
        lines.append(f"| {LABELS[case]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--portal-rev", action="append", default=None,
                        help="count the portal of this git revision; repeat to compare (default: the work tree)")
    parser.add_argument("--simulator-from", choices=("worktree", "portal"), default="worktree")
    parser.add_argument("--cold", type=int, default=40, help="cold lookups to count")
    parser.add_argument("--cached", type=int, default=300, help="cached API lookups (and ceiling requests) to count")
    parser.add_argument("--web", type=int, default=100, help="cached web order pages to count")
    parser.add_argument("--settle", type=float, default=4.0,
                        help="seconds each phase waits for the background writers (slowed down by callgrind)")
    parser.add_argument("--no-native", action="store_true",
                        help="count only, without the native run's user and system milliseconds (quicker)")
    parser.add_argument("--latency", type=float, default=0.005, help="simulated F&O latency, seconds")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--name", default="", help="also write bench/results/instructions-<name>.json and .md")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.child:
        return _child()
    for tool in ("valgrind", "gcc"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: apt-get install {tool}", file=sys.stderr)
            return 2
    for rev in args.portal_rev or []:
        if rev and subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=ROOT,
                                  capture_output=True).returncode != 0:
            print(f"not a git revision: {rev}", file=sys.stderr)  # before minutes are spent on the others
            return 2
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as helper_dir:
        helper = build_helper(Path(helper_dir))
        revisions = []
        for rev in args.portal_rev or [""]:
            print(f"counting {rev or 'the work tree'} under callgrind (a few minutes)", flush=True)
            revisions.append(count(rev, args, helper))
            print(json.dumps({k: revisions[-1][k] for k in ("instructions_per_call", "native_cpu_ms_per_call")}),
                  flush=True)
    results = {"finished_at": datetime.now(UTC).isoformat(timespec="seconds"), "revisions": revisions}
    text = markdown(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    names = [f"instructions-{datetime.now(UTC).strftime('%Y-%m-%dT%H%M%SZ')}"]
    if args.name:
        names.append(f"instructions-{args.name}")
    for name in names:
        (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(text)
    print(text)
    print(f"written: bench/results/{names[-1]}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
