"""Immutable OData queries that cannot be injected.

Every value reaches the URL through `literal()`, which doubles `'` inside string literals
(python-pyodata's gap), and every name through `name()`, which admits identifiers only.
The query string is percent-encoded by hand: httpx's `params=` writes spaces as `+`, which
OData servers do not all read as a space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Self
from urllib.parse import quote

ENUM_NAMESPACE = "Microsoft.Dynamics.DataEntities"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}(/[A-Za-z_][A-Za-z0-9_]{0,127})*")
# Characters left readable in the query string; everything else is percent-encoded, `+` included.
_QUERY_SAFE = "'(),:$"


def name(value: str, *, path: bool = False) -> str:
    if not (_PATH if path else _IDENTIFIER).fullmatch(value):
        raise ValueError(f"not an OData identifier: {value[:40]!r}")
    return value


@dataclass(frozen=True)
class Enum:
    """A qualified enum literal, the only form F&O accepts in $filter: SalesStatus'Backorder'."""

    type_name: str
    member: str

    def __str__(self) -> str:
        return f"{ENUM_NAMESPACE}.{name(self.type_name)}'{name(self.member)}'"


def literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in an OData literal")
        # isoformat pads the year to four digits; strftime("%Y") does not for years before 1000.
        return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    if isinstance(value, date):
        # F&O stores date-only fields as noon UTC.
        return f"{value.isoformat()}T12:00:00Z"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no OData literal for {type(value).__name__}")


@dataclass(frozen=True)
class Filter:
    """A $filter expression. Build it with the helpers below, never from a string."""

    text: str
    chain: str = ""  # "and" or "or" for a chain, which needs parentheses inside a chain of the other kind

    def inside(self, chain: str) -> str:
        return f"({self.text})" if self.chain and self.chain != chain else self.text

    def __and__(self, other: Filter) -> Filter:
        return all_of(self, other)

    def __or__(self, other: Filter) -> Filter:
        return any_of(self, other)

    def __invert__(self) -> Filter:
        return Filter(f"not ({self.text})")


def _compare(op: str, prop: str, value: object) -> Filter:
    if isinstance(value, str) and "*" in value:
        # In F&O, `*` inside an `eq` literal is a wildcard; there is no escape for it.
        raise ValueError("`*` in an exact comparison; use like() for a wildcard match")
    return Filter(f"{name(prop, path=True)} {op} {literal(value)}")


def eq(prop: str, value: object) -> Filter:
    return _compare("eq", prop, value)


def ne(prop: str, value: object) -> Filter:
    return _compare("ne", prop, value)


def gt(prop: str, value: object) -> Filter:
    return _compare("gt", prop, value)


def ge(prop: str, value: object) -> Filter:
    return _compare("ge", prop, value)


def lt(prop: str, value: object) -> Filter:
    return _compare("lt", prop, value)


def le(prop: str, value: object) -> Filter:
    return _compare("le", prop, value)


def like(prop: str, pattern: str) -> Filter:
    """F&O's substitute for contains/startswith: `*` wildcards inside `eq` (S1)."""
    return Filter(f"{name(prop, path=True)} eq {literal(pattern)}")


def any_of(*filters: Filter) -> Filter:
    if not filters:
        raise ValueError("any_of() needs at least one filter")
    # `in` is not supported by F&O, so a set is spelt as a chain of `or`.
    if len(filters) == 1:
        return filters[0]
    return Filter(" or ".join(f.inside("or") for f in filters), chain="or")


def all_of(*filters: Filter) -> Filter:
    if not filters:
        raise ValueError("all_of() needs at least one filter")
    if len(filters) == 1:
        return filters[0]
    return Filter(" and ".join(f.inside("and") for f in filters), chain="and")


def _encode(value: str) -> str:
    return quote(value, safe=_QUERY_SAFE)


# A query shape's $select, $expand and $orderby are the same on every read of it (never user input: names are
# checked against the identifier pattern), so their encoding is kept.
_encode_shape = lru_cache(maxsize=256)(_encode)
_SHAPE_PARTS = frozenset({"$select", "$expand", "$orderby"})


@dataclass(frozen=True)
class Query:
    entity_set: str
    key: tuple[tuple[str, object], ...] = ()
    select: tuple[str, ...] = ()
    filter: Filter | None = None
    orderby: tuple[str, ...] = ()
    top: int | None = None
    skip: int | None = None
    count: bool = False
    expand: tuple[str, tuple[str, ...]] | None = None
    cross_company: bool = True
    extra: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        name(self.entity_set)

    def by_key(self, **key: object) -> Self:
        return replace(self, key=tuple((name(k), v) for k, v in key.items()))

    def selecting(self, *props: str) -> Self:
        return replace(self, select=tuple(name(p) for p in props))

    def where(self, condition: Filter) -> Self:
        return replace(self, filter=condition if self.filter is None else self.filter & condition)

    def ordered_by(self, *props: str) -> Self:
        for prop in props:
            prop_name, _, direction = prop.partition(" ")
            name(prop_name, path=True)
            if direction not in ("", "asc", "desc"):
                raise ValueError(f"bad $orderby direction {direction!r}")
        return replace(self, orderby=props)

    def page(self, *, top: int, skip: int = 0) -> Self:
        if top < 1 or skip < 0:
            raise ValueError("$top must be positive and $skip not negative")
        return replace(self, top=top, skip=skip or None)

    def with_count(self) -> Self:
        return replace(self, count=True)

    def expanding(self, nav: str, *props: str) -> Self:
        return replace(self, expand=(name(nav), tuple(name(p) for p in props)))

    @property
    def is_key_read(self) -> bool:
        return bool(self.key)

    def path(self) -> str:
        if not self.key:
            return self.entity_set
        predicate = ",".join(f"{k}={quote(literal(v), safe=chr(39))}" for k, v in self.key)
        return f"{self.entity_set}({predicate})"

    def query_string(self) -> str:
        parts: list[tuple[str, str]] = []
        if self.cross_company:
            parts.append(("cross-company", "true"))
        if self.filter is not None:
            parts.append(("$filter", self.filter.text))
        if self.select:
            parts.append(("$select", ",".join(self.select)))
        if self.expand:
            nav, props = self.expand
            parts.append(("$expand", f"{nav}($select={','.join(props)})" if props else nav))
        if self.orderby:
            parts.append(("$orderby", ",".join(self.orderby)))
        if self.top is not None:
            parts.append(("$top", str(self.top)))
        if self.skip is not None:
            parts.append(("$skip", str(self.skip)))
        if self.count:
            parts.append(("$count", "true"))
        parts.extend(self.extra)
        return "&".join(f"{k}={_encode_shape(v) if k in _SHAPE_PARTS else _encode(v)}" for k, v in parts)

    def relative_url(self) -> str:
        qs = self.query_string()
        return f"{self.path()}?{qs}" if qs else self.path()
