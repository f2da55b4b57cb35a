"""Readers for F&O's value formats (reference §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from .errors import MalformedResponse

# F&O writes an empty date as 1900-01-01 (noon UTC for date-only fields; the time of an empty
# UtcDateTime is unconfirmed), so any value on that day means "no date".
_EMPTY_DAY = date(1900, 1, 1)


def _parse_instant(value: object, prop: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedResponse(f"{prop}: expected a date-time string")
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedResponse(f"{prop}: not an ISO date-time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.astimezone(UTC).date() <= _EMPTY_DAY:
        return None
    return parsed.astimezone(UTC)


def read_datetime(row: dict[str, object], prop: str) -> datetime | None:
    return _parse_instant(row.get(prop), prop)


def read_date(row: dict[str, object], prop: str) -> date | None:
    """A date-only field, typed Edm.DateTimeOffset and sent as noon UTC: the UTC date is the date."""
    instant = _parse_instant(row.get(prop), prop)
    return instant.date() if instant else None


def read_decimal(row: dict[str, object], prop: str) -> Decimal:
    value = row.get(prop)
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool):
        raise MalformedResponse(f"{prop}: expected a number")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedResponse(f"{prop}: expected a number") from exc


def read_str(row: dict[str, object], prop: str) -> str:
    value = row.get(prop)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedResponse(f"{prop}: expected a string")
    return value.strip()


def read_enum(row: dict[str, object], prop: str) -> str:
    """Enums arrive as member names ("Backorder"); a nullable enum with no value is null."""
    return read_str(row, prop)


def read_yes(row: dict[str, object], prop: str) -> bool:
    return read_enum(row, prop) == "Yes"
