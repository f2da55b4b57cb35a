"""The customer's order list: one page of headers with their lines' amounts, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from django.conf import settings

from orders import d365, list_reads
from orders.accounts import AccountRef, accounts_own
from orders.filters import OrderFilters
from orders.odata.client import Deadline
from orders.odata.query import Filter, Query, all_of, any_of, eq, ge, le, like
from orders.odata.values import read_str
from orders.records import SalesOrder
from orders.status import status_filter


@dataclass(frozen=True)
class ListRows:
    rows: list[dict[str, Any]]  # the page's header rows, each one of the customer's own
    total_count: int | None


def _conditions(filters: OrderFilters) -> list[Filter]:
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
    return conditions


def order_rows_for_customer(
    *, accounts: tuple[AccountRef, ...], filters: OrderFilters, deadline: Deadline, request_id: str
) -> ListRows:
    conditions = _conditions(filters)
    base = (
        Query(settings.D365_ENTITY_SALES_ORDERS)
        .selecting(*SalesOrder.LIST_FIELDS)
        .expanding(settings.D365_NAV_SALES_ORDER_LINES, "LineAmount", "SalesOrderLineStatus")
    )
    # The customer's accounts lead the $filter; when they make the URL too long, the read is split.
    read = list_reads.order_rows_read(
        client=d365.get_odata_client(), base=base, accounts=[(a.company, a.account) for a in accounts],
        condition=all_of(*conditions) if conditions else None, page=filters.page,
        page_size=filters.page_size, deadline=deadline, request_id=request_id,
    )
    # Never trust the filter alone: every row must name one of the customer's own accounts.
    rows = [
        row for row in read.rows[:filters.page_size]
        if accounts_own(accounts, read_str(row, "dataAreaId"), read_str(row, "OrderingCustomerAccountNumber"))
    ]
    return ListRows(rows, read.total_count)
