"""F&O call statistics for the staff health page: latency percentiles and error, timeout and 429 rates per entity
set, and calls per minute, from the calls the audit recorded (orders.models.FnoCall)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncMinute

from orders.models import FnoCall

ERROR_OUTCOMES = ("server_error", "transport_failed", "connect_error", "transport_error", "malformed_response",
                  "request_rejected", "authentication_failed")
TIMEOUT_OUTCOMES = ("timeout",)
THROTTLED_OUTCOMES = ("throttled",)


@dataclass(frozen=True)
class WindowStats:
    entity_set: str
    window: str
    calls: int
    error_rate: float
    timeout_rate: float
    throttled_rate: float
    p50_ms: int | None
    p95_ms: int | None
    p99_ms: int | None


@dataclass(frozen=True)
class MinutePoint:
    minute: datetime
    calls: int
    failures: int
    max_ms: int


def _percentile(rows: QuerySet[FnoCall], fraction: float, count: int) -> int | None:
    if not count:
        return None
    offset = min(count - 1, int(fraction * count))
    latency: int = rows.order_by("latency_ms").values_list("latency_ms", flat=True)[offset]
    return latency


def fno_window_stats(*, now: datetime | None = None) -> list[WindowStats]:
    now = now or datetime.now(UTC)
    result = []
    windows = [("5 min", timedelta(minutes=5)), ("1 hour", timedelta(hours=1)), ("24 hours", timedelta(hours=24))]
    entity_sets = sorted(
        FnoCall.objects.filter(at__gte=now - timedelta(hours=24)).values_list("entity_set", flat=True).distinct()
    )
    for entity_set in entity_sets:
        for label, span in windows:
            rows = FnoCall.objects.filter(entity_set=entity_set, at__gte=now - span)
            totals = rows.aggregate(
                calls=Count("id"),
                errors=Count("id", filter=Q(outcome__in=ERROR_OUTCOMES)),
                timeouts=Count("id", filter=Q(outcome__in=TIMEOUT_OUTCOMES)),
                throttled=Count("id", filter=Q(outcome__in=THROTTLED_OUTCOMES)),
            )
            calls = totals["calls"]
            result.append(WindowStats(
                entity_set=entity_set,
                window=label,
                calls=calls,
                error_rate=totals["errors"] / calls if calls else 0.0,
                timeout_rate=totals["timeouts"] / calls if calls else 0.0,
                throttled_rate=totals["throttled"] / calls if calls else 0.0,
                p50_ms=_percentile(rows, 0.50, calls),
                p95_ms=_percentile(rows, 0.95, calls),
                p99_ms=_percentile(rows, 0.99, calls),
            ))
    return result


def fno_minutes(*, minutes: int = 60, now: datetime | None = None) -> dict[str, list[MinutePoint]]:
    now = now or datetime.now(UTC)
    start = (now - timedelta(minutes=minutes - 1)).replace(second=0, microsecond=0)
    rows = (
        FnoCall.objects.filter(at__gte=start)
        .annotate(minute=TruncMinute("at"))
        .values("entity_set", "minute")
        .annotate(
            calls=Count("id"),
            failures=Count("id", filter=~Q(outcome="ok")),
            max_ms=Max("latency_ms"),
        )
    )
    series: dict[str, dict[datetime, MinutePoint]] = {}
    for row in rows:
        series.setdefault(row["entity_set"], {})[row["minute"]] = MinutePoint(
            row["minute"], row["calls"], row["failures"], row["max_ms"] or 0
        )
    filled: dict[str, list[MinutePoint]] = {}
    for entity_set, points in sorted(series.items()):
        filled[entity_set] = [
            points.get(start + timedelta(minutes=i), MinutePoint(start + timedelta(minutes=i), 0, 0, 0))
            for i in range(minutes)
        ]
    return filled
