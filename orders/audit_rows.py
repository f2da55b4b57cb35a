"""The audit's rows in the database: one batch of lookups, the snapshots they point to and F&O calls, in one
transaction (orders.audit's writer thread calls this).

Every lookup costs the process one row, so the rows are written the cheapest way the database offers. On PostgreSQL
the lookups and calls go in by COPY and the snapshots by one prepared INSERT ... ON CONFLICT DO NOTHING, with their
JSON passed as the text it already is: Django's bulk_create would build a model instance per row, prepare every
field in Python and send the batch as arrays, escaping each JSON quote. Elsewhere (SQLite in development and tests)
the ORM writes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from orders.models import FnoCall, LookupAudit, LookupSnapshot

Row = dict[str, Any]  # a model's field values by field name (`user_id` for a foreign key)
Snapshot = tuple[str, str, str]  # its digest, kind, and {"kind", "rows"} as JSON


def rows_write(*, audits: Sequence[Row], snapshots: Sequence[Snapshot], calls: Sequence[Row]) -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            if snapshots:
                _snapshots_insert(snapshots)
            _copy(LookupAudit, audits)
            _copy(FnoCall, calls)
            return
        if snapshots:
            LookupSnapshot.objects.bulk_create(
                [LookupSnapshot(digest=d, kind=k, rows=json.loads(body)["rows"]) for d, k, body in snapshots],
                ignore_conflicts=True,
            )
        if audits:
            LookupAudit.objects.bulk_create([LookupAudit(**row) for row in audits])
        if calls:
            FnoCall.objects.bulk_create([FnoCall(**row) for row in calls])


def _snapshots_insert(snapshots: Sequence[Snapshot]) -> None:
    meta, quote = LookupSnapshot._meta, connection.ops.quote_name
    fields = _fields(LookupSnapshot, ("digest", "kind", "rows", "created_at"))
    columns = ", ".join(quote(field.column) for field in fields)
    now: datetime = timezone.now()  # created_at is auto_now_add: the ORM would set it to this
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES (%s, %s, (%s::jsonb) -> 'rows', %s) "  # noqa: S608
            f"ON CONFLICT ({quote(meta.pk.column)}) DO NOTHING",
            [(digest, kind, body, now) for digest, kind, body in snapshots],
        )


def _copy(model: type[models.Model], rows: Sequence[Row]) -> None:
    """COPY `rows` (each with the same fields, in the same order) into the model's table."""
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    fields = _fields(model, rows[0])
    as_json = [isinstance(field, models.JSONField) for field in fields]
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row([json.dumps(value) if is_json else value
                            for value, is_json in zip(row.values(), as_json, strict=True)])


def _fields(model: type[models.Model], names: Iterable[str]) -> list[models.Field[Any, Any]]:
    fields = []
    for name in names:
        field = model._meta.get_field(name)
        if not isinstance(field, models.Field) or not field.column:
            raise TypeError(f"{name} is not a column of {model._meta.db_table}")
        fields.append(field)
    return fields
