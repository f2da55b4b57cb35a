"""One order of the customer's: its header with lines, and its documents (packing slips with tracking, the packing
slip journal, invoices), read side by side with the header when D365_DOCUMENTS_IN_PARALLEL is on."""

from __future__ import annotations

import logging
from concurrent.futures import Future, wait
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache

from orders import d365
from orders.accounts import AccountRef, accounts_own
from orders.documents import Invoice, PackingSlip, PackingSlipLine, PackingSlipTracking
from orders.exceptions import OrderNotFound
from orders.list_reads import accounts_filter
from orders.local_cache import LocalCache
from orders.odata.client import Deadline, Page
from orders.odata.errors import RequestRejected
from orders.odata.query import Query, any_of, eq
from orders.parallel import read_alongside
from orders.records import OrderLine, SalesOrder

logger = logging.getLogger("orders.reads")

# Far more than any real order has; a page this full may have been cut off, so its sums are not trusted.
SLIPS_MAX = 200
SLIP_LINES_MAX = 1000
# A site without the journal entities answers 404 (or 400 for a field) every time: ask again only now and then.
_JOURNAL_MISSING_KEY = "orders:fno:journal-missing"
_JOURNAL_MISSING_SECONDS = 600
# What the shared cache said, kept in this process for a few seconds: a cold lookup asks the shared cache one thing
# fewer. Another process's finding reaches this one within that time (costing F&O at most a refused read or two).
_journal_known = LocalCache(max_entries=1, ttl=5.0)


@lru_cache(maxsize=8)
def _shapes(
    sales_orders: str, lines: str, packing_slips: str, invoices: str, journal: str, journal_lines: str
) -> tuple[Query, Query, Query, Query, Query]:
    """Each read's query without its filter (entity, fields, order, page), for these entity names: built, and its
    names checked, once per process rather than on every cold lookup."""
    return (
        Query(sales_orders).selecting(*SalesOrder.FIELDS).expanding(lines, *OrderLine.FIELDS).page(top=2),
        Query(packing_slips).selecting(*PackingSlipTracking.FIELDS).ordered_by("DeliveryDate").page(top=SLIPS_MAX),
        Query(invoices).selecting(*Invoice.FIELDS).ordered_by("InvoiceDate").page(top=200),
        Query(journal).selecting(*PackingSlip.FIELDS).ordered_by("DeliveryDate", "PackingSlipId").page(top=SLIPS_MAX),
        # The journal's lines carry no customer account; they are kept only for slips of the account-scoped read.
        Query(journal_lines).selecting(*PackingSlipLine.FIELDS).ordered_by("PackingSlipId", "LineNum")
        .page(top=SLIP_LINES_MAX),
    )


def _queries() -> tuple[Query, Query, Query, Query, Query]:
    return _shapes(settings.D365_ENTITY_SALES_ORDERS, settings.D365_NAV_SALES_ORDER_LINES,
                   settings.D365_ENTITY_PACKING_SLIPS, settings.D365_ENTITY_INVOICES,
                   settings.D365_ENTITY_PACKING_SLIP_JOURNAL, settings.D365_ENTITY_PACKING_SLIP_LINES)


def _journal_queries(accounts: tuple[AccountRef, ...], company: str, number: str) -> tuple[Query, Query]:
    order = eq("dataAreaId", company) & eq("SalesId", number)
    _, _, _, slips, lines = _queries()
    return slips.where(order & any_of(*(eq("OrderAccount", a.account) for a in accounts))), lines.where(order)


def journal_missing() -> bool:
    """Whether this site was found a short while ago not to expose the packing slip journal's entities."""
    known: bool | None = _journal_known.get(_JOURNAL_MISSING_KEY)
    if known is None:
        known = bool(cache.get(_JOURNAL_MISSING_KEY))
        _journal_known.set(_JOURNAL_MISSING_KEY, known)
    return known


def journal_missing_note(exc: RequestRejected) -> None:
    """A journal read was refused: remember the entities are missing (404, or 400 for a field), else re-raise."""
    if exc.status_code not in (400, 404):
        raise exc
    cache.set(_JOURNAL_MISSING_KEY, True, timeout=_JOURNAL_MISSING_SECONDS)
    _journal_known.set(_JOURNAL_MISSING_KEY, True)
    logger.warning("orders.packing_slip_journal.unavailable", extra={"status": exc.status_code,
                                                                     "detail": exc.message[:200]})


def _journal_rows(
    slips: Future[Page], lines: Future[Page]
) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """The journal's rows, or (None, None) when this site does not expose the journal entities."""
    try:
        return slips.result().rows, lines.result().rows
    except RequestRejected as exc:
        journal_missing_note(exc)
        return None, None


def order_rows_for_customer(
    *, accounts: tuple[AccountRef, ...], company: str, number: str, request_id: str, deadline: Deadline
) -> dict[str, Any]:
    """F&O's rows of one order of the customer's: header (with lines), slips, journal and journal_lines (None where
    the site has no journal entities), shipping_complete, invoices. Not theirs, or not there: OrderNotFound."""
    client = d365.get_odata_client()
    # One query across every company and account of the customer; F&O has no `in`, so this is an `or` chain.
    header_shape, slips_shape, invoices_shape, _, _ = _queries()
    header_query = header_shape.where(accounts_filter([(a.company, a.account) for a in accounts])
                                      & eq("SalesOrderNumber", number))
    documents = eq("dataAreaId", company) & eq("SalesOrderNumber", number)
    slips_query, invoices_query = slips_shape.where(documents), invoices_shape.where(documents)
    with_journal = not journal_missing()
    queries = (slips_query, invoices_query, *(_journal_queries(accounts, company, number) if with_journal else ()))

    def read(query: Query) -> Future[Page]:
        return read_alongside(client.get_page, query, deadline=deadline, request_id=request_id)

    # In parallel mode the documents are read alongside the header, so a cold lookup costs one F&O round trip,
    # not two; nothing from them is kept or shown unless the header, read with the customer's own accounts in its
    # filter, proves the order is theirs. In sequential mode they are read only after that proof.
    parallel = settings.D365_DOCUMENTS_IN_PARALLEL
    early = tuple(read(q) for q in queries) if parallel else None
    try:
        page = client.get_page(header_query, deadline=deadline, request_id=request_id)
    finally:
        if early is not None:
            wait(early)  # also keeps "not yours" and "yours" equally slow
    rows = [r for r in page.rows if _header_owned(r, accounts, company, number)]
    if len(rows) != 1:
        raise OrderNotFound(number)
    futures = early if early is not None else tuple(read(q) for q in queries)
    slips = futures[0].result().rows
    invoices = futures[1].result().rows
    journal, journal_lines = _journal_rows(*futures[2:]) if with_journal else (None, None)
    # Judged on what F&O sent: a full page may have been cut off, whatever the filter below keeps of it. The filter:
    # never trust F&O's filter alone, every document row must name this company and this order.
    complete = len(slips) < SLIPS_MAX and (
        journal is None or journal_lines is None or (len(journal) < SLIPS_MAX and len(journal_lines) < SLIP_LINES_MAX)
    )
    return {
        "header": rows[0],
        "slips": _of_order(slips, company, number, "SalesOrderNumber"),
        "journal": None if journal is None else _of_order(journal, company, number, "SalesId"),
        "journal_lines": None if journal_lines is None else _of_order(journal_lines, company, number, "SalesId"),
        "shipping_complete": complete,
        "invoices": _of_order(invoices, company, number, "SalesOrderNumber"),
    }


def _of_order(rows: list[dict[str, Any]], company: str, number: str, number_field: str) -> list[dict[str, Any]]:
    return [
        r for r in rows
        if str(r.get("dataAreaId", "")).lower() == company
        and str(r.get(number_field, "")).casefold() == number.casefold()
    ]


def _header_owned(row: dict[str, Any], accounts: tuple[AccountRef, ...], company: str, number: str) -> bool:
    order_company = str(row.get("dataAreaId", "")).lower()
    return (
        order_company == company
        and str(row.get("SalesOrderNumber", "")).casefold() == number.casefold()
        and accounts_own(accounts, order_company, str(row.get("OrderingCustomerAccountNumber", "")))
    )
