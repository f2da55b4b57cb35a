"""Where a lookup's CPU goes: the cached API order lookup and the cold one (cache miss, read from the simulator), run
N times in this process through the portal's real WSGI application and settings (PostgreSQL, Redis, JSON request
log, asynchronous audit, as `make bench` runs them), under yappi with its CPU clock, which sees every thread: the
request, the parallel F&O reads and the audit writer.

    python -m bench.profiling [--portal-rev HEAD] [--cached 400] [--cold 100] [--name before]

Writes the top 25 functions by cumulative and by own CPU time to bench/results/profile-<stamp>.txt (and to
profile-<name>.txt with --name), after the CPU per lookup measured without the profiler.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import sysconfig
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

if not __package__:  # run as a script rather than python -m bench.profiling
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import ROOT, Stack

RESULTS = ROOT / "bench" / "results"
TOP = 25
CALLERS = 8


def wsgi_get(application: Callable[..., Any], path: str, headers: dict[str, str]) -> int:
    """GET `path` from a WSGI application in this process, as gunicorn would call it; the status code."""
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http", "wsgi.version": (1, 0),
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    status: list[str] = []
    body = application(environ, lambda s, h, exc_info=None: status.append(s))
    try:
        b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return int(status[0].split()[0])


def _cpu_per_call(calls: Sequence[Callable[[], int]], settle: float) -> float:
    """Process CPU (every thread) per call, in ms, without the profiler; waits for the audit writer's batch."""
    started = time.process_time()
    for call in calls:
        if call() != 200:
            raise RuntimeError("a profiled lookup did not answer 200")
    time.sleep(settle)
    return round((time.process_time() - started) * 1000 / len(calls), 3)


def _profiled(calls: Sequence[Callable[[], int]], settle: float, strip: list[str]) -> str:
    import yappi  # type: ignore[import-untyped]  # yappi ships no type information

    yappi.clear_stats()
    yappi.set_clock_type("cpu")
    yappi.start(builtins=False, profile_threads=True)
    for call in calls:
        call()
    time.sleep(settle)
    yappi.stop()
    stats = yappi.convert2pstats(yappi.get_func_stats())

    def printed(title: str, key: str, mark: str, callers: bool = False) -> str:
        buffer = io.StringIO()
        stats.stream = buffer  # pstats.Stats prints to this attribute
        if callers:
            stats.sort_stats(key).print_callers(CALLERS)
        else:
            stats.sort_stats(key).print_stats(TOP)
        text = buffer.getvalue()
        for prefix in strip:
            text = text.replace(prefix, "")
        return f"--- {title} ---\n" + text[text.index(mark):].rstrip() + "\n"

    out = [printed(f"top {TOP} by cumulative CPU time", "cumulative", "   ncalls"),
           printed(f"top {TOP} by own CPU time", "tottime", "   ncalls"),
           printed(f"who calls the top {CALLERS} by own CPU time", "tottime", "Function ", callers=True)]
    yappi.clear_stats()
    return "\n".join(out)


def run(args: argparse.Namespace) -> str:
    args.workers, args.threads, args.max_requests, args.sim_nice, args.timeout = 1, 1, None, 0, 8.0
    stack = Stack(args, database="portal_bench_profile")
    try:
        stack.start_simulator()
        every, token = stack.customer_of_every_order("profile@example.com")
        auth = {"Authorization": f"Bearer {token}"}
        for key in [k for k in os.environ if k.startswith(("DJANGO_", "D365_", "LOG_", "AUDIT_", "ORDERS_"))]:
            del os.environ[key]
        os.environ.update(stack.env())
        sys.path.insert(0, str(stack.source))
        # The JSON request log goes to standard error, as under gunicorn: written, but not onto this terminal.
        log = os.open(stack.tmp / "profile.log", os.O_WRONLY | os.O_CREAT)
        saved = os.dup(2)
        os.dup2(log, 2)
        try:
            from portal.wsgi import application

            return _measure(application, stack, every, auth, args)
        finally:
            os.dup2(saved, 2)
    finally:
        stack.stop()


def _measure(application: Callable[..., Any], stack: Stack, every: list[tuple[str, str, str]],
             auth: dict[str, str], args: argparse.Namespace) -> str:
    hot = f"/api/v1/orders/{every[0][0]}/{every[0][1]}"
    cold = iter(f"/api/v1/orders/{c}/{n}" for c, n, _ in every[1:])
    for _ in range(50):
        wsgi_get(application, hot, auth)  # warm: the copy, the token check, imports, connections
    wsgi_get(application, next(cold), auth)
    cached = [partial(wsgi_get, application, hot, auth)] * args.cached
    paths = sysconfig.get_paths()
    strip = sorted([f"{stack.source}/", f"{ROOT}/", f"{paths['purelib']}/", f"{paths['stdlib']}/"], key=len,
                   reverse=True)  # the longest first: site-packages lies inside the work tree

    def colds() -> Sequence[Callable[[], int]]:
        return [partial(wsgi_get, application, next(cold), auth) for _ in range(args.cold)]

    cached_cpu, cold_cpu = _cpu_per_call(cached, 1.0), _cpu_per_call(colds(), 1.0)
    sections = [
        f"# Profile {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"portal source: {stack.revision}; one process, the WSGI application called directly (no gunicorn, no "
        f"HTTP parsing, no access log); PostgreSQL, Redis, JSON request log, asynchronous audit as in production; "
        f"simulator latency {args.latency * 1000:g} ms (a sleep: no CPU).",
        f"CPU per lookup without the profiler (every thread of the process): cached API {cached_cpu} ms over "
        f"{args.cached}, cold {cold_cpu} ms over {args.cold}. The profiles below (yappi, CPU clock, all threads) "
        "run the same calls again with the profiler's own overhead.",
        f"\n## Cached API order lookup, {args.cached} calls\n", _profiled(cached, 1.0, strip),
        f"\n## Cold API order lookup (cache miss, read from the simulator), {args.cold} calls\n",
        _profiled(colds(), 1.0, strip),
    ]
    return "\n".join(sections) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portal-rev", default="", help="profile the portal of this git revision (e.g. HEAD)")
    parser.add_argument("--simulator-from", choices=("worktree", "portal"), default="worktree")
    parser.add_argument("--cached", type=int, default=400, help="cached lookups to run")
    parser.add_argument("--cold", type=int, default=100, help="cold lookups to run")
    parser.add_argument("--latency", type=float, default=0.02, help="simulated F&O latency, seconds")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--name", default="", help="also copy to bench/results/profile-<name>.txt")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    args = parser.parse_args(argv)
    text = run(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"profile-{datetime.now(UTC).strftime('%Y-%m-%dT%H%M%SZ')}.txt"
    path.write_text(text)
    if args.name:
        shutil.copyfile(path, RESULTS / f"profile-{args.name}.txt")
    print(text)
    print(f"written: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
