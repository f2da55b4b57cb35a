"""The lookup audit: what each request saw, for support's reference-code replay and the F&O health page.

Writes go through a background writer (orders.batch_writer), so a lookup never waits on an insert: batched, written
first when the process exits normally, lost only in a hard crash (normally the last second of records). A
record that is never written is logged and counted in portal_audit_records_lost_total. With AUDIT_WRITE_MODE=sync
(tests) every record is written at once.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest

from orders import metrics
from orders.audit_rows import rows_write
from orders.batch_writer import BatchWriter
from orders.client_address import client_address
from orders.memo import ObjectMemo
from orders.models import FnoCall, LookupAudit, LookupSnapshot

if TYPE_CHECKING:
    # Only the record's type: the audit keeps what d365 observed of F&O calls and never calls F&O itself, so
    # the views that record lookups import nothing of the OData client through it.
    from orders.odata.client import CallRecord

logger = logging.getLogger("orders.audit")

# ("audit", the LookupAudit fields, its snapshot or None) or ("call", a CallRecord, when it was observed).
_Item = tuple[str, Any, Any]

_payloads: ObjectMemo[tuple[str, str]] = ObjectMemo()
_calls: contextvars.ContextVar[list[CallRecord] | None] = contextvars.ContextVar("fno_calls", default=None)


def calls_capture_start() -> list[CallRecord]:
    captured: list[CallRecord] = []
    _calls.set(captured)
    return captured


def calls_captured() -> list[CallRecord]:
    return list(_calls.get() or [])


def call_observed(record: CallRecord) -> None:
    """d365's listener: every F&O exchange joins the current request's capture and the health record."""
    captured = _calls.get()
    if captured is not None:
        captured.append(record)
    _writer.put(("call", record, datetime.now(UTC)))


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def snapshot_payload(kind: str, rows: Any) -> tuple[str, str]:
    body = json.dumps({"kind": kind, "rows": rows}, default=_json_default, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest(), body


def _clean(text: str, limit: int) -> str:
    # Paths and parameters are user input: no NULs or other control characters in the audit (PostgreSQL refuses NUL).
    text = text[:limit]
    return text if text.isprintable() else "".join(ch if ch.isprintable() else "\ufffd" for ch in text)


def lookup_record(
    request: HttpRequest,
    *,
    channel: str,
    kind: str,
    outcome: str,
    status_code: int,
    company: str = "",
    order_number: str = "",
    query: dict[str, str] | None = None,
    lookup: Any = None,
    problem: str = "",
    user_id: int | None = None,
) -> None:
    calls = calls_captured()
    started = getattr(request, "started_at", time.monotonic())
    snapshot = None
    if lookup is not None:
        value = lookup.value
        rows = getattr(value, "rows", None)
        if rows:
            digest, body = _payloads.get(value, kind, lambda: snapshot_payload(kind, rows))
            snapshot = (digest, kind, body)
    if user_id is None and getattr(request, "user", None) is not None and request.user.is_authenticated:
        user_id = request.user.pk
    # A plain dict here; the writer builds the model off the request's path.
    audit = dict(
        reference=getattr(request, "reference", ""),
        at=datetime.now(UTC),
        user_id=user_id,
        client_address=client_address(request) or None,
        channel=channel,
        kind=kind,
        path=_clean(request.path, 300),
        company=_clean(company, 8),
        order_number=_clean(order_number, 40),
        query={k: _clean(v, 100) for k, v in (query or {}).items()
               if k in ("q", "status", "from", "to", "page", "page_size")},
        outcome=outcome,
        problem=problem[:20],
        status_code=status_code,
        latency_ms=int((time.monotonic() - started) * 1000),
        cache=lookup.source if lookup is not None else "",
        as_of=lookup.as_of if lookup is not None else None,
        fno_status=next((c.status for c in reversed(calls) if c.status is not None), None),
        fno_calls=[
            {"entity_set": c.entity_set, "status": c.status, "outcome": c.outcome,
             "latency_ms": round(c.latency_ms, 1), "attempt": c.attempt, "url": c.url.split("?")[0],
             "client_request_id": c.client_request_id, "activity_id": c.activity_id}
            for c in calls
        ],
        snapshot_id=snapshot[0] if snapshot else None,
    )
    _writer.put(("audit", audit, snapshot))


class _Writer(BatchWriter[_Item]):
    def __init__(self) -> None:
        super().__init__(name="audit-writer", event="audit", lost=metrics.AUDIT_LOST, logger=logger)
        self._last_prune = 0.0

    def completes(self, item: _Item) -> bool:
        # F&O calls may be observed on a helper thread; in sync mode they are written with the request's own
        # record, on the request's thread (SQLite in tests allows one writer).
        return item[0] == "audit"

    def write(self, items: list[_Item]) -> None:
        audits = [item[1] for item in items if item[0] == "audit"]
        snapshots = {s[0]: s for item in items if item[0] == "audit" and (s := item[2])}
        calls = [
            {"at": at, "entity_set": r.entity_set[:80], "status": r.status, "outcome": r.outcome[:24],
             "latency_ms": int(r.latency_ms), "reference": r.request_id[:9]}
            for kind, r, at in (i for i in items if i[0] == "call")
        ]
        rows_write(audits=audits, snapshots=list(snapshots.values()), calls=calls)
        if time.monotonic() - self._last_prune > 3600:
            self._last_prune = time.monotonic()
            audit_prune()


_writer = _Writer()


def audit_flush(timeout: float | None = None) -> bool:
    """Write every audit record queued so far; False if `timeout` seconds ran out first."""
    return _writer.flush(timeout)


def audit_prune() -> tuple[int, int]:
    """Forget what support no longer needs: lookups after AUDIT_RETENTION_DAYS, F&O calls after two days."""
    now = datetime.now(UTC)
    old_audits, _ = LookupAudit.objects.filter(at__lt=now - timedelta(days=settings.AUDIT_RETENTION_DAYS)).delete()
    FnoCall.objects.filter(at__lt=now - timedelta(days=2)).delete()
    kept = LookupAudit.objects.filter(snapshot_id__isnull=False).values("snapshot_id")
    old_snapshots, _ = (
        LookupSnapshot.objects.filter(created_at__lt=now - timedelta(hours=1)).exclude(digest__in=kept).delete()
    )
    return old_audits, old_snapshots
