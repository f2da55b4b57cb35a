"""The JSON API for mobile apps: bearer tokens, problem details (RFC 9457), ETags and freshness on every answer.

What every view shares (authentication, limits, problems, audit) is `orders.api.auth.api_view`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.utils.translation import get_language

from orders.api.auth import ApiRequest, api_view
from orders.api.responses import body_encode_once, body_extend, fresh_for, json_response
from orders.api.serializers import freshness, order_detail_json, order_summary_json, promise_history_json
from orders.api_tokens import ApiPrincipal
from orders.cached_reads import Lookup
from orders.exceptions import InvalidLookup, OrderNotFound
from orders.forms import OrderFilterForm
from orders.presenters import OrderDetail, OrderPage
from orders.selectors import order_get_for_customer, order_list_for_customer, order_promise_history, user_budget
from orders.services import order_seen_record


@api_view
def me(request: ApiRequest, principal: ApiPrincipal) -> HttpResponse:
    body = {
        "email": principal.email,
        "accounts": [{"company": a.company, "account": a.account} for a in principal.accounts],
    }
    return json_response(request, body, max_age=0)


@api_view
def order_list(request: ApiRequest, principal: ApiPrincipal) -> HttpResponse:
    filters = OrderFilterForm(request.GET, strict=True).filters()
    lookup: Lookup[OrderPage] = order_list_for_customer(
        accounts=principal.accounts, filters=filters, request_id=request.reference,
        budget=user_budget(user_id=principal.user_id),
    )
    request.api_lookup = lookup
    page = lookup.value
    next_url = None
    if page.has_next:
        query = {k: v for k, v in request.GET.dict().items() if k != "page"} | {"page": str(page.page + 1)}
        next_url = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
    body: dict[str, Any] = {
        "results": [order_summary_json(s, request) for s in page.orders],
        "page": page.page,
        "page_size": page.page_size,
        "count": page.total_count,
        "next": next_url,
        **freshness(lookup),
    }
    return json_response(request, body, max_age=fresh_for(lookup))


@api_view
def order_detail(request: ApiRequest, principal: ApiPrincipal, company: str, number: str) -> HttpResponse:
    try:
        lookup: Lookup[OrderDetail] = order_get_for_customer(
            accounts=principal.accounts, company=company, number=number, request_id=request.reference,
            budget=user_budget(user_id=principal.user_id),
        )
    except InvalidLookup as exc:
        raise OrderNotFound(number) from exc  # a reference that cannot exist is simply not there
    request.api_lookup = lookup
    detail = lookup.value
    encoded = body_encode_once(
        detail, (lookup.source, lookup.taken_at, get_language()),
        lambda: {**order_detail_json(detail), **freshness(lookup)},
    )
    # The reader's own: what changed since they last looked (a HEAD request is not a look), and the promised dates.
    # A first look is an empty list too, so the ETag of an unchanged order is the same from the first answer on.
    changes = order_seen_record(user_id=principal.user_id, detail=detail) if request.method == "GET" else None
    history = order_promise_history(company=detail.order.company, number=detail.order.number)
    encoded = body_extend(encoded, {"changes_since_last_view": changes or [],
                                    "promise_history": promise_history_json(history)})
    return json_response(request, encoded, max_age=fresh_for(lookup))
