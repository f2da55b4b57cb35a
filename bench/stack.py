"""The processes under test: the F&O simulator, the portal under gunicorn as production runs it (PostgreSQL, Redis,
access log, JSON request log, asynchronous audit, Prometheus multiprocess metrics), and the ceiling project under
the same gunicorn settings. The portal runs from the work tree, or from a git revision exported to a temporary
directory (`--portal-rev HEAD`: the code before uncommitted changes, read with `git archive`, nothing checked out).
The simulator stands in for F&O and is not under test: by default it runs from the work tree, whatever the portal's
revision (`--simulator-from portal` runs the one of the portal's revision)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PASSWORD = "bench-password-2026"  # a throw-away user in a throw-away database
NO_LIMIT = "1000000000/m"  # the limiters run as in production but never refuse one benchmark client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


class Stack:
    def __init__(self, args: argparse.Namespace, *, database: str = "portal_bench") -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        try:
            self.source, self.revision = self._source(args.portal_rev)
            self.database = "" if args.database_url else database  # created here, dropped by stop()
            self.database_url = args.database_url or self._database(database)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)  # stop() is for a stack that came up
            raise
        self.sim_url = f"http://127.0.0.1:{free_port()}"
        self.sim_pid = 0
        self.cache_prefix = f"bench{int(time.time())}"
        (self.tmp / "metrics").mkdir()

    def _source(self, rev: str) -> tuple[Path, str]:
        head = subprocess.run(["git", "rev-parse", rev or "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        if not rev:
            dirty = subprocess.run(["git", "status", "--porcelain", "--", "orders", "portal", "templates"],
                                   cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
            return ROOT, f"work tree on {head[:12]}" + (" with uncommitted changes" if dirty else "")
        archive = subprocess.run(["git", "archive", "--format=tar", head], cwd=ROOT, capture_output=True,
                                 check=True).stdout
        target = self.tmp / "src"
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
        return target, head[:12]

    def _database(self, name: str) -> str:
        """A fresh PostgreSQL database for each run."""
        self._psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._psql(f"CREATE DATABASE {name} OWNER portal")
        return f"postgres://portal@127.0.0.1:5432/{name}"

    @staticmethod
    def _psql(sql: str) -> None:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True,
                       capture_output=True)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DJANGO_", "D365_", "GUNICORN_", "PROMETHEUS_", "LOG_", "AUDIT_", "ORDERS_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY=SECRET,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_STATIC_ROOT=str(self.tmp / "static"),
            DATABASE_URL=self.database_url,
            REDIS_URL=self.args.redis_url,
            CACHE_KEY_PREFIX=self.cache_prefix,
            D365_URL=self.sim_url,
            D365_TIMEOUT_SECONDS=str(self.args.timeout),
            API_RATE_LIMIT=NO_LIMIT,
            ORDERS_USER_BUDGET=NO_LIMIT,
            PROMETHEUS_MULTIPROC_DIR=str(self.tmp / "metrics"),
            GUNICORN_WORKERS=str(self.args.workers),
            GUNICORN_THREADS=str(self.args.threads),
        )
        if self.args.max_requests is not None:
            env["GUNICORN_MAX_REQUESTS"] = str(self.args.max_requests)
        return env

    def manage(self, *args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=self.source, env=self.env(), check=True,
                              capture_output=True, text=True).stdout

    def start_simulator(self) -> None:
        port = self.sim_url.rsplit(":", 1)[1]
        command = [sys.executable, "-m", "simulator", "--port", port, "--latency", str(self.args.latency),
                   "--orders", str(self.args.orders)]
        if self.args.sim_nice:
            command = ["nice", "-n", str(self.args.sim_nice), *command]
        cwd = ROOT if self.args.simulator_from == "worktree" else self.source
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                                stderr=(self.tmp / "simulator.log").open("w"))
        self.procs.append(proc)
        self.sim_pid = proc.pid
        wait_for(self.sim_url + "/healthz")

    def _gunicorn(self, app: str, name: str, env: dict[str, str], cwd: Path) -> tuple[str, int]:
        port = free_port()
        env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}",
               "GUNICORN_ACCESSLOG": str(self.tmp / f"{name}-access.log")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", app, "-c", str(self.source / "gunicorn.conf.py")],
            cwd=cwd, env=env, stdout=(self.tmp / f"{name}.out").open("w"), stderr=(self.tmp / f"{name}.err").open("w"),
        )
        self.procs.append(proc)
        return f"http://127.0.0.1:{port}", proc.pid

    def start_portal(self, name: str = "portal") -> tuple[str, int]:
        url, pid = self._gunicorn("portal.wsgi:application", name, self.env(), self.source)
        wait_for(url + "/healthz")
        return url, pid

    def start_ceiling(self) -> tuple[str, int]:
        env = {k: v for k, v in self.env().items() if not k.startswith(("DJANGO_", "PROMETHEUS_"))}
        env["DJANGO_SETTINGS_MODULE"] = "bench.ceiling.settings"
        url, pid = self._gunicorn("bench.ceiling.wsgi:application", "ceiling", env, ROOT)
        wait_for(url + "/order")
        return url, pid

    def sign_in(self, base: str, email: str) -> str:
        with httpx.Client(base_url=base, timeout=10) as client:
            page = client.get("/accounts/login/")
            found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            if found is None:
                raise RuntimeError("no CSRF token on the sign-in page")
            cookies = {c.name: c.value for c in page.cookies.jar}
            response = client.post(
                "/accounts/login/",
                data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": found.group(1)},
                headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
            )
            cookies.update({c.name: c.value for c in response.cookies.jar})
        return f"sessionid={cookies['sessionid']}"

    def customer_of_every_order(self, email: str) -> tuple[list[tuple[str, str, str]], str]:
        """Migrate, and make `email` a customer user of every account the simulator's orders belong to, with an API
        token: the orders (company, number, account) and the token. The simulator must be running."""
        self.manage("migrate", "--noinput")
        # The demo data gives two companies an order 001042 (a number is read in its own company); only usmf's here.
        every = [o for o in orders_of(self.sim_url) if (o[0], o[1]) != ("demf", "001042")]
        command = ["add_customer_user", "--email", email, "--password", PASSWORD]
        for account in sorted({f"{company}:{account}" for company, _, account in every}):
            command += ["--account", account]
        self.manage(*command)
        return every, self.manage("create_api_token", "--email", email).strip()

    def log_lines(self, name: str) -> int:
        path = self.tmp / name
        return sum(1 for _ in path.open("rb")) if path.exists() else 0

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        try:
            import redis

            client = redis.Redis.from_url(self.args.redis_url)
            for key in client.scan_iter(f"{self.cache_prefix}:*", count=1000):
                client.delete(key)
        except Exception as exc:  # cleaning up is best effort
            print(f"could not delete the benchmark's Redis keys: {exc}")
        if self.database:
            try:
                self._psql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            except subprocess.CalledProcessError as exc:
                print(f"could not drop the benchmark's database {self.database}: {exc}")
        shutil.rmtree(self.tmp, ignore_errors=True)


def orders_of(sim_url: str) -> list[tuple[str, str, str]]:
    """(company, order number, customer account) of every order the simulator holds, in its order."""
    answer = httpx.get(sim_url + "/data/SalesOrderHeadersV2", timeout=60, params={
        "cross-company": "true", "$select": "dataAreaId,SalesOrderNumber,OrderingCustomerAccountNumber"})
    answer.raise_for_status()
    return [(r["dataAreaId"], r["SalesOrderNumber"], r["OrderingCustomerAccountNumber"])
            for r in answer.json()["value"]]
