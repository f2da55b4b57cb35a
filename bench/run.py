"""`make bench`: the portal under gunicorn with production settings and Redis, against the F&O simulator with a
set latency, driven from separate processes (wrk for throughput, an asyncio httpx client for open-loop load).

Writes bench/results/<timestamp>.json and .md. Throughput is also given as a ratio to a bare Django view measured
in the same run, because this 2-core machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

from simulator import data as sim_data  # noqa: E402  (the simulator's own demo data, to know real order numbers)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.procs: list[subprocess.Popen] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
        self.sim_url = f"http://127.0.0.1:{free_port()}"
        self.cache_prefix = f"bench{int(time.time())}"  # one prefix: every instance shares the same Redis keys
        self.results: dict = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "cases": {}}

    # Processes ---------------------------------------------------------------------------------------------------
    def start_simulator(self) -> None:
        port = self.sim_url.rsplit(":", 1)[1]
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "simulator", "--port", port, "--latency", str(self.args.latency),
             "--orders", str(self.args.orders)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
        wait_for(self.sim_url + "/healthz")
        httpx.post(self.sim_url + "/_sim/faults", json={"latency": self.args.latency})

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "D365_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_STATIC_ROOT=str(self.tmp / "static"),
            DATABASE_URL=self.args.database_url or f"sqlite:///{self.tmp / 'bench.sqlite3'}",
            REDIS_URL=self.args.redis_url,
            CACHE_KEY_PREFIX=self.cache_prefix,
            GUNICORN_MAX_REQUESTS="0",
            D365_URL=self.sim_url,
            D365_TIMEOUT_SECONDS=str(self.args.timeout),
            API_RATE_LIMIT="off",
            PORTAL_BENCH_CEILING="true",
            LOG_LEVEL="WARNING",
            GUNICORN_ACCESSLOG="",
        )
        return env

    def manage(self, *args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env(), check=True,
                              capture_output=True, text=True).stdout

    def start_portal(self) -> str:
        port = free_port()
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "-c", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "--workers", str(self.args.workers), "--threads",
             str(self.args.threads), "--log-level", "warning"],
            cwd=ROOT, env=self.env(), stdout=subprocess.DEVNULL, stderr=(self.tmp / f"gunicorn-{port}.log").open("w"),
        ))
        url = f"http://127.0.0.1:{port}"
        wait_for(url + "/healthz")
        return url

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fno_calls(self) -> int:
        return httpx.get(self.sim_url + "/_sim/stats").json()["total"]

    def fno_header_calls(self) -> int:
        return httpx.get(self.sim_url + "/_sim/stats").json()["calls"].get("SalesOrderHeadersV2", 0)

    # Load --------------------------------------------------------------------------------------------------------
    def wrk(self, url: str, *, headers: dict[str, str] | None = None) -> dict:
        command = ["wrk", "-t2", f"-c{self.args.connections}", "--timeout", "10s",
                   "-s", str(ROOT / "bench" / "report.lua")]
        for name, value in (headers or {}).items():
            command += ["-H", f"{name}: {value}"]
        # Two seconds of warm-up (connections, worker caches), then the measured run.
        subprocess.run([*command, "-d2s", url], capture_output=True, check=True)
        out = subprocess.run([*command, f"-d{self.args.seconds}s", url], capture_output=True, text=True,
                             check=True).stdout
        raw = json.loads(out.split("BENCHJSON ", 1)[1].splitlines()[0])
        seconds = raw["duration_us"] / 1e6
        return {
            "rps": round(raw["requests"] / seconds, 1),
            "p50_ms": raw["p50_us"] / 1000, "p95_ms": raw["p95_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
            "requests": raw["requests"], "errors": raw["socket_errors"] + raw["status_errors"],
        }

    async def concurrent(self, urls: list[str], headers: dict[str, str], *, concurrency: int) -> dict:
        pool = RawPool(headers)
        semaphore = asyncio.Semaphore(concurrency)

        async def one(url: str) -> tuple[float, int]:
            async with semaphore:
                return await pool.get(url, time.perf_counter())

        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one(u) for u in urls))
        elapsed = time.perf_counter() - started
        await pool.close()
        return self._summary(outcomes, elapsed)

    async def open_loop(self, pick, headers: dict[str, str], *, rate: float, seconds: float) -> dict:
        """Requests at a fixed rate whatever the answers' latency (no coordinated omission). Latency counts from the
        scheduled send time. A bare keep-alive HTTP/1.1 client: httpx's own cost would make the generator, not the
        portal, the bottleneck at this rate on two cores."""
        total = int(rate * seconds)
        pool = RawPool(headers)
        started = time.perf_counter()
        tasks = []
        for i in range(total):
            scheduled = started + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(pool.get(pick(i), scheduled)))
        outcomes = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        await pool.close()
        result = self._summary(outcomes, elapsed)
        result["generator_lag_ms_p99"] = round(percentile(pool.lags, 0.99), 1)
        result["connection_failures"] = pool.failures
        return result

    @staticmethod
    def _summary(outcomes: list[tuple[float, int]], elapsed: float) -> dict:
        latencies = [ms for ms, _ in outcomes]
        statuses: dict[str, int] = {}
        for _, status in outcomes:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        return {
            "requests": len(outcomes),
            "rps": round(len(outcomes) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "statuses": statuses,
            "errors": sum(n for s, n in statuses.items() if s != "200"),
        }

    # The run -----------------------------------------------------------------------------------------------------
    def database(self) -> None:
        """PostgreSQL as production runs it, in a fresh database for each run (SQLite only if psql is missing)."""
        if self.args.database_url or not shutil.which("psql"):
            return
        for sql in ("DROP DATABASE IF EXISTS portal_bench", "CREATE DATABASE portal_bench OWNER portal"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True,
                           capture_output=True)
        self.args.database_url = "postgres://portal@127.0.0.1:5432/portal_bench"

    def run(self) -> dict:
        args = self.args
        self.database()
        self.start_simulator()
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        dataset = sim_data.build(orders=args.orders)
        headers_rows = dataset.tables["SalesOrderHeadersV2"]
        accounts = sorted({f"{r['dataAreaId']}:{r['OrderingCustomerAccountNumber']}" for r in headers_rows})
        command = ["add_customer_user", "--email", "bench@example.com", "--password", "bench-password-2026"]
        for account in accounts:
            command += ["--account", account]
        self.manage(*command)
        token = self.manage("create_api_token", "--email", "bench@example.com").strip()
        auth = {"Authorization": f"Bearer {token}"}
        orders = [(r["dataAreaId"], r["SalesOrderNumber"]) for r in headers_rows
                  if not (r["dataAreaId"] == "demf" and r["SalesOrderNumber"] == "001042")]
        hot = orders[:20]
        cold = iter(orders[20:])
        a = self.start_portal()
        cases = self.results["cases"]
        self.results["settings"] = {
            "fno_latency_ms": args.latency * 1000, "workers": args.workers, "threads": args.threads,
            "wrk_connections": args.connections, "seconds_per_throughput_case": args.seconds,
            "d365_timeout_seconds": args.timeout, "orders_in_simulator": args.orders,
            "database": "postgresql" if args.database_url else "sqlite", "cache": "redis",
            "cpus": os.cpu_count(),
        }

        print("ceiling: bare Django view", flush=True)
        cases["ceiling"] = self.wrk(f"{a}/bench/ceiling")

        print("cached order through the API", flush=True)
        company, number = hot[0]
        httpx.get(f"{a}/api/v1/orders/{company}/{number}", headers=auth, timeout=10)
        cases["cached_order_api"] = self.wrk(f"{a}/api/v1/orders/{company}/{number}", headers=auth)

        print("cached order through the web page", flush=True)
        cookie = self.sign_in(a)
        httpx.get(f"{a}/orders/{company}/{number}/", headers={"Cookie": cookie}, timeout=10)
        cases["cached_order_web"] = self.wrk(f"{a}/orders/{company}/{number}/", headers={"Cookie": cookie})

        print("order list (cached) through the API", flush=True)
        httpx.get(f"{a}/api/v1/orders", headers=auth, timeout=10)
        cases["order_list_api"] = self.wrk(f"{a}/api/v1/orders", headers=auth)

        print("cold orders (no cached copy), 10 at a time", flush=True)
        calls_before = self.fno_calls()
        urls = [f"{a}/api/v1/orders/{c}/{n}" for c, n in (next(cold) for _ in range(args.cold))]
        cases["cold_order_api"] = asyncio.run(self.concurrent(urls, auth, concurrency=10))
        cases["cold_order_api"]["fno_calls_per_lookup"] = round((self.fno_calls() - calls_before) / len(urls), 2)

        print("herd: 200 concurrent requests for one cold order over 2 instances", flush=True)
        b = self.start_portal()
        company, number = next(cold)
        before = self.fno_header_calls()
        urls = [f"{(a, b)[i % 2]}/api/v1/orders/{company}/{number}" for i in range(200)]
        cases["herd"] = asyncio.run(self.concurrent(urls, auth, concurrency=200))
        cases["herd"]["fno_order_reads"] = self.fno_header_calls() - before

        print(f"sustained mix: {args.rate}/s for {args.mix_seconds} s, 20% cold", flush=True)
        cold_pool = [next(cold) for _ in range(int(args.rate * args.mix_seconds * 0.2) + 10)]
        cold_iter = iter(cold_pool)

        def pick(i: int) -> str:
            base = (a, b)[i % 2]
            company, number = next(cold_iter) if i % 5 == 0 else hot[i % len(hot)]
            return f"{base}/api/v1/orders/{company}/{number}"

        calls_before = self.fno_calls()
        mix = asyncio.run(self.open_loop(pick, auth, rate=args.rate, seconds=args.mix_seconds))
        mix["fno_calls_per_1000_lookups"] = round((self.fno_calls() - calls_before) * 1000 / mix["requests"], 1)
        cases["sustained_mix"] = mix

        print("outage: F&O hangs", flush=True)
        httpx.post(self.sim_url + "/_sim/faults", json={"hang": True})
        urls = [f"{a}/api/v1/orders/{c}/{n}" for c, n in (next(cold) for _ in range(10))]
        cases["outage_circuit_closed"] = asyncio.run(self.concurrent(urls, auth, concurrency=10))
        # Once open, answers must be immediate: measured at a steady 50 lookups/s, not at saturation (which would
        # measure queueing, not the breaker).
        open_pool = [next(cold) for _ in range(250)]
        cases["outage_circuit_open"] = asyncio.run(self.open_loop(
            lambda i: f"{(a, b)[i % 2]}/api/v1/orders/{open_pool[i][0]}/{open_pool[i][1]}", auth, rate=50, seconds=4))
        httpx.delete(self.sim_url + "/_sim/faults")
        return self.results

    def sign_in(self, base: str) -> str:
        with httpx.Client(base_url=base) as client:
            page = client.get("/accounts/login/")
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            cookies = {c.name: c.value for c in page.cookies.jar}
            response = client.post(
                "/accounts/login/",
                data={"username": "bench@example.com", "password": "bench-password-2026", "csrfmiddlewaretoken": csrf},
                headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
            )
            cookies.update({c.name: c.value for c in response.cookies.jar})
        return f"sessionid={cookies['sessionid']}"


class RawPool:
    """Keep-alive HTTP/1.1 connections per host, just enough for GET requests with Content-Length answers."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self.lags: list[float] = []
        self.failures: dict[str, int] = {}

    async def get(self, url: str, scheduled: float) -> tuple[float, int]:
        self.lags.append((time.perf_counter() - scheduled) * 1000)
        parts = httpx.URL(url)
        target = (parts.host, parts.port)
        request = (f"GET {parts.raw_path.decode()} HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\n"
                   f"{self.extra}\r\n").encode()
        idle = self.idle.setdefault(target, [])
        status = 0
        for attempt in range(2):
            reused = bool(idle) and attempt == 0
            try:
                reader, writer = idle.pop() if reused else await asyncio.open_connection(*target)
                writer.write(request)
                await writer.drain()
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
                status = int(head.split(b" ", 2)[1])
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                await reader.readexactly(length)
                idle.append((reader, writer))
                break
            except (TimeoutError, OSError, asyncio.IncompleteReadError, AttributeError, ValueError) as exc:
                status = 0
                name = f"{type(exc).__name__}{' (kept-alive, retried)' if reused else ''}"
                self.failures[name] = self.failures.get(name, 0) + 1
                if not reused:
                    break  # a fresh connection failed: that is the answer; a kept-alive one may just have closed
        return (time.perf_counter() - scheduled) * 1000, status

    async def close(self) -> None:
        for connections in self.idle.values():
            for _, writer in connections:
                writer.close()


def verdicts(results: dict) -> list[dict]:
    cases = results["cases"]
    ceiling = cases["ceiling"]["rps"]
    for name, case in cases.items():
        if "rps" in case and name != "ceiling":
            case["ratio_to_ceiling"] = round(case["rps"] / ceiling, 3) if ceiling else None
    latency = results["settings"]["fno_latency_ms"]
    timeout_ms = results["settings"]["d365_timeout_seconds"] * 1000
    checks = [
        ("cached order through the API runs at >= 0.6 of the ceiling", cases["cached_order_api"]["ratio_to_ceiling"],
         ">=", 0.6),
        ("a cold lookup adds <= 10 ms at p50 over the simulator's latency (ms added)",
         round(cases["cold_order_api"]["p50_ms"] - latency, 1), "<=", 10),
        ("the herd causes exactly 1 F&O read of the order", cases["herd"]["fno_order_reads"], "==", 1),
        ("the sustained mix has 0 errors", cases["sustained_mix"]["errors"], "==", 0),
        ("the sustained mix has p95 <= 250 ms", cases["sustained_mix"]["p95_ms"], "<=", 250),
        ("outage, circuit closed: p99 <= timeout + 100 ms", cases["outage_circuit_closed"]["p99_ms"], "<=",
         timeout_ms + 100),
        ("outage, circuit open: p99 <= 20 ms", cases["outage_circuit_open"]["p99_ms"], "<=", 20),
    ]
    out = []
    for label, value, op, target in checks:
        met = {"<=": value <= target, ">=": value >= target, "==": value == target}[op]
        out.append({"target": label, "value": value, "goal": f"{op} {target}", "met": met,
                    "missed_by": None if met else round(abs(value - target), 3)})
    return out


def markdown(results: dict) -> str:
    settings = ", ".join(f"{k}={v}" for k, v in results["settings"].items())
    lines = [
        f"# Benchmark {results['started_at']}", "", f"Settings: {settings}", "",
        "| case | req/s | ratio to ceiling | p50 ms | p95 ms | p99 ms | errors | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, case in results["cases"].items():
        notes = ", ".join(f"{k}={v}" for k, v in case.items() if k in (
            "fno_calls_per_lookup", "fno_order_reads", "fno_calls_per_1000_lookups", "statuses"))
        lines.append(f"| {name} | {case.get('rps')} | {case.get('ratio_to_ceiling', '')} | {case['p50_ms']} | "
                     f"{case['p95_ms']} | {case['p99_ms']} | {case.get('errors')} | {notes} |")
    lines += ["", "| target | value | goal | met | missed by |", "|---|---|---|---|---|"]
    for v in results["verdicts"]:
        lines.append(f"| {v['target']} | {v['value']} | {v['goal']} | {'yes' if v['met'] else 'NO'} | "
                     f"{v['missed_by'] if v['missed_by'] is not None else ''} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.15, help="simulated F&O latency, seconds")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each throughput case")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--cold", type=int, default=200, help="cold lookups to time")
    parser.add_argument("--rate", type=float, default=140, help="lookups per second in the sustained mix")
    parser.add_argument("--mix-seconds", type=int, default=120)
    parser.add_argument("--orders", type=int, default=6000, help="orders in the simulator (enough cold ones)")
    parser.add_argument("--timeout", type=float, default=2.0, help="D365_TIMEOUT_SECONDS for the portal")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    args = parser.parse_args()
    bench = Bench(args)
    try:
        results = bench.run()
    finally:
        bench.stop()
    results["verdicts"] = verdicts(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    (RESULTS / f"{stamp}.md").write_text(markdown(results))
    print(markdown(results))
    print(f"written: bench/results/{stamp}.json and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
