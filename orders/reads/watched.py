"""Many orders of one customer account at once, for the watcher: one F&O request per entity set for up to 20
orders (`SalesOrderNumber eq ... or ...`), where a lookup would make one per order.

The header read carries the company and the account in its $filter, like every customer read. The documents are
read only for the orders that header read returned, and only after it: the tracking table, the journal's lines
and the invoices have no account of their own to filter by, so the account-scoped header read is what proves each
number is this account's. Every row F&O sends back is checked again against that proof.

A batch whose query would not fit the URL budget (long order numbers) is split in halves until each part fits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from orders import d365
from orders.documents import Invoice, PackingSlip, PackingSlipLine, PackingSlipTracking
from orders.list_reads import accounts_filter
from orders.odata.client import Deadline, ODataClient, Page
from orders.odata.errors import RequestRejected
from orders.odata.query import Filter, Query, any_of, eq
from orders.parallel import read_alongside
from orders.reads import order_detail
from orders.records import OrderLine, SalesOrder

BATCH_MAX = 20
# F&O sends at most 10,000 rows a page; a page cut at $top marks the batch's deliveries incomplete, as one order's.
_PAGE_MAX = 10_000


def _numbers(field: str, numbers: Sequence[str]) -> Filter:
    return any_of(*(eq(field, n) for n in numbers))


def _parts(client: ODataClient, numbers: Sequence[str],
           build: Callable[[Sequence[str]], Query]) -> list[Sequence[str]]:
    """`numbers` in as few parts as keep `build(part)` within the URL budget: halves, recursively."""
    if client.fits(build(numbers)) or len(numbers) == 1:
        return [numbers]  # a single order's query that does not fit is refused by the client, as a lookup's is
    middle = len(numbers) // 2
    return _parts(client, numbers[:middle], build) + _parts(client, numbers[middle:], build)


def _top(per_order: int, count: int) -> int:
    return min(per_order * count, _PAGE_MAX)


@dataclass(frozen=True)
class _Read:
    """One entity set's reads for a batch, each with the $top it asked for."""

    futures: tuple[tuple[Future[Page], int], ...]

    def rows(self) -> tuple[list[dict[str, Any]], bool]:
        """The rows, and whether any page was cut off (full to its $top, or a next page): then the batch's
        shipped quantities are not trusted, as for one order whose page came back full."""
        rows: list[dict[str, Any]] = []
        cut = False
        for future, top in self.futures:
            page = future.result()
            rows.extend(page.rows)
            cut = cut or len(page.rows) >= top or page.next_link is not None
        return rows, cut


def order_rows_batch(
    *, company: str, account: str, numbers: Sequence[str], request_id: str, deadline: Deadline
) -> dict[str, dict[str, Any]]:
    """F&O's rows of those of `numbers` that are orders of (company, account), by casefolded number, each shaped as
    orders.reads.order_detail.order_rows_for_customer returns one order. Numbers not found are left out."""
    if not 0 < len(numbers) <= BATCH_MAX:
        raise ValueError(f"between 1 and {BATCH_MAX} orders per batch")
    client = d365.get_odata_client()

    def read(build: Callable[[Sequence[str]], Query], numbers: Sequence[str], per_order: int) -> _Read:
        return _Read(tuple(
            (read_alongside(client.get_page, build(part), deadline=deadline, request_id=request_id),
             _top(per_order, len(part)))
            for part in _parts(client, numbers, build)
        ))

    def headers(part: Sequence[str]) -> Query:
        return (
            Query(settings.D365_ENTITY_SALES_ORDERS)
            .where(accounts_filter([(company, account)]) & _numbers("SalesOrderNumber", part))
            .selecting(*SalesOrder.FIELDS)
            .expanding(settings.D365_NAV_SALES_ORDER_LINES, *OrderLine.FIELDS)
            .page(top=_top(2, len(part)))
        )

    wanted = {n.casefold() for n in numbers}
    found: dict[str, dict[str, Any]] = {}
    for row in read(headers, numbers, 2).rows()[0]:
        number = str(row.get("SalesOrderNumber", ""))
        if (str(row.get("dataAreaId", "")).lower() == company
                and str(row.get("OrderingCustomerAccountNumber", "")).casefold() == account.casefold()
                and number.casefold() in wanted):
            found.setdefault(number.casefold(), row)
    if not found:
        return {}
    proven = [str(row["SalesOrderNumber"]) for row in found.values()]
    in_company = eq("dataAreaId", company)

    def documents(entity_set: str, number_field: str, fields: Sequence[str], order_by: Sequence[str],
                  per_order: int, scope: Filter = in_company) -> _Read:
        return read(lambda part: (
            Query(entity_set).where(scope & _numbers(number_field, part)).selecting(*fields)
            .ordered_by(*order_by).page(top=_top(per_order, len(part)))
        ), proven, per_order)

    slips_max, lines_max = order_detail.SLIPS_MAX, order_detail.SLIP_LINES_MAX
    slips_read = documents(settings.D365_ENTITY_PACKING_SLIPS, "SalesOrderNumber", PackingSlipTracking.FIELDS,
                           ("SalesOrderNumber", "DeliveryDate"), slips_max)
    invoices_read = documents(settings.D365_ENTITY_INVOICES, "SalesOrderNumber", Invoice.FIELDS,
                              ("SalesOrderNumber", "InvoiceDate"), 200)
    journal_reads = None
    if not order_detail.journal_missing():
        journal_reads = (
            documents(settings.D365_ENTITY_PACKING_SLIP_JOURNAL, "SalesId", PackingSlip.FIELDS,
                      ("SalesId", "DeliveryDate", "PackingSlipId"), slips_max,
                      in_company & eq("OrderAccount", account)),
            documents(settings.D365_ENTITY_PACKING_SLIP_LINES, "SalesId", PackingSlipLine.FIELDS,
                      ("SalesId", "PackingSlipId", "LineNum"), lines_max),
        )
    slips, cut = slips_read.rows()
    invoices = invoices_read.rows()[0]
    journal: list[dict[str, Any]] | None = None
    journal_lines: list[dict[str, Any]] | None = None
    if journal_reads is not None:
        try:
            (journal, journal_cut), (journal_lines, lines_cut) = journal_reads[0].rows(), journal_reads[1].rows()
            cut = cut or journal_cut or lines_cut
        except RequestRejected as exc:
            order_detail.journal_missing_note(exc)  # re-raises what is not "this site has no journal"
    return {
        key: {
            "header": header,
            "slips": _of(slips, company, key, "SalesOrderNumber"),
            "journal": None if journal is None else _of(journal, company, key, "SalesId", account=account),
            "journal_lines": None if journal_lines is None else _of(journal_lines, company, key, "SalesId"),
            "shipping_complete": not cut,
            "invoices": _of(invoices, company, key, "SalesOrderNumber"),
        }
        for key, header in found.items()
    }


def _of(rows: list[dict[str, Any]], company: str, key: str, number_field: str, *,
        account: str | None = None) -> list[dict[str, Any]]:
    """The rows of one order: never trust F&O's filter alone, each must name this company and this order (and, for
    the journal, this account)."""
    return [
        r for r in rows
        if str(r.get("dataAreaId", "")).lower() == company
        and str(r.get(number_field, "")).casefold() == key
        and (account is None or str(r.get("OrderAccount", "")).casefold() == account.casefold())
    ]
