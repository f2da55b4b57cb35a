"""Prometheus metrics. Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (see gunicorn.conf.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric

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
AUDIT_LOST = Counter(
    "portal_audit_records_lost_total", "Audit records (lookups, F&O calls) never written, by why", ["reason"],
)
HISTORY_LOST = Counter(
    "portal_history_records_lost_total", "Promise dates and last-seen records never written, by why", ["reason"],
)


def cache_event(event: str) -> None:
    CACHE_EVENTS.labels(event=event).inc()


def fno_call(entity_set: str, outcome: str, seconds: float) -> None:
    FNO_CALLS.labels(entity_set=entity_set, outcome=outcome).inc()
    FNO_SECONDS.labels(entity_set=entity_set).observe(seconds)


class BreakerCollector:
    """The circuit breaker's state, read from the shared cache at scrape time (one value for every instance)."""

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        from orders.resilience.breaker import breaker_state

        state = breaker_state()
        gauge = GaugeMetricFamily("fno_circuit_state", "F&O circuit breaker: 0 closed, 1 half-open, 2 open")
        gauge.add_metric([], {"closed": 0, "half_open": 1, "open": 2}[state.state])
        yield gauge
        backoff = GaugeMetricFamily("fno_backoff_seconds", "Seconds left of the back-off F&O asked for")
        backoff.add_metric([], state.backoff_for)
        yield backoff

    @classmethod
    def registry(cls) -> CollectorRegistry:
        from prometheus_client import CollectorRegistry

        registry = CollectorRegistry(auto_describe=False)
        registry.register(cls())
        return registry
