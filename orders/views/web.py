"""The customer's pages: my orders and one order. Every failure has its own honest page."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from orders.audit import lookup_record
from orders.exceptions import InvalidLookup, LookupBudgetExceeded, OrderNotFound, OrdersUnavailable
from orders.selectors import (
    OrderDetail,
    customer_accounts,
    order_filters_parse,
    order_get_for_customer,
    order_list_for_customer,
    user_budget,
)
from orders.services import refresh_budget_take
from orders.snapshots import Lookup
from orders.status import RULES


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("orders:list")
    return render(request, "orders/web/home.html")


def _is_support_staff(request: HttpRequest) -> bool:
    # Support staff sign in through the same page; their work is the staff order lookup, not "my orders".
    return bool(request.user.is_staff) and request.user.has_perm("orders.lookup_any_order")


def budget_response(request: HttpRequest, exc: LookupBudgetExceeded) -> HttpResponse:
    seconds = max(1, math.ceil(exc.retry_after))
    response = render(request, "orders/web/busy.html", {"retry_after": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def unavailable_response(request: HttpRequest, problem: OrdersUnavailable) -> HttpResponse:
    response = render(request, "orders/web/unavailable.html", {"problem": problem}, status=problem.status_code)
    if problem.retry_after is not None:
        response["Retry-After"] = str(max(1, math.ceil(problem.retry_after)))
    return response


def _refresh_requested(request: HttpRequest) -> bool:
    if request.method != "POST":
        return False
    if refresh_budget_take(user_id=request.user.pk):
        return True
    messages.warning(request, _("You refreshed a moment ago. Please wait a minute before refreshing again."))
    return False


def _after_refresh(request: HttpRequest, refresh: bool, lookup: Lookup, url: str) -> HttpResponse:
    """Post/redirect/get: the page after a Refresh is an ordinary GET that finds the copy just read."""
    if refresh and lookup.source == "live":
        messages.success(request, _("Refreshed from our order system."))
    return HttpResponseRedirect(url)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def order_list(request: HttpRequest) -> HttpResponse:
    audit = {"channel": "web", "kind": "list", "query": request.GET.dict()}
    try:
        filters = order_filters_parse(request.GET.dict())
    except InvalidLookup:
        lookup_record(request, outcome="invalid", status_code=400, **audit)
        return render(request, "400.html", {"message": _("That search can't be used.")}, status=400)
    accounts = customer_accounts(user=request.user)
    if not accounts and _is_support_staff(request):
        return redirect("staff:order-lookup")
    refresh = _refresh_requested(request)
    try:
        lookup = order_list_for_customer(
            accounts=accounts, filters=filters, request_id=request.reference, refresh=refresh,
            budget=user_budget(user_id=request.user.pk),
        )
    except LookupBudgetExceeded as exc:
        lookup_record(request, outcome="limited", problem="over_budget", status_code=429, **audit)
        return budget_response(request, exc)
    except OrdersUnavailable as problem:
        lookup_record(request, outcome="unavailable", problem=problem.kind, status_code=problem.status_code, **audit)
        return unavailable_response(request, problem)
    lookup_record(request, outcome="stale" if lookup.stale else "ok", status_code=200, lookup=lookup, **audit)
    if request.method == "POST":
        return _after_refresh(request, refresh, lookup, request.get_full_path())
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "orders/web/list.html",
        {
            "lookup": lookup,
            "page": lookup.value,
            "filters": filters,
            "accounts": accounts,
            "show_company": len({a.company for a in accounts}) > 1,
            "statuses": RULES,
            "query_without_page": params.urlencode(),
            "is_filtered": bool(filters.q or filters.status or filters.date_from or filters.date_to),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def order_detail(request: HttpRequest, company: str, number: str) -> HttpResponse:
    accounts = customer_accounts(user=request.user)
    refresh = _refresh_requested(request)
    audit = {"channel": "web", "kind": "order", "company": company, "order_number": number}
    try:
        lookup = order_get_for_customer(
            accounts=accounts, company=company, number=number, request_id=request.reference, refresh=refresh,
            budget=user_budget(user_id=request.user.pk),
        )
    except LookupBudgetExceeded as exc:
        lookup_record(request, outcome="limited", problem="over_budget", status_code=429, **audit)
        return budget_response(request, exc)
    except (OrderNotFound, InvalidLookup) as exc:
        outcome = "invalid" if isinstance(exc, InvalidLookup) else "not_found"
        lookup_record(request, outcome=outcome, status_code=404, **audit)
        raise Http404("no such order for this customer") from exc
    except OrdersUnavailable as problem:
        lookup_record(request, outcome="unavailable", problem=problem.kind, status_code=problem.status_code, **audit)
        return unavailable_response(request, problem)
    lookup_record(request, outcome="stale" if lookup.stale else "ok", status_code=200, lookup=lookup, **audit)
    if request.method == "POST":
        return _after_refresh(request, refresh, lookup, request.path)
    return render(request, "orders/web/detail.html", order_detail_context(lookup, refresh_url=request.path))


def order_detail_context(lookup: Lookup[OrderDetail], *, refresh_url: str = "") -> dict:
    """Shared with the staff views, which render the same customer template for the same order."""
    detail = lookup.value
    return {
        "lookup": lookup,
        "detail": detail,
        "order": detail.order,
        "status": detail.status,
        "timeline": detail.timeline,
        "refresh_url": refresh_url,
    }
