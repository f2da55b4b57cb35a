"""Reads. Every order read is scoped to the customer's own (company, account) pairs in the OData $filter,
and the answer is checked against those pairs again before anyone sees it."""

from __future__ import annotations

import contextvars
import hashlib
import json
import re
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from orders import d365
from orders.exceptions import InvalidLookup, OrderNotFound
from orders.local_cache import LocalCache
from orders.models import ApiToken, CustomerAccountLink
from orders.odata.client import Deadline
from orders.odata.query import Filter, Query, all_of, any_of, eq, ge, le, like
from orders.records import Invoice, OrderLine, SalesOrder, Shipment
from orders.snapshots import Lookup, read_through
from orders.status import CODES, CustomerStatus, customer_status, status_filter
from orders.timeline import Step, order_timeline

ORDER_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,39}")
COMPANY = re.compile(r"[a-z0-9]{1,8}")
SEARCH_MAX = 60
PAGE_SIZE = 20
MAX_PAGE = 500
_CACHE_VERSION = "v1"
_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="fno-read")


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
            summaries.append(OrderSummary(order, lines_total(lines)))
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
    shipments: list[Shipment]
    invoices: list[Invoice]
    rows: dict = field(default_factory=dict)  # F&O's rows as read: header (with lines), slips, invoices

    @classmethod
    def from_rows(cls, rows: dict) -> OrderDetail:
        header = rows["header"]
        lines = sorted(
            (OrderLine.from_odata(r) for r in header.get(settings.D365_NAV_SALES_ORDER_LINES) or []),
            key=lambda line: line.line_number,
        )
        return cls(
            order=SalesOrder.from_odata(header),
            lines=lines,
            shipments=[Shipment.from_odata(r) for r in rows.get("slips", [])],
            invoices=[Invoice.from_odata(r) for r in rows.get("invoices", [])],
            rows=rows,
        )

    @property
    def status(self) -> CustomerStatus:
        return order_status(self.order)

    @property
    def timeline(self) -> list[Step]:
        return order_timeline(order=self.order, status=self.status, shipments=self.shipments, invoices=self.invoices)

    @property
    def total(self) -> Decimal:
        return lines_total(self.lines)

    @property
    def invoiced_total(self) -> Decimal:
        return sum((i.amount for i in self.invoices), Decimal(0))


def lines_total(lines: list[OrderLine]) -> Decimal:
    # F&O reports header totals as 0 until they are calculated (reference §2), so add up the lines.
    return sum((line.amount for line in lines if line.status != "Canceled"), Decimal(0))


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


# Token checks are the hottest read of the API; a few seconds' lag on revocation in *other* processes is the price
# (the revoking process forgets at once). Keyed by the token's hash, never the token.
_principals = LocalCache(max_entries=10_000, ttl=5.0)
_LAST_USED_EVERY_SECONDS = 60


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_forget(*, token_hash: str) -> None:
    _principals.delete(token_hash)


def api_token_authenticate(*, raw: str) -> ApiPrincipal | None:
    if not raw or len(raw) > 200:
        return None
    digest = hash_token(raw)
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


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    if raw in (None, ""):
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidLookup("number")
    return int(raw)


def _date(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidLookup("date") from exc
    return value


def _accounts_filter(accounts: tuple[AccountRef, ...]) -> Filter:
    # One query across every company and account of the customer; F&O has no `in`, so this is an `or` chain.
    by_company: dict[str, list[str]] = {}
    for ref in accounts:
        by_company.setdefault(ref.company, []).append(ref.account)
    return any_of(
        *(
            all_of(eq("dataAreaId", company), any_of(*(eq("OrderingCustomerAccountNumber", a) for a in accts)))
            for company, accts in sorted(by_company.items())
        )
    )


def _key(*parts: object) -> str:
    digest = hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:32]
    return f"orders:{_CACHE_VERSION}:{parts[0]}:{digest}"


def order_cache_key(*, company: str, account: str, number: str) -> str:
    return f"orders:{_CACHE_VERSION}:order:{company}:{account.casefold()}:{number.casefold()}"


def _deadline() -> Deadline:
    return Deadline(settings.D365_TIMEOUT_SECONDS)


def _query(entity_set: str) -> Query:
    return Query(entity_set)


def order_list_for_customer(
    *, accounts: tuple[AccountRef, ...], filters: OrderFilters, request_id: str, refresh: bool = False
) -> Lookup[OrderPage]:
    if not accounts:
        return Lookup(OrderPage([], 0, filters.page, filters.page_size), datetime.now(UTC).timestamp(), "live")
    key = _key("list", [str(a) for a in accounts], filters)

    def fetch(deadline: Deadline) -> OrderPage:
        condition = _accounts_filter(accounts)
        if filters.q:
            condition = condition & any_of(
                eq("SalesOrderNumber", filters.q),
                like("CustomersOrderReference", f"*{filters.q}*"),
                like("CustomerRequisitionNumber", f"*{filters.q}*"),
            )
        if filters.status:
            condition = condition & status_filter(filters.status)
        if filters.date_from:
            condition = condition & ge("OrderCreationDateTime", datetime.combine(filters.date_from, time.min, UTC))
        if filters.date_to:
            condition = condition & le("OrderCreationDateTime", datetime.combine(filters.date_to, time.max, UTC)
                                       .replace(microsecond=0))
        query = (
            _query(settings.D365_ENTITY_SALES_ORDERS)
            .where(condition)
            .selecting(*SalesOrder.LIST_FIELDS)
            .expanding(settings.D365_NAV_SALES_ORDER_LINES, "LineAmount", "SalesOrderLineStatus")
            .ordered_by("OrderCreationDateTime desc", "SalesOrderNumber desc")
            .page(top=filters.page_size, skip=(filters.page - 1) * filters.page_size)
            .with_count()
        )
        page = d365.get_odata_client().get_page(query, deadline=deadline, request_id=request_id)
        return OrderPage.from_rows(
            page.rows, total_count=page.count, page=filters.page, page_size=filters.page_size, accounts=accounts
        )

    return read_through((key,), fetch, store_key=lambda _: key, refresh=refresh, deadline=_deadline())


def order_status(order: SalesOrder) -> CustomerStatus:
    return customer_status(status=order.status, processing=order.processing_status, on_hold=order.on_hold)


def order_lookup_validate(*, company: str, number: str) -> None:
    if not COMPANY.fullmatch(company) or not ORDER_NUMBER.fullmatch(number):
        raise InvalidLookup("order reference")


def order_get_for_customer(
    *, accounts: tuple[AccountRef, ...], company: str, number: str, request_id: str, refresh: bool = False
) -> Lookup[OrderDetail]:
    """One order of the customer's. Another customer's order, another company's, or none: OrderNotFound."""
    order_lookup_validate(company=company, number=number)
    own = tuple(a for a in accounts if a.company == company)
    if not own:
        raise OrderNotFound(number)
    keys = tuple(order_cache_key(company=company, account=a.account, number=number) for a in own)

    def fetch(deadline: Deadline) -> OrderDetail:
        return _order_detail_fetch(
            accounts=own, company=company, number=number, request_id=request_id, deadline=deadline
        )

    lookup = read_through(
        keys,
        fetch,
        store_key=lambda d: order_cache_key(company=company, account=d.order.customer_account, number=number),
        refresh=refresh,
        deadline=_deadline(),
    )
    # Whatever the source, the copy must belong to one of this customer's accounts.
    if not _owns(own, lookup.value.order.company, lookup.value.order.customer_account):
        raise OrderNotFound(number)
    return lookup


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
        _query(settings.D365_ENTITY_PACKING_SLIPS).where(documents).selecting(*Shipment.FIELDS)
        .ordered_by("DeliveryDate").page(top=200)
    )
    invoices_query = (
        _query(settings.D365_ENTITY_INVOICES).where(documents).selecting(*Invoice.FIELDS)
        .ordered_by("InvoiceDate").page(top=200)
    )

    def read(query: Query) -> Future:
        # The pool thread runs in a copy of this context, so its call lands in this request's capture and logs.
        return _pool.submit(contextvars.copy_context().run, client.get_page, query, deadline=deadline,
                            request_id=request_id)

    # In parallel mode the documents are read alongside the header, so a cold lookup costs one F&O round trip,
    # not two; nothing from them is kept or shown unless the header, read with the customer's own accounts in its
    # filter, proves the order is theirs. In sequential mode they are read only after that proof.
    parallel = settings.D365_DOCUMENTS_IN_PARALLEL
    early = (read(slips_query), read(invoices_query)) if parallel else None
    try:
        page = client.get_page(header_query, deadline=deadline, request_id=request_id)
    finally:
        if early is not None:
            wait(early)  # also keeps "not yours" and "yours" equally slow
    rows = [r for r in page.rows if _owned(r, accounts, company, number)]
    if len(rows) != 1:
        raise OrderNotFound(number)
    row = rows[0]
    slips_future, invoices_future = early if early is not None else (read(slips_query), read(invoices_query))
    slips_page = slips_future.result()
    invoices_page = invoices_future.result()
    return OrderDetail.from_rows({"header": row, "slips": slips_page.rows, "invoices": invoices_page.rows})


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
    page = d365.get_odata_client().get_page(query, deadline=_deadline(), request_id=request_id)
    return [SalesOrder.from_odata(row) for row in page.rows]


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
