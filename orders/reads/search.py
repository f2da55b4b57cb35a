"""Support's reads across every customer: the order search, and whether a customer account exists."""

from __future__ import annotations

from django.conf import settings

from orders import d365
from orders.odata.client import Deadline
from orders.odata.errors import EntityNotFound
from orders.odata.query import Query, any_of, eq, like
from orders.records import SalesOrder

STAFF_RESULTS = 50


def orders_matching(*, q: str, company: str, deadline: Deadline, request_id: str) -> list[SalesOrder]:
    """Orders whose number or customer account is `q`, or whose customer reference or requisition holds it; in
    `company`, or in every company the service user sees when it is empty. `q` and `company` are validated."""
    condition = any_of(
        eq("SalesOrderNumber", q),
        eq("OrderingCustomerAccountNumber", q),
        like("CustomersOrderReference", f"*{q}*"),
        like("CustomerRequisitionNumber", f"*{q}*"),
    )
    if company:
        condition = eq("dataAreaId", company) & condition
    query = (
        Query(settings.D365_ENTITY_SALES_ORDERS)
        .where(condition)
        .selecting(*SalesOrder.LIST_FIELDS)
        .ordered_by("OrderCreationDateTime desc")
        .page(top=STAFF_RESULTS)
    )
    page = d365.get_odata_client().get_page(query, deadline=deadline, request_id=request_id)
    return [SalesOrder.from_odata(row) for row in page.rows]


def customer_account_found(*, company: str, account: str, deadline: Deadline, request_id: str) -> bool:
    """A key read of the customer in that company."""
    query = (
        Query(settings.D365_ENTITY_CUSTOMERS)
        .by_key(dataAreaId=company, CustomerAccount=account)
        .selecting("dataAreaId", "CustomerAccount")
    )
    try:
        d365.get_odata_client().get_one(query, deadline=deadline, request_id=request_id)
    except EntityNotFound:
        return False
    return True
