"""The simulator's data as served: the tables and their indexes, swapped as one when the data changes at run time.

Readers take `Store.view` once per request and never lock. A change copies the tables' lists (not their rows),
swaps in new rows (a changed row is a new dict; rows are never edited in place) and publishes a new view, so a read
served at the same time sees the data before or after the change, never half of it. The view built at start is
kept, so a reset puts it back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .schema import SETS

Row = dict[str, Any]
Tables = dict[str, list[Row]]
T = TypeVar("T")


def number_field(entity_set: str) -> str | None:
    """The field naming the sales order a row belongs to: SalesOrderNumber, or SalesId in the BI entities."""
    properties = SETS[entity_set].properties if entity_set in SETS else {}
    for name in ("SalesOrderNumber", "SalesId"):
        if name in properties:
            return name
    return None


@dataclass(frozen=True)
class View:
    tables: Tables
    # set -> casefolded order number -> rows, as F&O's database indexes the order number.
    by_number: dict[str, dict[str, list[Row]]]
    # set -> (company, order number) -> rows, for $expand from the header.
    children: dict[str, dict[tuple[str, str], list[Row]]]

    @classmethod
    def of(cls, tables: Tables) -> View:
        by_number: dict[str, dict[str, list[Row]]] = {}
        children: dict[str, dict[tuple[str, str], list[Row]]] = {}
        for name, rows in tables.items():
            field = number_field(name)
            if field is None:
                continue
            numbers: dict[str, list[Row]] = {}
            for row in rows:
                numbers.setdefault(str(row[field]).casefold(), []).append(row)
            by_number[name] = numbers
            if field == "SalesOrderNumber":
                index: dict[tuple[str, str], list[Row]] = {}
                for row in rows:
                    index.setdefault((row["dataAreaId"], row["SalesOrderNumber"]), []).append(row)
                children[name] = index
        return cls(tables, by_number, children)


class Store:
    def __init__(self, tables: Tables) -> None:
        self._initial = View.of({name: list(rows) for name, rows in tables.items()})
        self.view = self._initial
        self._lock = threading.Lock()

    @property
    def changed(self) -> bool:
        return self.view is not self._initial

    def change(self, apply: Callable[[Tables], T]) -> T:
        """Run `apply` on a copy of the tables (it may swap, append and remove rows, never edit one) and serve the
        result. When `apply` raises, nothing changes."""
        with self._lock:
            tables = {name: list(rows) for name, rows in self.view.tables.items()}
            result = apply(tables)
            self.view = View.of(tables)
            return result

    def reset(self) -> bool:
        """Back to the data built at start; False when nothing had changed."""
        with self._lock:
            if self.view is self._initial:
                return False
            self.view = self._initial
            return True
