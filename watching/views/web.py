"""The customer's side of watching: start or stop watching an order (a plain POST form: works without JavaScript),
and the page of orders they watch."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from orders.accounts import customer_accounts
from orders.audit import lookup_record
from orders.changes import order_state
from orders.exceptions import InvalidLookup, LookupBudgetExceeded, OrderNotFound, OrdersUnavailable
from orders.pages import budget_response, unavailable_response
from orders.request_types import SignedInRequest
from orders.selectors import order_get_for_customer, order_lookup_validate, user_budget
from watching.selectors import watches_for_user
from watching.services import watch_start, watch_stop


@login_required
@require_safe
def watch_list(request: SignedInRequest) -> HttpResponse:
    return render(request, "watching/web/watches.html", {"watches": watches_for_user(user_id=request.user.pk)})


@login_required
@require_POST
def watch_change(request: SignedInRequest) -> HttpResponse:
    """POST company, number, action ("start" or "stop") and back ("order" or "list")."""
    company, number = request.POST.get("company", ""), request.POST.get("number", "")
    try:
        order_lookup_validate(company=company, number=number)
    except InvalidLookup as exc:
        raise Http404("no such order for this customer") from exc
    if request.POST.get("action") == "stop":
        if watch_stop(user_id=request.user.pk, company=company, number=number):
            messages.success(request, _("You no longer watch order %(number)s.") % {"number": number})
        back = reverse("watching:list") if request.POST.get("back") == "list" else _order_url(company, number)
        return HttpResponseRedirect(back)
    # Only an order this customer can see may be watched: read it the way its page does (usually from the copy the
    # page just showed). Another customer's order is a 404, as everywhere.
    audit: dict[str, Any] = {"channel": "web", "kind": "order", "company": company, "order_number": number}
    try:
        lookup = order_get_for_customer(
            accounts=customer_accounts(user=request.user), company=company, number=number,
            request_id=request.reference, budget=user_budget(user_id=request.user.pk),
        )
    except LookupBudgetExceeded as exc:
        lookup_record(request, outcome="limited", problem="over_budget", status_code=429, **audit)
        return budget_response(request, exc)
    except OrderNotFound as exc:
        lookup_record(request, outcome="not_found", status_code=404, **audit)
        raise Http404("no such order for this customer") from exc
    except OrdersUnavailable as problem:
        lookup_record(request, outcome="unavailable", problem=problem.kind, status_code=problem.status_code, **audit)
        return unavailable_response(request, problem)
    lookup_record(request, outcome="stale" if lookup.stale else "ok", status_code=302, lookup=lookup, **audit)
    detail = lookup.value
    watch_start(user_id=request.user.pk, order=detail.order, language=request.LANGUAGE_CODE,
                state=order_state(order=detail.order, shipments=detail.shipments, invoices=detail.invoices))
    if request.user.email:
        messages.success(request, _("You watch this order now: we will e-mail %(email)s when it changes.")
                         % {"email": request.user.email})
    else:
        messages.success(request, _("You watch this order now."))
    return HttpResponseRedirect(_order_url(detail.order.company, detail.order.number))


def _order_url(company: str, number: str) -> str:
    return reverse("orders:detail", args=[company, number])
