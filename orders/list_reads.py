"""The order list of a customer, read in as few F&O requests as fit the URL budget.

F&O has no `in`, so a customer's accounts become an `or` chain in the $filter, and a customer linked to many
accounts makes a URL longer than IIS accepts (2,048 characters by default). When the whole read does not fit,
it is split: by company, then by groups of accounts, each part under the budget. The parts are disjoint (an order
has one company and one ordering account), so the total is the sum of their counts, and the page is cut from
their merge in the list's order:

    OrderCreationDateTime desc, SalesOrderNumber desc, dataAreaId asc

(dataAreaId breaks ties between companies, so paging across them is stable.)

Page 1, the common case, is one round of parallel reads of `size` rows per part. A later page N reads first the
sort keys alone (`$top=N*size`, a few dozen bytes a row) from every part, merges them to learn which rows of
which part make page N, then reads only those rows. The merge always takes the smallest head, so its first
N*size rows depend only on the first N*size rows of each part, whatever the server's collation does with
punctuation in order numbers: page N is always the same slice of the same sequence.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import islice
from typing import Any

from orders.odata.client import Deadline, ODataClient
from orders.odata.errors import UrlTooLong
from orders.odata.query import Filter, Query, all_of, any_of, eq
from orders.odata.values import read_datetime
from orders.parallel import read_alongside

logger = logging.getLogger("orders.list_reads")

ORDER = ("OrderCreationDateTime desc", "SalesOrderNumber desc", "dataAreaId asc")
SORT_FIELDS = ("dataAreaId", "SalesOrderNumber", "OrderCreationDateTime")
# Room for what F&O adds to a nextLink ($skip and $top), which must fit the budget too.
NEXT_LINK_RESERVE = 40
# The longest paging options a part's query may carry, so a plan made once holds for every page.
_WIDEST_PAGE = 999_999


@dataclass(frozen=True)
class Part:
    """One read of the split: a set of (company, account) pairs whose filter fits the budget."""

    accounts: tuple[tuple[str, str], ...]

    def condition(self) -> Filter:
        return accounts_filter(self.accounts)


def accounts_filter(accounts: Sequence[tuple[str, str]]) -> Filter:
    """(company, account) pairs as one $filter: per company, `dataAreaId eq` and an `or` chain of accounts."""
    by_company: dict[str, list[str]] = {}
    for company, account in accounts:
        by_company.setdefault(company, []).append(account)
    return any_of(
        *(
            all_of(eq("dataAreaId", company), any_of(*(eq("OrderingCustomerAccountNumber", a) for a in accts)))
            for company, accts in sorted(by_company.items())
        )
    )


def _part_query(base: Query, part: Part, condition: Filter | None) -> Query:
    where = part.condition() if condition is None else part.condition() & condition
    return base.where(where).ordered_by(*ORDER)


def _fits(client: ODataClient, base: Query, accounts: Sequence[tuple[str, str]], condition: Filter | None) -> bool:
    query = _part_query(base, Part(tuple(accounts)), condition).page(top=_WIDEST_PAGE, skip=_WIDEST_PAGE)
    return client.fits(query.with_count(), reserve=NEXT_LINK_RESERVE)


def parts_plan(
    *, client: ODataClient, base: Query, accounts: Sequence[tuple[str, str]], condition: Filter | None
) -> list[Part]:
    """The fewest parts, in this order of preference: one read; one per company; groups of a company's accounts.

    Raises UrlTooLong when even one account does not fit: nothing can be split further."""
    if _fits(client, base, accounts, condition):
        return [Part(tuple(accounts))]
    by_company: dict[str, list[tuple[str, str]]] = {}
    for pair in accounts:
        by_company.setdefault(pair[0], []).append(pair)
    parts: list[Part] = []
    for company in sorted(by_company):
        pairs = by_company[company]
        if _fits(client, base, pairs, condition):
            parts.append(Part(tuple(pairs)))
            continue
        group: list[tuple[str, str]] = []
        for pair in pairs:
            if group and _fits(client, base, [*group, pair], condition):
                group.append(pair)
                continue
            if group:
                parts.append(Part(tuple(group)))
            if not _fits(client, base, [pair], condition):
                length = client.url_length(_part_query(base, Part((pair,)), condition))
                raise UrlTooLong(
                    f"one account's order list needs a URL of {length} characters, over the budget of "
                    f"{client.max_url_length}",
                    length=length,
                    limit=client.max_url_length,
                    status_code=414,
                )
            group = [pair]
        if group:
            parts.append(Part(tuple(group)))
    return parts


class _Newest:
    """Sort key of a row in the list's order, for heapq.merge (which merges ascending)."""

    __slots__ = ("company", "created", "number")

    def __init__(self, row: dict[str, Any]) -> None:
        created = read_datetime(row, "OrderCreationDateTime")
        # F&O's empty date (1900-01-01) reads as None and sorts oldest, as it does in F&O.
        self.created = created.timestamp() if created is not None else float("-inf")
        # F&O compares strings without regard to case (SQL collation).
        self.number = str(row.get("SalesOrderNumber") or "").casefold()
        self.company = str(row.get("dataAreaId") or "").lower()

    def __lt__(self, other: _Newest) -> bool:
        if self.created != other.created:
            return self.created > other.created
        if self.number != other.number:
            return self.number > other.number
        return self.company < other.company


def _merged(parts: list[list[dict[str, Any]]]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(part index, position in the part, row), smallest head first."""
    tagged = ([(i, n, row) for n, row in enumerate(rows)] for i, rows in enumerate(parts))
    return heapq.merge(*tagged, key=lambda item: _Newest(item[2]))


@dataclass(frozen=True)
class ListRead:
    rows: list[dict[str, Any]]
    total_count: int | None
    parts: int


def order_rows_read(
    *,
    client: ODataClient,
    base: Query,
    accounts: Sequence[tuple[str, str]],
    condition: Filter | None,
    page: int,
    page_size: int,
    deadline: Deadline,
    request_id: str,
) -> ListRead:
    """Page `page` of the customer's orders (rows of `base`'s entity set, $select and $expand) matching
    `condition`, in the list's order, with the total count; every request within the client's URL budget."""
    if not accounts:
        return ListRead([], 0, 0)
    parts = parts_plan(client=client, base=base, accounts=accounts, condition=condition)
    skip = (page - 1) * page_size
    if len(parts) == 1:
        query = _part_query(base, parts[0], condition).page(top=page_size, skip=skip).with_count()
        result = client.get_page(query, deadline=deadline, request_id=request_id)
        return ListRead(result.rows[:page_size], result.count, 1)
    logger.info("orders.list_split", extra={"event": "orders.list_split", "ref": request_id, "parts": len(parts)})

    def read(query: Query, *, all_pages: bool) -> Future[tuple[list[dict[str, Any]], int | None]]:
        # Pool threads run in a copy of this context, so their calls land in this request's capture and logs.
        return read_alongside(_read, client, query, deadline, request_id, all_pages)

    if page == 1:
        futures = [read(_part_query(base, p, condition).page(top=page_size).with_count(), all_pages=False)
                   for p in parts]
        results = [f.result() for f in futures]
        rows = [row for _i, _n, row in islice(_merged([r[0] for r in results]), page_size)]
        return ListRead(rows, _total([r[1] for r in results]), len(parts))

    # Which rows of which part make this page: their sort keys alone, then only those rows.
    key_base = Query(base.entity_set, cross_company=base.cross_company).selecting(*SORT_FIELDS)
    futures = [read(_part_query(key_base, p, condition).page(top=skip + page_size).with_count(), all_pages=True)
               for p in parts]
    keys = [f.result() for f in futures]
    total = _total([k[1] for k in keys])
    window = list(islice(_merged([k[0] for k in keys]), skip + page_size))[skip:]
    spans: dict[int, list[int]] = {}
    for index, position, _row in window:
        spans.setdefault(index, []).append(position)
    futures = [
        read(_part_query(base, parts[i], condition).page(top=len(pos), skip=min(pos)), all_pages=False)
        for i, pos in sorted(spans.items())
    ]
    pieces = [f.result()[0] for f in futures]
    rows = [row for _i, _n, row in islice(_merged(pieces), page_size)]
    return ListRead(rows, total, len(parts))


def _read(
    client: ODataClient, query: Query, deadline: Deadline, request_id: str, all_pages: bool
) -> tuple[list[dict[str, Any]], int | None]:
    if not all_pages:
        page = client.get_page(query, deadline=deadline, request_id=request_id)
        return page.rows, page.count
    rows: list[dict[str, Any]] = []
    count: int | None = None
    for number, page in enumerate(client.iter_pages(query, deadline=deadline, request_id=request_id)):
        if number == 0:
            count = page.count
        rows.extend(page.rows)
    return rows, count


def _total(counts: list[int | None]) -> int | None:
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)
