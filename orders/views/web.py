"""The customer's pages: my orders and one order. Every failure has its own honest page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from orders.accounts import customer_accounts
from orders.audit import lookup_record
from orders.cached_reads import Lookup
from orders.exceptions import InvalidLookup, LookupBudgetExceeded, OrderNotFound, OrdersUnavailable
from orders.forms import OrderFilterForm
from orders.pages import budget_response, order_page_panels, unavailable_response
from orders.presenters import order_detail_context, order_history_context
from orders.request_types import SignedInRequest
from orders.selectors import order_get_for_customer, order_list_for_customer, order_promise_history, user_budget
from orders.services import order_seen_record, refresh_budget_take
from orders.status import RULES


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("orders:list")
    return render(request, "orders/web/home.html", {"guest_tracking": settings.GUEST_TRACKING})


def _is_support_staff(request: HttpRequest) -> bool:
    # Support staff sign in through the same page; their work is the staff order lookup, not "my orders".
    return bool(request.user.is_staff) and request.user.has_perm("orders.lookup_any_order")


def _refresh_requested(request: SignedInRequest) -> bool:
    if request.method != "POST":
        return False
    if refresh_budget_take(user_id=request.user.pk):
        return True
    messages.warning(request, _("You refreshed a moment ago. Please wait a minute before refreshing again."))
    return False


def _after_refresh(request: HttpRequest, refresh: bool, lookup: Lookup[Any], url: str) -> HttpResponse:
    """Post/redirect/get: the page after a Refresh is an ordinary GET that finds the copy just read."""
    if refresh and lookup.source == "live":
        messages.success(request, _("Refreshed from our order system."))
    return HttpResponseRedirect(url)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def order_list(request: SignedInRequest) -> HttpResponse:
    audit: dict[str, Any] = {"channel": "web", "kind": "list", "query": request.GET.dict()}
    try:
        filters = OrderFilterForm(request.GET).filters()
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
            "is_filtered": filters.narrowed,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def order_detail(request: SignedInRequest, company: str, number: str) -> HttpResponse:
    accounts = customer_accounts(user=request.user)
    refresh = _refresh_requested(request)
    audit: dict[str, Any] = {"channel": "web", "kind": "order", "company": company, "order_number": number}
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
    detail = lookup.value
    context = order_detail_context(lookup, refresh_url=request.path)
    context.update(order_history_context(
        history=order_promise_history(company=detail.order.company, number=detail.order.number),
        # A HEAD request shows nobody anything: it is not a look.
        changes=order_seen_record(user_id=request.user.pk, detail=detail) if request.method == "GET" else None,
    ))
    context["panels"] = order_page_panels(request, detail)
    return render(request, "orders/web/detail.html", context)

