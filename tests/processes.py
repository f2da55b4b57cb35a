"""Start real portal processes (gunicorn, production settings) that share one Redis, for multi-instance tests."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# Database 10: the test settings give pytest-xdist workers 15, 14, ... for their own cache (each flushes its own).
REDIS_URL = os.environ.get("TEST_MULTI_REDIS_URL", "redis://127.0.0.1:6379/10")
# This test process's own (each pytest-xdist worker, each of two runs side by side): built once, removed at exit.
_RUN_DIR = Path(tempfile.mkdtemp(prefix="fno-portal-test-"))
atexit.register(shutil.rmtree, _RUN_DIR, ignore_errors=True)
STATIC_ROOT = Path(os.environ["TEST_STATIC_ROOT"]) if os.environ.get("TEST_STATIC_ROOT") else _RUN_DIR / "static"
_MIGRATED = _RUN_DIR / "migrated.sqlite3"
_done: set[str] = set()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp: Path, d365_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "D365_", "PYTEST"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="multi-process-test-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"sqlite:///{tmp / 'portal.sqlite3'}",
        DJANGO_STATIC_ROOT=str(STATIC_ROOT),
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX=f"t{os.getpid()}{int(time.time())}",
        D365_URL=d365_url,
        D365_TIMEOUT_SECONDS="3",
        API_RATE_LIMIT="off",
        GUNICORN_ACCESSLOG="",
    )
    env.update(extra)
    return env


def prepare(env: dict[str, str]) -> None:
    """What a deployment does before starting the app: migrate and collect static files. The shared STATIC_ROOT is
    collected once per test process; a test with a STATIC_ROOT of its own gets a collectstatic of its own."""
    migrate(env)
    static_root = env["DJANGO_STATIC_ROOT"]
    if static_root != str(STATIC_ROOT) or "static" not in _done:
        manage(env, "collectstatic", "--noinput")
        if static_root == str(STATIC_ROOT):
            _done.add("static")


def migrate(env: dict[str, str]) -> None:
    """`manage.py migrate` into the env's new SQLite file: run once per test process, then copied (a copy of a
    migrated database is what migrate would have made, for a fraction of the CPU)."""
    url = env["DATABASE_URL"]
    target = Path(url.removeprefix("sqlite:///"))
    if not url.startswith("sqlite:///") or target.exists():
        manage(env, "migrate", "--noinput")
        return
    if "migrated" not in _done:
        manage({**env, "DATABASE_URL": f"sqlite:///{_MIGRATED}"}, "migrate", "--noinput")
        _done.add("migrated")
    shutil.copyfile(_MIGRATED, target)


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


@contextmanager
def portal_processes(count: int, env: dict[str, str], *, threads: int = 16,
                     log: Path | None = None) -> Iterator[list[str]]:
    procs, urls = [], []
    sink = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        for _ in range(count):
            port = _free_port()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "-c", "gunicorn.conf.py",
                 "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", str(threads)],
                cwd=ROOT, env=env, stdout=sink, stderr=sink,
            ))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"portal at {url} did not start")
                time.sleep(0.2)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if log:
            sink.close()
