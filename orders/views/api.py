"""The JSON API for mobile apps: bearer tokens, problem details (RFC 9457), ETags and freshness on every answer.

A session cookie does not authorize these views; only `Authorization: Bearer <token>` does, so there is no
CSRF exposure and the views are exempt from CSRF checks.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt

from orders.audit import lookup_record
from orders.exceptions import InvalidLookup, LookupBudgetExceeded, OrderNotFound, OrdersUnavailable
from orders.memo import ObjectMemo
from orders.rate_limit import Rate, rate_take
from orders.records import Invoice, SalesOrder
from orders.selectors import (
    ApiPrincipal,
    OrderDetail,
    OrderPage,
    OrderSummary,
    api_token_authenticate,
    order_filters_parse,
    order_get_for_customer,
    order_list_for_customer,
    user_budget,
)
from orders.shipments import LineProgress, Shipment
from orders.snapshots import Lookup
from orders.status import CustomerStatus, line_status_label

PROBLEM = "application/problem+json"
MAX_PAGE_SIZE = 100

_TITLES = {
    "invalid_parameters": "Invalid parameters",
    "unauthorized": "Authentication required",
    "not_found": "Not found",
    "server_error": "Server error",
    "method_not_allowed": "Method not allowed",
    "rate_limited": "Too many requests",
    "upstream_throttled": "Order system busy",
    "upstream_unavailable": "Order system unavailable",
    "upstream_auth": "Order system refused the portal's credentials",
    "upstream_bad_answer": "Order system sent an unreadable answer",
    "upstream_timeout": "Order system timed out",
}


def problem(request: HttpRequest, status: int, code: str, detail: str, *,
            retry_after: float | None = None, headers: dict[str, str] | None = None) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"/api/v1/problems#{code}",
        "code": code,
        "title": _TITLES[code],
        "status": status,
        "detail": detail,
        "reference": getattr(request, "reference", ""),
    }
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM)
    if retry_after is not None:
        seconds = str(max(1, math.ceil(retry_after)))
        response["Retry-After"] = seconds
        body["retry_after"] = int(seconds)
        response.content = json.dumps(body).encode()
    for name, value in (headers or {}).items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


def _unavailable(request: HttpRequest, exc: OrdersUnavailable) -> HttpResponse:
    code = {
        "throttled": "upstream_throttled",
        "timeout": "upstream_timeout",
        "auth": "upstream_auth",
        "bad_answer": "upstream_bad_answer",
    }.get(exc.kind, "upstream_unavailable")
    detail = {
        "upstream_throttled": "The order system asked us to slow down. Try again after Retry-After seconds.",
        "upstream_timeout": "The order system did not answer in time. Try again shortly.",
        "upstream_auth": "The portal could not sign in to the order system. Support has been told.",
        "upstream_bad_answer": "The order system sent an answer the portal could not read.",
        "upstream_unavailable": "The order system cannot be reached right now. Try again shortly.",
    }[code]
    return problem(request, exc.status_code, code, detail, retry_after=exc.retry_after)


def _rate_limit(principal: ApiPrincipal) -> float | None:
    """Requests per token (API_RATE_LIMIT), shared by every instance. Seconds to wait when over the limit."""
    return rate_take(f"api:{principal.token_id}", Rate.of(settings.API_RATE_LIMIT))


View = Callable[..., HttpResponse]


def api_view(view: View) -> View:
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return problem(request, 405, "method_not_allowed", "This API is read-only.", headers={"Allow": "GET, HEAD"})
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return problem(request, 401, "unauthorized", "Send Authorization: Bearer <token>.",
                           headers={"WWW-Authenticate": 'Bearer realm="orders"'})
        principal = api_token_authenticate(raw=raw.strip())
        if principal is None:
            return problem(request, 401, "unauthorized", "The token is unknown, expired or revoked.",
                           headers={"WWW-Authenticate": 'Bearer realm="orders", error="invalid_token"'})
        request.api_principal = principal  # type: ignore[attr-defined]
        wait = _rate_limit(principal)
        if wait is not None:
            return problem(request, 429, "rate_limited", "Too many requests for this token.", retry_after=wait)
        audit: dict[str, Any] = {
            "channel": "api", "user_id": principal.user_id, "query": request.GET.dict(),
            "kind": "order" if "number" in kwargs else "list",
            "company": kwargs.get("company", ""), "order_number": kwargs.get("number", ""),
        }
        try:
            response = view(request, principal, *args, **kwargs)
        except InvalidLookup as exc:
            lookup_record(request, outcome="invalid", status_code=400, **audit)
            return problem(request, 400, "invalid_parameters", f"Invalid {exc}.")
        except OrderNotFound:
            lookup_record(request, outcome="not_found", status_code=404, **audit)
            return problem(request, 404, "not_found", "No such order for this account.")
        except LookupBudgetExceeded as exc:
            lookup_record(request, outcome="limited", problem="over_budget", status_code=429, **audit)
            return problem(request, 429, "rate_limited", "Too many orders looked up that had to be read from the "
                           "order system. Orders read a moment ago still answer at once.", retry_after=exc.retry_after)
        except OrdersUnavailable as exc:
            lookup_record(request, outcome="unavailable", problem=exc.kind, status_code=exc.status_code, **audit)
            return _unavailable(request, exc)
        lookup = getattr(request, "api_lookup", None)
        if lookup is not None:
            outcome = "stale" if lookup.stale else "ok"
            lookup_record(request, outcome=outcome, status_code=response.status_code, lookup=lookup, **audit)
        patch_vary_headers(response, ["Authorization"])
        return response

    return wrapper


_bodies = ObjectMemo()


def _encode(body: dict[str, Any]) -> tuple[bytes, str]:
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return payload, '"' + hashlib.sha256(payload).hexdigest()[:40] + '"'


def _json_response(request: HttpRequest, body: dict[str, Any] | tuple[bytes, str], *, max_age: int) -> HttpResponse:
    payload, etag = body if isinstance(body, tuple) else _encode(body)
    cache_control = f"private, max-age={max_age}"
    if etag in _if_none_match(request):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(payload, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


def _if_none_match(request: HttpRequest) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {part.strip() for part in header.split(",") if part.strip()}


def _fresh_for(lookup: Lookup) -> int:
    if lookup.stale:
        return 0
    return max(0, settings.ORDERS_CACHE_SECONDS - lookup.age_seconds)


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _freshness(lookup: Lookup) -> dict[str, Any]:
    return {"as_of": _iso(lookup.as_of), "stale": lookup.stale}


def _order_fields(order: SalesOrder, status: CustomerStatus, total: Decimal) -> dict[str, Any]:
    """What a list row and an order share."""
    return {
        "company": order.company,
        "number": order.number,
        "status": status.code,
        "status_label": status.label,
        "customer_account": order.customer_account,
        "customer_reference": order.customer_reference,
        "requisition_number": order.requisition_number,
        "created_at": _iso(order.created_at),
        "requested_ship_date": _iso(order.requested_ship_date),
        "confirmed_ship_date": _iso(order.confirmed_ship_date),
        "currency": order.currency,
        "total": _money(total),
    }


def order_summary_json(summary: OrderSummary, request: HttpRequest) -> dict[str, Any]:
    order = summary.order
    return {
        **_order_fields(order, summary.status, summary.total),
        "total_kind": summary.total_kind,
        "url": request.build_absolute_uri(reverse("api:order-detail", args=[order.company, order.number])),
    }


def _plain_decimal(value: Decimal) -> str:
    # Fixed-point: Decimal("10").normalize() alone would print "1E+1".
    return format(value.normalize(), "f") if value else "0"


def _line_json(progress: LineProgress) -> dict[str, Any]:
    line = progress.line
    return {
        "line_number": _plain_decimal(line.line_number),
        "item_number": line.item_number,
        "description": line.description,
        "quantity": _plain_decimal(line.quantity),
        "unit": line.unit,
        "unit_price": _money(line.unit_price),
        "amount": _money(line.amount),
        "status": line.status.lower() or "unknown",
        "status_label": line_status_label(line.status),
        "requested_ship_date": _iso(line.requested_ship_date),
        "confirmed_ship_date": _iso(line.confirmed_ship_date),
        "confirmed_receipt_date": _iso(line.confirmed_receipt_date),
        # null: F&O's packing slip journal cannot say (not exposed, or it names a line this order lacks).
        "shipped_quantity": None if progress.shipped is None else _plain_decimal(progress.shipped),
        "remaining_quantity": None if progress.remaining is None else _plain_decimal(progress.remaining),
    }


def _shipment_json(shipment: Shipment) -> dict[str, Any]:
    return {
        "packing_slip_number": shipment.packing_slip_number,
        "shipped_on": _iso(shipment.shipped_on),
        "delivery_mode": shipment.delivery_mode or None,
        "carrier": shipment.carrier or None,
        "tracking": [{"number": t.number, "url": t.url or None} for t in shipment.tracking],
        # null: what was in this packing slip is not known (see the OpenAPI description).
        "lines": None if shipment.items is None else [
            {
                "line_number": _plain_decimal(item.line_number),
                "item_number": item.item_number,
                "description": item.description,
                "quantity": _plain_decimal(item.quantity),
                "unit": item.unit,
            }
            for item in shipment.items
        ],
    }


def _invoice_json(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "date": _iso(invoice.invoice_date),
        "currency": invoice.currency,
        "amount": _money(invoice.amount),
        "tax": _money(invoice.tax),
    }


def order_detail_json(detail: OrderDetail) -> dict[str, Any]:
    order: SalesOrder = detail.order
    status = detail.status
    return {
        **_order_fields(order, status, detail.total),
        "total_kind": detail.total_kind,
        "status_description": status.description,
        "requested_receipt_date": _iso(order.requested_receipt_date),
        "confirmed_receipt_date": _iso(order.confirmed_receipt_date),
        "delivery": {
            "name": order.delivery_name,
            "address": order.delivery_address,
            "mode": order.delivery_mode,
            "terms": order.delivery_terms,
            "carrier": order.carrier,
        },
        "lines": [_line_json(progress) for progress in detail.line_progress],
        "shipments": [_shipment_json(s) for s in detail.shipments],
        "invoices": [_invoice_json(i) for i in detail.invoices],
        "timeline": [
            {"code": s.code, "label": s.label, "state": s.state, "date": _iso(s.at), "detail": s.detail}
            for s in detail.timeline
        ],
    }


@api_view
def me(request: HttpRequest, principal: ApiPrincipal) -> HttpResponse:
    body = {
        "email": principal.email,
        "accounts": [{"company": a.company, "account": a.account} for a in principal.accounts],
    }
    return _json_response(request, body, max_age=0)


@api_view
def order_list(request: HttpRequest, principal: ApiPrincipal) -> HttpResponse:
    params = request.GET.dict()
    unknown = set(params) - {"q", "status", "from", "to", "page", "page_size"}
    if unknown:
        raise InvalidLookup(f"parameter {sorted(unknown)[0]}")
    # The web form sends blank fields; an API client that sends `to=` has sent an invalid date.
    blank = sorted(k for k, v in params.items() if v == "" and k != "q")
    if blank:
        raise InvalidLookup(f"empty parameter {blank[0]}")
    filters = order_filters_parse(params)
    lookup: Lookup[OrderPage] = order_list_for_customer(
        accounts=principal.accounts, filters=filters, request_id=request.reference,
        budget=user_budget(user_id=principal.user_id),
    )
    request.api_lookup = lookup  # type: ignore[attr-defined]
    page = lookup.value
    next_url = None
    if page.has_next:
        query = {k: v for k, v in params.items() if k != "page"} | {"page": str(page.page + 1)}
        next_url = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
    body = {
        "results": [order_summary_json(s, request) for s in page.orders],
        "page": page.page,
        "page_size": page.page_size,
        "count": page.total_count,
        "next": next_url,
        **_freshness(lookup),
    }
    return _json_response(request, body, max_age=_fresh_for(lookup))


@api_view
def order_detail(request: HttpRequest, principal: ApiPrincipal, company: str, number: str) -> HttpResponse:
    try:
        lookup: Lookup[OrderDetail] = order_get_for_customer(
            accounts=principal.accounts, company=company, number=number, request_id=request.reference,
            budget=user_budget(user_id=principal.user_id),
        )
    except InvalidLookup as exc:
        raise OrderNotFound(number) from exc  # a reference that cannot exist is simply not there
    request.api_lookup = lookup  # type: ignore[attr-defined]
    # One serialization per cached copy, freshness flag and language: not one per request.
    encoded = _bodies.get(
        lookup.value, (lookup.source, lookup.taken_at, get_language()),
        lambda: _encode({**order_detail_json(lookup.value), **_freshness(lookup)}),
    )
    return _json_response(request, encoded, max_age=_fresh_for(lookup))


def openapi(request: HttpRequest) -> HttpResponse:
    from orders.openapi import openapi_document

    return HttpResponse(json.dumps(openapi_document(), indent=1), content_type="application/json")
