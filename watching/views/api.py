"""Watching in the JSON API: watch and stop watching an order, list what the token's user watches. The same
bearer tokens, rate limit, audit and problem details as the rest of /api/v1/ (orders.api.auth)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import get_language

from orders.api.auth import ApiRequest, api_view, api_view_for
from orders.api.problems import problem
from orders.api.responses import no_store_json
from orders.api_tokens import ApiPrincipal
from orders.changes import order_state
from orders.exceptions import InvalidLookup, OrderNotFound
from orders.selectors import order_get_for_customer, order_lookup_validate, user_budget
from watching.selectors import WatchRow, watches_for_user
from watching.services import watch_start, watch_stop


def _iso(value: Any) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _watch_json(request: HttpRequest, row: WatchRow) -> dict[str, Any]:
    return {
        "company": row.company,
        "number": row.number,
        "url": request.build_absolute_uri(reverse("api:order-detail", args=[row.company, row.number])),
        "since": _iso(row.since),
        "last_change_at": _iso(row.last_change_at),
    }


@api_view_for("POST", "DELETE")
def order_watch(request: ApiRequest, principal: ApiPrincipal, company: str, number: str) -> HttpResponse:
    try:
        order_lookup_validate(company=company, number=number)
    except InvalidLookup as exc:
        raise OrderNotFound(number) from exc  # a reference that cannot exist is simply not there
    if request.method == "DELETE":
        if not watch_stop(user_id=principal.user_id, company=company, number=number):
            return problem(request, 404, "not_found", "You do not watch this order.")
        return HttpResponse(status=204)
    # Only an order this customer can see: read it through the customer's own selector (usually from its copy).
    # Another customer's order is a 404, as everywhere.
    lookup = order_get_for_customer(accounts=principal.accounts, company=company, number=number,
                                    request_id=request.reference,
                                    budget=user_budget(user_id=principal.user_id))
    request.api_lookup = lookup
    detail = lookup.value
    watch, created = watch_start(
        user_id=principal.user_id, order=detail.order, language=get_language() or "",
        state=order_state(order=detail.order, shipments=detail.shipments, invoices=detail.invoices),
    )
    row = WatchRow(detail.order.company, detail.order.number, watch.created_at, None)
    return no_store_json(_watch_json(request, row), status=201 if created else 200)


@api_view
def watch_list(request: HttpRequest, principal: ApiPrincipal) -> HttpResponse:
    return no_store_json({"results": [_watch_json(request, row) for row in watches_for_user(
        user_id=principal.user_id)]})
