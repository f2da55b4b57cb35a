"""Guest tracking's reads: whose order a number is, across every company (cross-company=true, as support's search),
either proven by one fact only its customer has or named by a signed link.

The fact is in the $filter beside the number, so F&O returns nothing for a wrong one; what it returns is checked
again here, compared as F&O compares text (case and surrounding spaces ignored), whatever F&O's collation did.
F&O's string comparisons are case-insensitive by its SQL collation, but that is unconfirmed (reference §6): should a
site compare case-sensitively, "se1 9tg" would not find "SE1 9TG". Postal codes are kept upper-case by F&O's
address forms, so the fact's upper-case form is asked for too, in the same request (the URL grows by one term,
nothing more). References are the customer's own text: asked for as typed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from orders import d365
from orders.odata.client import Deadline
from orders.odata.query import Query, any_of, eq
from orders.records import OrderOwner

# One order number in two companies is possible (each company numbers its own orders); a few rows are plenty.
OWNERS_MAX = 5


def _same(a: str, b: str) -> bool:
    """Equal the way F&O's SQL collation compares text: case and surrounding spaces ignored."""
    return a.strip().casefold() == b.strip().casefold()


def _proven(owner: OrderOwner, number: str, fact: str) -> bool:
    """Whether the row is order `number` and `fact` is its delivery postal code or its customer's reference. An
    empty fact proves nothing, not even for an order without a reference."""
    return _same(owner.number, number) and bool(fact.strip()) and (
        _same(owner.postal_code, fact) or _same(owner.customer_reference, fact)
    )


def _owners(query: Query, *, deadline: Deadline, request_id: str) -> list[dict[str, Any]]:
    page = d365.get_odata_client().get_page(query.page(top=OWNERS_MAX), deadline=deadline, request_id=request_id)
    return page.rows


def order_owners_proven(*, number: str, fact: str, deadline: Deadline, request_id: str) -> list[OrderOwner]:
    """The orders numbered `number` in any company whose delivery postal code or customer's reference is `fact`.
    Both are validated (orders.filters): no `*`, which F&O would read as a wildcard."""
    proof = any_of(
        eq("DeliveryAddressZipCode", fact),
        eq("DeliveryAddressZipCode", fact.upper()),
        eq("CustomersOrderReference", fact),
    )
    query = Query(settings.D365_ENTITY_SALES_ORDERS).where(eq("SalesOrderNumber", number) & proof)
    rows = _owners(query.selecting(*OrderOwner.FIELDS), deadline=deadline, request_id=request_id)
    owners = (OrderOwner.from_odata(row) for row in rows)
    # Never trust the filter alone: the number and the fact must match what F&O sent back.
    return [o for o in owners if _proven(o, number, fact)]


def order_owners_named(*, company: str, number: str, deadline: Deadline, request_id: str) -> list[OrderOwner]:
    """The order `number` of `company` (one at most), for a signed link that names exactly that."""
    query = Query(settings.D365_ENTITY_SALES_ORDERS).where(eq("dataAreaId", company) & eq("SalesOrderNumber", number))
    rows = _owners(query.selecting(*OrderOwner.FIELDS), deadline=deadline, request_id=request_id)
    owners = (OrderOwner.from_odata(row) for row in rows)
    return [o for o in owners if o.company == company and _same(o.number, number)]
