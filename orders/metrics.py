"""Prometheus metrics. Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (see gunicorn.conf.py)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("portal_requests_total", "HTTP requests answered", ["view", "method", "status"])
REQUEST_SECONDS = Histogram(
    "portal_request_seconds", "Time to answer an HTTP request", ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
FNO_CALLS = Counter("fno_calls_total", "HTTP exchanges with F&O", ["entity_set", "outcome"])
FNO_SECONDS = Histogram(
    "fno_call_seconds", "Latency of HTTP exchanges with F&O", ["entity_set"],
    buckets=(0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 4, 8, 16),
)
CACHE_EVENTS = Counter("orders_cache_events_total", "Order and list lookups by cache outcome", ["event"])
TOKEN_REFRESHES = Counter("fno_token_refreshes_total", "Access tokens acquired from the identity provider")


def cache_event(event: str) -> None:
    CACHE_EVENTS.labels(event=event).inc()


def fno_call(entity_set: str, outcome: str, seconds: float) -> None:
    FNO_CALLS.labels(entity_set=entity_set, outcome=outcome).inc()
    FNO_SECONDS.labels(entity_set=entity_set).observe(seconds)
