"""Liveness, readiness and Prometheus metrics for the IT team's load balancer and monitoring."""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from orders.fno_link import fno_breaker_state, fno_probe

CHECK_TIMEOUT = 2.0
READY_CACHE_SECONDS = 3.0
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No database, cache or F&O, so a dependency outage never restarts us."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # this runs on a helper thread, outside any request that would close it
    return "ok"


def _check_cache() -> str:
    key, value = f"readyz:{os.getpid()}:{threading.get_ident()}", secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    # django-redis ignores connection errors (a cache outage must not take pages down), so read back to know.
    if cache.get(key) != value:
        raise ConnectionError("cache did not return what was written")
    return "ok"


def _check_fno() -> dict[str, object]:
    probe = fno_probe(timeout=CHECK_TIMEOUT)
    breaker = fno_breaker_state()
    return {"state": probe.state, "latency_ms": probe.latency_ms, "breaker": breaker.state,
            "backoff_seconds": round(breaker.backoff_for, 1)}


@dataclass(frozen=True)
class Readiness:
    status: int
    checks: dict[str, object]
    at: float


class ReadinessProbe:
    """Runs its checks at most once per `max_age` seconds per process, one refresher at a time.

    The request that finds the last result too old and wins a non-blocking try-lock refreshes it, each check
    bounded by `timeout`; concurrent probes answer from the last result meanwhile, so a slow dependency never ties
    up more than one worker thread. A check still running from an earlier refresh is not started again.
    """

    def __init__(self, checks: Callable[[], dict[str, Callable[[], object]]], *, max_age: float,
                 timeout: float, ok: Callable[[dict[str, object]], bool]) -> None:
        self._checks = checks
        self._max_age = max_age
        self._timeout = timeout
        self._ok = ok
        self._refreshing = threading.Lock()
        self._last: Readiness | None = None
        self._running: dict[str, Future[object]] = {}

    def answer(self) -> Readiness | None:
        """The current result, or None while the very first check runs on another thread."""
        last = self._last
        if last is not None and time.monotonic() - last.at < self._max_age:
            return last
        if not self._refreshing.acquire(blocking=False):
            return last
        try:
            last = self._last
            if last is None or time.monotonic() - last.at >= self._max_age:
                last = self._last = self._run()
            return last
        finally:
            self._refreshing.release()

    def forget(self) -> None:
        self._last = None

    def _run(self) -> Readiness:
        futures: dict[str, Future[object] | None] = {}
        for name, check in self._checks().items():
            previous = self._running.get(name)
            if previous is not None and not previous.done():
                futures[name] = None
                continue
            futures[name] = self._running[name] = _checks.submit(check)
        started = time.monotonic()
        results: dict[str, object] = {}
        for name, future in futures.items():
            if future is None:
                results[name] = "timeout"  # the previous check of this dependency is still hanging
                continue
            try:
                results[name] = future.result(timeout=max(0.0, self._timeout - (time.monotonic() - started)))
            except FutureTimeout:
                results[name] = "timeout"
            except Exception as exc:  # each dependency's failure is reported, never raised
                results[name] = f"fail: {type(exc).__name__}"
        return Readiness(200 if self._ok(results) else 503, results, time.monotonic())


def _serving_checks() -> dict[str, Callable[[], object]]:
    checks: dict[str, Callable[[], object]] = {"database": _check_database}
    if settings.REDIS_URL:
        # Without Redis the cache is this process's memory: nothing to be down.
        checks["cache"] = _check_cache
    return checks


def _all_ok(results: dict[str, object]) -> bool:
    return all(v == "ok" or (isinstance(v, dict) and v.get("state") == "ok") for v in results.values())


_ready = ReadinessProbe(_serving_checks, max_age=READY_CACHE_SECONDS, timeout=CHECK_TIMEOUT, ok=_all_ok)
_deep = ReadinessProbe(lambda: {**_serving_checks(), "fno": _check_fno}, max_age=READY_CACHE_SECONDS,
                       timeout=CHECK_TIMEOUT + 0.5, ok=_all_ok)


def _bearer_refusal(request: HttpRequest, realm: str) -> HttpResponse | None:
    """None when the request carries `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time."""
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        response = HttpResponse(f"{realm} needs Authorization: Bearer <METRICS_TOKEN>\n", status=401,
                                content_type="text/plain")
        response["WWW-Authenticate"] = f'Bearer realm="{realm}"'
        return response
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return HttpResponse("wrong token\n", status=403, content_type="text/plain")
    return None


@require_safe
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: this instance can serve pages (database, and Redis when configured).

    F&O is not part of it: during an F&O outage the portal serves stale copies and honest pages, which is exactly
    when it must stay in rotation. `?deep=1`, for monitoring with the METRICS_TOKEN, adds F&O's state.
    """
    probe = _ready
    if request.GET.get("deep"):
        refused = _bearer_refusal(request, "readyz-deep")
        if refused is not None:
            return refused
        probe = _deep
    result = probe.answer()
    if result is None:
        return JsonResponse({"status": "checking", "checks": {}}, status=503)
    return JsonResponse({"status": "ok" if result.status == 200 else "unavailable", "checks": result.checks},
                        status=result.status)


def readyz_forget() -> None:
    _ready.forget()
    _deep.forget()


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
        response = HttpResponse("metrics need Authorization: Bearer <METRICS_TOKEN>\n", status=401,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    from orders.metrics import BreakerCollector

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    output = generate_latest(registry) + generate_latest(BreakerCollector.registry())
    return HttpResponse(output, content_type=CONTENT_TYPE_LATEST)
