"""Reads, as views call them: an order or a page of orders of the customer's own accounts, served from a short-lived
copy or read live from F&O (orders.reads), and support's search.

Every order read is scoped to the customer's own (company, account) pairs in the OData $filter, and the answer is
checked against those pairs again before anyone sees it, whether it came from F&O or from a copy.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache

from orders.accounts import AccountRef, accounts_own
from orders.cached_reads import Lookup, copy_put, read_through, unavailable_from
from orders.client_address import address_network
from orders.exceptions import InvalidLookup, OrderNotFound
from orders.filters import SEARCH_MAX, OrderFilters, company_valid, guest_fact_valid, order_number_valid
from orders.history import PromiseHistory, promise_dates_record, promise_history
from orders.models import LookupAudit
from orders.odata.client import Deadline
from orders.odata.errors import ODataError
from orders.presenters import OrderDetail, OrderPage
from orders.reads import guest, order_detail, order_list, search, watched
from orders.records import OrderOwner, SalesOrder
from orders.resilience.budget import GUEST_BUDGET_PREFIX

# v4: the documents' records moved to orders.documents (copies are pickled: a copy names its classes' modules);
# v3: copies of orders.presenters' values; v2: shipments from the packing slip journal.
_CACHE_VERSION = "v4"


def _deadline() -> Deadline:
    return Deadline(settings.D365_TIMEOUT_SECONDS)


def _key(*parts: object) -> str:
    digest = hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:32]
    return f"orders:{_CACHE_VERSION}:{parts[0]}:{digest}"


def order_cache_key(*, company: str, account: str, number: str) -> str:
    # Order numbers may hold spaces and other characters a cache key must not: quote them.
    return f"orders:{_CACHE_VERSION}:order:{company}:{account.casefold()}:{quote(number.casefold(), safe='')}"


def _not_found_key(budget: str, company: str, number: str) -> str:
    return f"orders:{_CACHE_VERSION}:nf:{budget}:{company}:{quote(number.casefold(), safe='')}"


def user_budget(*, user_id: int) -> str:
    """The name of a user's budget of F&O reads (ORDERS_USER_BUDGET): one for the web and all their API tokens."""
    return f"user:{user_id}"


def order_list_for_customer(
    *, accounts: tuple[AccountRef, ...], filters: OrderFilters, request_id: str, refresh: bool = False,
    budget: str | None = None,
) -> Lookup[OrderPage]:
    if not accounts:
        return Lookup(OrderPage([], 0, filters.page, filters.page_size), datetime.now(UTC).timestamp(), "live")
    key = _key("list", [str(a) for a in accounts], filters)

    def fetch(deadline: Deadline) -> OrderPage:
        read = order_list.order_rows_for_customer(
            accounts=accounts, filters=filters, deadline=deadline, request_id=request_id
        )
        return OrderPage.from_rows(read.rows, total_count=read.total_count, page=filters.page,
                                   page_size=filters.page_size)

    return read_through((key,), fetch, store_key=lambda _: key, refresh=refresh, deadline=_deadline(), budget=budget)


def order_lookup_validate(*, company: str, number: str) -> None:
    if not company_valid(company) or not order_number_valid(number):
        raise InvalidLookup("order reference")


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

    def remembered_not_found(peeked: Mapping[str, object]) -> None:
        if not_found_key is not None and not refresh and peeked.get(not_found_key):
            raise OrderNotFound(number)

    def fetch(deadline: Deadline) -> OrderDetail:
        detail = OrderDetail.from_rows(order_detail.order_rows_for_customer(
            accounts=own, company=company, number=number, request_id=request_id, deadline=deadline
        ))
        promise_dates_record(orders=[detail.order])  # only reads that went to F&O: cached copies cost nothing
        return detail

    try:
        lookup = read_through(
            keys,
            fetch,
            store_key=lambda d: order_cache_key(company=company, account=d.order.customer_account, number=number),
            refresh=refresh,
            deadline=_deadline(),
            budget=budget,
            on_miss=remembered_not_found,
            miss_keys=(not_found_key,) if not_found_key is not None else (),
        )
    except OrderNotFound:
        if not_found_key is not None and settings.ORDERS_NOT_FOUND_SECONDS > 0:
            cache.set(not_found_key, 1, timeout=settings.ORDERS_NOT_FOUND_SECONDS)
        raise
    # Whatever the source, the copy must belong to one of this customer's accounts.
    if not accounts_own(own, lookup.value.order.company, lookup.value.order.customer_account):
        raise OrderNotFound(number)
    return lookup


def order_details_refresh(
    *, company: str, account: str, numbers: Sequence[str], request_id: str
) -> dict[str, OrderDetail]:
    """The watcher's re-read: up to 20 orders of one customer account in one F&O request per entity set, by
    casefolded number (numbers that are not that account's orders are left out). Each is written through to the
    copy the customer's lookups read, and its promised dates are recorded. OrdersUnavailable when F&O cannot answer,
    the shared back-off and circuit breaker included."""
    if not company_valid(company) or not all(order_number_valid(n) for n in numbers):
        raise InvalidLookup("order reference")
    try:
        rows = watched.order_rows_batch(company=company, account=account, numbers=numbers, request_id=request_id,
                                        deadline=_deadline())
    except ODataError as exc:
        raise unavailable_from(exc) from exc
    details = {key: OrderDetail.from_rows(order_rows) for key, order_rows in rows.items()}
    for detail in details.values():
        order = detail.order
        copy_put(order_cache_key(company=order.company, account=order.customer_account, number=order.number), detail)
    promise_dates_record(orders=[d.order for d in details.values()])
    return details


def order_promise_history(*, company: str, number: str) -> PromiseHistory:
    """Every confirmed date the portal has seen on this order, first seen first. Call it for an order the reader
    may see (after order_get_for_customer): it is keyed by the order alone."""
    return promise_history(company=company, number=number)


# Guests --------------------------------------------------------------------------------------------------------


def guest_budget(*, address: str) -> str:
    """The budget of F&O reads (ORDERS_USER_BUDGET) of everyone tracking orders as a guest from one address (an
    IPv6 address by its /64); charged to the budget all guests share too (orders.resilience.budget)."""
    return f"{GUEST_BUDGET_PREFIX}{address_network(address)}"


def _guest_owner(owners: tuple[OrderOwner, ...], number: str) -> OrderOwner:
    """The one order found. None, or one number in two companies that the fact cannot tell apart: OrderNotFound,
    the same answer as for a wrong fact."""
    if len(owners) != 1:
        raise OrderNotFound(number)
    return owners[0]


def _owner_key(company: str, number: str) -> str:
    return _key("owner", company, number.casefold())


def guest_order_find(*, number: str, fact: str, request_id: str, budget: str) -> OrderOwner:
    """The order numbered `number`, in any company, whose delivery postal code or customer's reference is `fact`.

    One F&O read, cached, single-flight and charged to `budget` like every lookup, with the fact in its $filter:
    every answer but a match is OrderNotFound after that same read, so a wrong fact and an unknown number cost the
    same and look the same. The order itself is read by guest_order_get, which finds this answer in the cache.
    """
    if not order_number_valid(number) or not guest_fact_valid(fact):
        raise InvalidLookup("order number or verification")
    key = _key("guest", number.casefold(), fact.casefold())

    def fetch(deadline: Deadline) -> tuple[OrderOwner, ...]:
        return tuple(guest.order_owners_proven(number=number, fact=fact, deadline=deadline, request_id=request_id))

    owners = read_through((key,), fetch, store_key=lambda _: key, deadline=_deadline(), budget=budget)
    owner = _guest_owner(owners.value, number)
    if owners.source == "live":
        copy_put(_owner_key(owner.company, owner.number), (owner,))
    return owner


def guest_order_get(*, company: str, number: str, request_id: str, budget: str) -> Lookup[OrderDetail]:
    """The order a signed guest link names (company and number, nothing more): whose it is, then the same lookup
    its customer makes (the same copy, the same ownership checks)."""
    order_lookup_validate(company=company, number=number)
    key = _owner_key(company, number)

    def fetch(deadline: Deadline) -> tuple[OrderOwner, ...]:
        return tuple(guest.order_owners_named(company=company, number=number, deadline=deadline,
                                              request_id=request_id))

    owners = read_through((key,), fetch, store_key=lambda _: key, deadline=_deadline(), budget=budget)
    owner = _guest_owner(owners.value, number)
    return order_get_for_customer(
        accounts=(AccountRef(owner.company, owner.customer_account),), company=owner.company, number=owner.number,
        request_id=request_id, budget=budget,
    )


# Staff ---------------------------------------------------------------------------------------------------------


def order_search_any(*, q: str, company: str, request_id: str) -> list[SalesOrder]:
    """Support's search across every company: order number, customer account, or the customer's reference."""
    q = " ".join(q.split()).replace("*", "")
    if not q or len(q) > SEARCH_MAX or any(unicodedata.category(ch) == "Cc" for ch in q):
        raise InvalidLookup("search text")
    if company and not company_valid(company):
        raise InvalidLookup("company")
    try:
        return search.orders_matching(q=q, company=company, deadline=_deadline(), request_id=request_id)
    except ODataError as exc:
        raise unavailable_from(exc) from exc


def customer_account_exists(*, company: str, account: str, request_id: str) -> bool:
    """A key read of the customer in that company; used before linking a portal user to it. OrdersUnavailable when
    F&O cannot say."""
    try:
        return search.customer_account_found(company=company, account=account, deadline=_deadline(),
                                             request_id=request_id)
    except ODataError as exc:
        raise unavailable_from(exc) from exc


def lookup_audits_for_reference(*, code: str) -> list[LookupAudit]:
    """What the requests with this reference code saw, oldest first, with the F&O rows each was shown."""
    return list(LookupAudit.objects.filter(reference=code).select_related("user", "snapshot").order_by("at"))
