"""Reads. Every order read is scoped to the customer's own (company, account) pairs in the OData $filter,
and the answer is checked against those pairs again before anyone sees it."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from time import monotonic as time_monotonic
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache

from orders import d365, list_reads
from orders.exceptions import InvalidLookup, OrderNotFound
from orders.local_cache import LocalCache
from orders.models import ApiToken, CustomerAccountLink
from orders.odata.client import Deadline
from orders.odata.errors import ODataError, RequestRejected
from orders.odata.query import Filter, Query, all_of, any_of, eq, ge, le, like
from orders.parallel import read_alongside
from orders.rate_limit import counter_add
from orders.records import Invoice, OrderLine, PackingSlip, PackingSlipLine, PackingSlipTracking, SalesOrder
from orders.shipments import Deliveries, LineProgress, Shipment, deliveries_from
from orders.snapshots import Lookup, read_through, unavailable_from
from orders.status import CODES, CustomerStatus, customer_status, status_filter
from orders.timeline import Step, order_timeline

# F&O number sequences may hold constant characters such as `/`, spaces or `#` ("SO/2026/0001"); any printable
# text up to 40 characters can name an order. `*` is F&O's wildcard inside eq and cannot be escaped, so never.
ORDER_NUMBER_MAX = 40
COMPANY = re.compile(r"[a-z0-9]{1,8}")
SEARCH_MAX = 60
PAGE_SIZE = 20
MAX_PAGE = 500
_CACHE_VERSION = "v2"  # v2: an order's copy holds shipments built from the packing slip journal
logger = logging.getLogger("orders.selectors")


@dataclass(frozen=True, order=True)
class AccountRef:
    company: str
    account: str

    def __str__(self) -> str:
        return f"{self.company}:{self.account}"


@dataclass(frozen=True)
class OrderFilters:
    q: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    page_size: int = PAGE_SIZE


@dataclass(frozen=True)
class OrderSummary:
    order: SalesOrder
    total: Decimal
    total_kind: str = "lines_before_tax"

    @property
    def status(self) -> CustomerStatus:
        # Worded at render time, in the reader's language: copies in the cache hold F&O's values only.
        return order_status(self.order)


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderSummary]
    total_count: int | None
    page: int
    page_size: int
    rows: list[dict] = field(default_factory=list)  # F&O's rows as read, for replay

    @classmethod
    def from_rows(cls, rows: list[dict], *, total_count: int | None, page: int, page_size: int,
                  accounts: tuple[AccountRef, ...] | None = None) -> OrderPage:
        summaries = []
        kept = []
        for row in rows[:page_size]:
            order = SalesOrder.from_odata(row)
            if accounts is not None and not _owns(accounts, order.company, order.customer_account):
                continue  # never trust the filter alone
            lines = [OrderLine.from_odata(r) for r in row.get(settings.D365_NAV_SALES_ORDER_LINES) or []]
            summaries.append(OrderSummary(order, *order_total(order, lines)))
            kept.append(row)
        return cls(summaries, total_count, page, page_size, kept)

    @property
    def has_next(self) -> bool:
        return self.total_count is not None and self.page * self.page_size < self.total_count

    @property
    def page_count(self) -> int:
        if not self.total_count:
            return 1
        return -(-self.total_count // self.page_size)


@dataclass(frozen=True)
class OrderDetail:
    order: SalesOrder
    lines: list[OrderLine]
    deliveries: Deliveries
    invoices: list[Invoice]
    # F&O's rows as read: header (with lines), slips (tracking rows), journal and journal_lines (None where the site
    # has no journal entities), shipping_complete, invoices
    rows: dict = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: dict) -> OrderDetail:
        header = rows["header"]
        lines = sorted(
            (OrderLine.from_odata(r) for r in header.get(settings.D365_NAV_SALES_ORDER_LINES) or []),
            key=lambda line: line.line_number,
        )
        # Audit copies taken before the journal was read have no "journal": they replay as the fallback would.
        journal, journal_lines = rows.get("journal"), rows.get("journal_lines")
        deliveries = deliveries_from(
            lines=lines,
            tracking=[PackingSlipTracking.from_odata(r) for r in rows.get("slips", [])],
            slips=None if journal is None else [PackingSlip.from_odata(r) for r in journal],
            slip_lines=None if journal_lines is None else [PackingSlipLine.from_odata(r) for r in journal_lines],
            complete=rows.get("shipping_complete", True),
        )
        return cls(
            order=SalesOrder.from_odata(header),
            lines=lines,
            deliveries=deliveries,
            invoices=[Invoice.from_odata(r) for r in rows.get("invoices", [])],
            rows=rows,
        )

    @property
    def shipments(self) -> tuple[Shipment, ...]:
        return self.deliveries.shipments

    @property
    def line_progress(self) -> tuple[LineProgress, ...]:
        return self.deliveries.lines

    @property
    def status(self) -> CustomerStatus:
        return order_status(self.order)

    @property
    def timeline(self) -> list[Step]:
        return order_timeline(order=self.order, status=self.status, shipments=self.shipments, invoices=self.invoices)

    @property
    def total(self) -> Decimal:
        return order_total(self.order, self.lines)[0]

    @property
    def total_kind(self) -> str:
        return order_total(self.order, self.lines)[1]

    @property
    def items_total(self) -> Decimal:
        return lines_total(self.lines)

    @property
    def invoiced_total(self) -> Decimal:
        return sum((i.amount for i in self.invoices), Decimal(0))


def lines_total(lines: list[OrderLine]) -> Decimal:
    # F&O reports header totals as 0 until they are calculated (reference §2), so add up the lines.
    return sum((line.amount for line in lines if line.status != "Canceled"), Decimal(0))


ORDER_TOTAL = "order_total"  # F&O's OrderTotalAmount: tax and charges included
LINES_BEFORE_TAX = "lines_before_tax"  # the lines' sum, cancelled lines left out, before tax and charges


def order_total(order: SalesOrder, lines: list[OrderLine]) -> tuple[Decimal, str]:
    """F&O's own total once it has calculated it (AreTotalsCalculated = Yes), else the lines' sum, and which."""
    if order.totals_calculated:
        return order.header_total, ORDER_TOTAL
    return lines_total(lines), LINES_BEFORE_TAX


def customer_accounts(*, user: AbstractBaseUser | AnonymousUser) -> tuple[AccountRef, ...]:
    if not user.is_authenticated or not user.is_active:
        return ()
    return customer_accounts_for_id(user_id=user.pk)


def customer_accounts_for_id(*, user_id: int) -> tuple[AccountRef, ...]:
    links = CustomerAccountLink.objects.filter(user_id=user_id).values_list("company", "account")
    return tuple(sorted(AccountRef(company, account) for company, account in links))


@dataclass(frozen=True)
class ApiPrincipal:
    """Who an API request acts for: checked token, active user, their accounts."""

    token_id: int
    user_id: int
    email: str
    accounts: tuple[AccountRef, ...]
    expires_at: datetime | None


# Token checks are the hottest read of the API, so each process keeps them for a few seconds, keyed by the token's
# hash, never the token. Every revocation bumps a generation counter in the shared cache; each process looks at it at
# most every half second and forgets all its token checks when it moved, so a token revoked in one process stops
# working in all of them within about that time (in the revoking process at once).
_principals = LocalCache(max_entries=10_000, ttl=5.0)
_LAST_USED_EVERY_SECONDS = 60
_REVOCATIONS_KEY = "api_tokens:revocations"
_REVOCATIONS_LOOK_EVERY_SECONDS = 0.5
_revocations_seen: dict[str, float | int | None] = {"generation": None, "at": float("-inf")}


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_forget(*, token_hash: str) -> None:
    """Call after the revocation is committed: the other processes re-read the token when they see the bump."""
    _principals.delete(token_hash)
    counter_add(_REVOCATIONS_KEY, timeout=None)


def _revocations_follow() -> None:
    now = time_monotonic()
    if now - (_revocations_seen["at"] or 0.0) < _REVOCATIONS_LOOK_EVERY_SECONDS:
        return
    _revocations_seen["at"] = now
    generation = cache.get(_REVOCATIONS_KEY)
    if generation != _revocations_seen["generation"]:
        _revocations_seen["generation"] = generation
        _principals.clear()


def api_token_authenticate(*, raw: str) -> ApiPrincipal | None:
    if not raw or len(raw) > 200:
        return None
    digest = hash_token(raw)
    _revocations_follow()
    principal = _principals.get(digest)
    now = datetime.now(UTC)
    if principal is None:
        token = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=digest, revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            return None
        principal = ApiPrincipal(
            token_id=token.pk, user_id=token.user_id, email=token.user.email or token.user.get_username(),
            accounts=customer_accounts_for_id(user_id=token.user_id), expires_at=token.expires_at,
        )
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > _LAST_USED_EVERY_SECONDS:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        _principals.set(digest, principal)
    if principal.expires_at is not None and principal.expires_at <= now:
        return None
    return principal


def order_filters_parse(params: dict[str, str]) -> OrderFilters:
    """Validate list parameters; anything that cannot be a real filter raises InvalidLookup."""
    q = " ".join((params.get("q") or "").split())
    if len(q) > SEARCH_MAX or any(unicodedata.category(ch) == "Cc" for ch in q):
        raise InvalidLookup("search text")
    # `*` is F&O's wildcard inside eq and cannot be escaped, so it is not searchable text.
    q = q.replace("*", "")
    status = params.get("status") or ""
    if status and status not in CODES:
        raise InvalidLookup("status")
    page_size = _int(params.get("page_size"), PAGE_SIZE, 1, 100)
    return OrderFilters(
        q=q,
        status=status,
        date_from=_date(params.get("from")),
        date_to=_date(params.get("to")),
        page=_int(params.get("page"), 1, 1, MAX_PAGE),
        page_size=page_size,
    )


_DIGITS = re.compile(r"[0-9]{1,6}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    if raw in (None, ""):
        return default
    # ASCII digits only: str.isdigit() also accepts "²" and "٣", which int() then refuses or reads differently.
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidLookup("number")
    return int(raw)


def _date(raw: str | None) -> date | None:
    if not raw:
        return None
    # Only YYYY-MM-DD: date.fromisoformat also reads week dates and compact forms no form ever sends.
    if not _ISO_DATE.fullmatch(raw):
        raise InvalidLookup("date")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidLookup("date") from exc


def _accounts_filter(accounts: tuple[AccountRef, ...]) -> Filter:
    # One query across every company and account of the customer; F&O has no `in`, so this is an `or` chain.
    # The list splits it when it makes the URL too long (orders/list_reads.py).
    return list_reads.accounts_filter([(ref.company, ref.account) for ref in accounts])


def _key(*parts: object) -> str:
    digest = hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:32]
    return f"orders:{_CACHE_VERSION}:{parts[0]}:{digest}"


def order_cache_key(*, company: str, account: str, number: str) -> str:
    # Order numbers may hold spaces and other characters a cache key must not: quote them.
    return f"orders:{_CACHE_VERSION}:order:{company}:{account.casefold()}:{quote(number.casefold(), safe='')}"


def order_number_valid(number: str) -> bool:
    return (
        0 < len(number) <= ORDER_NUMBER_MAX
        and number == number.strip()
        and "*" not in number
        and all(ch.isprintable() for ch in number)
    )


def _deadline() -> Deadline:
    return Deadline(settings.D365_TIMEOUT_SECONDS)


def _query(entity_set: str) -> Query:
    return Query(entity_set)


def order_list_for_customer(
    *, accounts: tuple[AccountRef, ...], filters: OrderFilters, request_id: str, refresh: bool = False,
    budget: str | None = None,
) -> Lookup[OrderPage]:
    if not accounts:
        return Lookup(OrderPage([], 0, filters.page, filters.page_size), datetime.now(UTC).timestamp(), "live")
    key = _key("list", [str(a) for a in accounts], filters)

    def fetch(deadline: Deadline) -> OrderPage:
        conditions: list[Filter] = []
        if filters.q:
            conditions.append(any_of(
                eq("SalesOrderNumber", filters.q),
                like("CustomersOrderReference", f"*{filters.q}*"),
                like("CustomerRequisitionNumber", f"*{filters.q}*"),
            ))
        if filters.status:
            conditions.append(status_filter(filters.status))
        if filters.date_from:
            conditions.append(ge("OrderCreationDateTime", datetime.combine(filters.date_from, time.min, UTC)))
        if filters.date_to:
            conditions.append(le("OrderCreationDateTime", datetime.combine(filters.date_to, time.max, UTC)
                                 .replace(microsecond=0)))
        base = (
            _query(settings.D365_ENTITY_SALES_ORDERS)
            .selecting(*SalesOrder.LIST_FIELDS)
            .expanding(settings.D365_NAV_SALES_ORDER_LINES, "LineAmount", "SalesOrderLineStatus")
        )
        # The customer's accounts lead the $filter; when they make the URL too long, the read is split.
        read = list_reads.order_rows_read(
            client=d365.get_odata_client(), base=base, accounts=[(a.company, a.account) for a in accounts],
            condition=all_of(*conditions) if conditions else None, page=filters.page,
            page_size=filters.page_size, deadline=deadline, request_id=request_id,
        )
        return OrderPage.from_rows(
            read.rows, total_count=read.total_count, page=filters.page, page_size=filters.page_size,
            accounts=accounts,
        )

    return read_through((key,), fetch, store_key=lambda _: key, refresh=refresh, deadline=_deadline(), budget=budget)


def order_status(order: SalesOrder) -> CustomerStatus:
    return customer_status(status=order.status, processing=order.processing_status, on_hold=order.on_hold)


def order_lookup_validate(*, company: str, number: str) -> None:
    if not COMPANY.fullmatch(company) or not order_number_valid(number):
        raise InvalidLookup("order reference")


def user_budget(*, user_id: int) -> str:
    """The name of a user's budget of F&O reads (ORDERS_USER_BUDGET): one for the web and all their API tokens."""
    return f"user:{user_id}"


def _not_found_key(budget: str, company: str, number: str) -> str:
    return f"orders:{_CACHE_VERSION}:nf:{budget}:{company}:{quote(number.casefold(), safe='')}"


def order_get_for_customer(
    *, accounts: tuple[AccountRef, ...], company: str, number: str, request_id: str, refresh: bool = False,
    budget: str | None = None,
) -> Lookup[OrderDetail]:
    """One order of the customer's. Another customer's order, another company's, or none: OrderNotFound.

    With a `budget` (a user's), live reads are charged to it and a "not found" is remembered for that user for
    ORDERS_NOT_FOUND_SECONDS, so asking again costs F&O nothing.
    """
    order_lookup_validate(company=company, number=number)
    own = tuple(a for a in accounts if a.company == company)
    if not own:
        raise OrderNotFound(number)
    keys = tuple(order_cache_key(company=company, account=a.account, number=number) for a in own)
    not_found_key = _not_found_key(budget, company, number) if budget is not None else None

    def remembered_not_found() -> None:
        if not_found_key is not None and not refresh and cache.get(not_found_key):
            raise OrderNotFound(number)

    def fetch(deadline: Deadline) -> OrderDetail:
        return _order_detail_fetch(
            accounts=own, company=company, number=number, request_id=request_id, deadline=deadline
        )

    try:
        lookup = read_through(
            keys,
            fetch,
            store_key=lambda d: order_cache_key(company=company, account=d.order.customer_account, number=number),
            refresh=refresh,
            deadline=_deadline(),
            budget=budget,
            on_miss=remembered_not_found,
        )
    except OrderNotFound:
        if not_found_key is not None and settings.ORDERS_NOT_FOUND_SECONDS > 0:
            cache.set(not_found_key, 1, timeout=settings.ORDERS_NOT_FOUND_SECONDS)
        raise
    # Whatever the source, the copy must belong to one of this customer's accounts.
    if not _owns(own, lookup.value.order.company, lookup.value.order.customer_account):
        raise OrderNotFound(number)
    return lookup


# Far more than any real order has; a page this full may have been cut off, so its sums are not trusted.
_SLIPS_MAX = 200
_SLIP_LINES_MAX = 1000
# A site without the journal entities answers 404 (or 400 for a field) every time: ask again only now and then.
_JOURNAL_MISSING_KEY = "orders:fno:journal-missing"
_JOURNAL_MISSING_SECONDS = 600


def _journal_queries(accounts: tuple[AccountRef, ...], company: str, number: str) -> tuple[Query, Query]:
    order = eq("dataAreaId", company) & eq("SalesId", number)
    slips = (
        _query(settings.D365_ENTITY_PACKING_SLIP_JOURNAL)
        .where(order & any_of(*(eq("OrderAccount", a.account) for a in accounts)))
        .selecting(*PackingSlip.FIELDS)
        .ordered_by("DeliveryDate", "PackingSlipId")
        .page(top=_SLIPS_MAX)
    )
    # The journal's lines carry no customer account; they are kept only for slips of the account-scoped read above.
    lines = (
        _query(settings.D365_ENTITY_PACKING_SLIP_LINES)
        .where(order)
        .selecting(*PackingSlipLine.FIELDS)
        .ordered_by("PackingSlipId", "LineNum")
        .page(top=_SLIP_LINES_MAX)
    )
    return slips, lines


def _journal_rows(slips: Future, lines: Future) -> tuple[list[dict] | None, list[dict] | None]:
    """The journal's rows, or (None, None) when this site does not expose the journal entities."""
    try:
        return slips.result().rows, lines.result().rows
    except RequestRejected as exc:
        if exc.status_code not in (400, 404):
            raise
        cache.set(_JOURNAL_MISSING_KEY, True, timeout=_JOURNAL_MISSING_SECONDS)
        logger.warning("orders.packing_slip_journal.unavailable", extra={"status": exc.status_code,
                                                                         "detail": exc.message[:200]})
        return None, None


def _order_detail_fetch(
    *, accounts: tuple[AccountRef, ...], company: str, number: str, request_id: str, deadline: Deadline
) -> OrderDetail:
    client = d365.get_odata_client()
    header_query = (
        _query(settings.D365_ENTITY_SALES_ORDERS)
        .where(_accounts_filter(accounts) & eq("SalesOrderNumber", number))
        .selecting(*SalesOrder.FIELDS)
        .expanding(settings.D365_NAV_SALES_ORDER_LINES, *OrderLine.FIELDS)
        .page(top=2)
    )
    documents = eq("dataAreaId", company) & eq("SalesOrderNumber", number)
    slips_query = (
        _query(settings.D365_ENTITY_PACKING_SLIPS).where(documents).selecting(*PackingSlipTracking.FIELDS)
        .ordered_by("DeliveryDate").page(top=_SLIPS_MAX)
    )
    invoices_query = (
        _query(settings.D365_ENTITY_INVOICES).where(documents).selecting(*Invoice.FIELDS)
        .ordered_by("InvoiceDate").page(top=200)
    )
    with_journal = not cache.get(_JOURNAL_MISSING_KEY)
    queries = (slips_query, invoices_query, *(_journal_queries(accounts, company, number) if with_journal else ()))

    def read(query: Query) -> Future:
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
    rows = [r for r in page.rows if _owned(r, accounts, company, number)]
    if len(rows) != 1:
        raise OrderNotFound(number)
    row = rows[0]
    futures = early if early is not None else tuple(read(q) for q in queries)
    # Never trust the filter alone: every document row must name this company and this order.
    slips = futures[0].result().rows
    invoices = futures[1].result().rows
    journal, journal_lines = _journal_rows(*futures[2:]) if with_journal else (None, None)
    # Judged on what F&O sent: a full page may have been cut off, whatever the filter below keeps of it. The filter:
    # never trust F&O's filter alone, every document row must name this company and this order.
    complete = len(slips) < _SLIPS_MAX and (
        journal is None or journal_lines is None or (len(journal) < _SLIPS_MAX and len(journal_lines) < _SLIP_LINES_MAX)
    )
    return OrderDetail.from_rows({
        "header": row,
        "slips": _of_order(slips, company, number, "SalesOrderNumber"),
        "journal": None if journal is None else _of_order(journal, company, number, "SalesId"),
        "journal_lines": None if journal_lines is None else _of_order(journal_lines, company, number, "SalesId"),
        "shipping_complete": complete,
        "invoices": _of_order(invoices, company, number, "SalesOrderNumber"),
    })


def _of_order(rows: list[dict], company: str, number: str, number_field: str) -> list[dict]:
    return [
        r for r in rows
        if str(r.get("dataAreaId", "")).lower() == company
        and str(r.get(number_field, "")).casefold() == number.casefold()
    ]


def _owns(accounts: tuple[AccountRef, ...], company: str, account: str) -> bool:
    # F&O compares strings without regard to case (SQL collation), so the check does too.
    return any(a.company == company.lower() and a.account.casefold() == account.casefold() for a in accounts)


def _owned(row: dict, accounts: tuple[AccountRef, ...], company: str, number: str) -> bool:
    order_company = str(row.get("dataAreaId", "")).lower()
    return (
        order_company == company
        and str(row.get("SalesOrderNumber", "")).casefold() == number.casefold()
        and _owns(accounts, order_company, str(row.get("OrderingCustomerAccountNumber", "")))
    )


# Staff ---------------------------------------------------------------------------------------------------------

STAFF_RESULTS = 50


def order_search_any(*, q: str, company: str, request_id: str) -> list[SalesOrder]:
    """Support's search across every company: order number, customer account, or the customer's reference."""
    q = " ".join(q.split()).replace("*", "")
    if not q or len(q) > SEARCH_MAX or any(unicodedata.category(ch) == "Cc" for ch in q):
        raise InvalidLookup("search text")
    if company and not COMPANY.fullmatch(company):
        raise InvalidLookup("company")
    condition = any_of(
        eq("SalesOrderNumber", q),
        eq("OrderingCustomerAccountNumber", q),
        like("CustomersOrderReference", f"*{q}*"),
        like("CustomerRequisitionNumber", f"*{q}*"),
    )
    if company:
        condition = eq("dataAreaId", company) & condition
    query = (
        _query(settings.D365_ENTITY_SALES_ORDERS)
        .where(condition)
        .selecting(*SalesOrder.LIST_FIELDS)
        .ordered_by("OrderCreationDateTime desc")
        .page(top=STAFF_RESULTS)
    )
    try:
        page = d365.get_odata_client().get_page(query, deadline=_deadline(), request_id=request_id)
        return [SalesOrder.from_odata(row) for row in page.rows]
    except ODataError as exc:
        raise unavailable_from(exc) from exc


def customer_account_exists(*, company: str, account: str, request_id: str) -> bool:
    """A key read of the customer in that company; used before linking a portal user to it."""
    from orders.odata.errors import EntityNotFound

    query = (
        _query(settings.D365_ENTITY_CUSTOMERS)
        .by_key(dataAreaId=company, CustomerAccount=account)
        .selecting("dataAreaId", "CustomerAccount")
    )
    try:
        d365.get_odata_client().get_one(query, deadline=_deadline(), request_id=request_id)
    except EntityNotFound:
        return False
    return True
