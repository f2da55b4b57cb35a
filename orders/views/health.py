"""Liveness, readiness and Prometheus metrics for the IT team's load balancer and monitoring."""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

CHECK_TIMEOUT = 2.0
READY_CACHE_SECONDS = 5.0
_ready_lock = threading.Lock()
_ready_cached: tuple[float, int, dict] | None = None
_checks = ThreadPoolExecutor(max_workers=3, thread_name_prefix="readyz")


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


def _check_fno() -> str:
    from orders import d365
    from orders.odata.client import Deadline
    from orders.odata.query import Query

    query = Query(settings.D365_ENTITY_SALES_ORDERS).selecting("dataAreaId").page(top=1)
    d365.get_odata_client().get_page(query, deadline=Deadline(CHECK_TIMEOUT), request_id="READYZ")
    return "ok"


def _run_checks() -> tuple[int, dict]:
    futures = {name: _checks.submit(check) for name, check in
               (("database", _check_database), ("cache", _check_cache), ("fno", _check_fno))}
    results = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=CHECK_TIMEOUT + 0.5)
        except FutureTimeout:
            results[name] = "timeout"
        except Exception as exc:  # each dependency's failure is reported, never raised
            results[name] = f"fail: {type(exc).__name__}"
    status = 200 if all(v == "ok" for v in results.values()) else 503
    return status, results


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache, and F&O reachable with a valid token. Cached for a few seconds per process."""
    global _ready_cached
    with _ready_lock:
        cached = _ready_cached
        if cached is None or time.monotonic() - cached[0] > READY_CACHE_SECONDS:
            status, results = _run_checks()
            _ready_cached = cached = (time.monotonic(), status, results)
    _, status, results = cached
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", "checks": results}, status=status)


def readyz_forget() -> None:
    global _ready_cached
    _ready_cached = None


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


@require_safe
def ceiling(request: HttpRequest) -> JsonResponse:
    """The benchmark's ceiling: the full middleware stack and a fixed small body, nothing else. Only routed when
    PORTAL_BENCH_CEILING=true."""
    return JsonResponse({"status": "ok", "orders": []})
