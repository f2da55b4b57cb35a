"""Guest order tracking (/track/): an order number and one fact only its customer has, no account.

A match shows the order's status, progress, confirmed dates and shipments (orders.presenters.GuestOrder) and a
signed link to come back to it. Anything else, a wrong fact or an unknown number alike, is the same form with the
same words after the same F&O read. Every try counts against its address (an IPv6 address by its /64), the postal
code or reference typed, and its order number; guests' F&O reads share one budget; when these limits cannot be
counted, guests wait (503) rather than go unlimited. Every lookup is audited. No guest page is indexed or kept by a
shared cache.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from orders.audit import lookup_record
from orders.cached_reads import Lookup
from orders.client_address import client_address
from orders.exceptions import (
    GuestLinkExpired,
    GuestLinkInvalid,
    InvalidLookup,
    LimitsUnavailable,
    LookupBudgetExceeded,
    OrderNotFound,
    OrdersUnavailable,
)
from orders.forms import GuestTrackForm
from orders.guest_links import guest_link_read, guest_link_token
from orders.pages import unavailable_response
from orders.presenters import OrderDetail, guest_order_context
from orders.request_types import PortalRequest
from orders.selectors import guest_budget, guest_order_find, guest_order_get
from orders.services import guest_try_take

_AUDIT: dict[str, Any] = {"channel": "guest", "kind": "order"}
GuestView = Callable[[PortalRequest], HttpResponse]


def guest_page(view: GuestView) -> GuestView:
    """Off unless GUEST_TRACKING; never indexed, never kept by a shared cache (nor by the browser: the Back button
    on a shared computer must not show the order)."""

    @wraps(view)
    def wrapped(request: PortalRequest) -> HttpResponse:
        if not settings.GUEST_TRACKING:
            raise Http404("guest tracking is off")
        response = view(request)
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def _form_page(request: PortalRequest, form: GuestTrackForm, *, notice: str = "") -> HttpResponse:
    """The form: empty after a miss, so a wrong fact and an unknown number render the very same bytes."""
    context = {"form": form, "notice": notice, "link_days": settings.GUEST_LINK_DAYS}
    return render(request, "orders/guest/track.html", context)


# Why a guest is asked to wait, and with which status: their own tries used up (429), every guest's F&O reads used up
# for the minute (429), or the limits cannot be counted (503: the cache is down, and without them tracking would be
# an oracle).
_WAITS = {"tries": 429, "busy": 429, "paused": 503}


def _limited(request: PortalRequest, seconds_left: float, *, reason: str = "tries") -> HttpResponse:
    seconds = max(1, math.ceil(seconds_left))
    context = {"retry_after": seconds, "minutes": math.ceil(seconds / 60),
               "retry_at": timezone.now() + timedelta(seconds=seconds), "reason": reason}
    response = render(request, "orders/guest/limited.html", context, status=_WAITS[reason])
    response["Retry-After"] = str(seconds)
    return response


def _paused(request: PortalRequest, audit: dict[str, Any]) -> HttpResponse:
    lookup_record(request, outcome="unavailable", problem="limits_unavailable", status_code=503, **audit)
    return _limited(request, 60, reason="paused")


def _order_page(request: PortalRequest, lookup: Lookup[OrderDetail]) -> HttpResponse:
    context = guest_order_context(lookup)
    context.update(link=request.build_absolute_uri(), link_days=settings.GUEST_LINK_DAYS)
    return render(request, "orders/guest/order.html", context)


def _link(company: str, number: str) -> str:
    return f"{reverse('guest:order')}?t={guest_link_token(company=company, number=number)}"


_LOOKUP_FAILURES = (LookupBudgetExceeded, OrderNotFound, InvalidLookup, OrdersUnavailable, LimitsUnavailable)


def _failure_page(request: PortalRequest, exc: Exception, audit: dict[str, Any]) -> HttpResponse:
    """A lookup that found nothing, was refused or failed: audited, and answered as any miss is (the form again, in
    the same words) unless F&O is out: never "not found" for an outage, or the guest would think there is no order."""
    if isinstance(exc, LookupBudgetExceeded):
        problem = "guests_over_budget" if exc.shared else "over_budget"
        lookup_record(request, outcome="limited", problem=problem, status_code=429, **audit)
        return _limited(request, exc.retry_after, reason="busy" if exc.shared else "tries")
    if isinstance(exc, LimitsUnavailable):
        return _paused(request, audit)
    if isinstance(exc, OrdersUnavailable):
        lookup_record(request, outcome="unavailable", problem=exc.kind, status_code=exc.status_code, **audit)
        return unavailable_response(request, exc)
    lookup_record(request, outcome="not_found", status_code=200, **audit)
    return _form_page(request, GuestTrackForm(), notice="not_found")


@guest_page
@require_http_methods(["GET", "HEAD", "POST"])
def track(request: PortalRequest) -> HttpResponse:
    """The form, and a try: a match goes on to the order's signed link (so the address bar holds what to bookmark,
    and reloading it is not another try); anything else is the form again, empty, with the same words."""
    if request.method != "POST":
        return _form_page(request, GuestTrackForm())
    number_sent = request.POST.get("order_number", "")
    audit = {**_AUDIT, "order_number": number_sent.strip()}
    try:
        seconds_left = guest_try_take(address=client_address(request), number=number_sent,
                                      fact=request.POST.get("verification", ""))
    except LimitsUnavailable:
        return _paused(request, audit)
    if seconds_left is not None:
        lookup_record(request, outcome="limited", problem="guest_tries", status_code=429, **audit)
        return _limited(request, seconds_left)
    form = GuestTrackForm(request.POST)
    if not form.is_valid():
        lookup_record(request, outcome="invalid", status_code=200, **audit)
        return _form_page(request, form)
    try:
        owner = guest_order_find(number=form.cleaned_data["order_number"], fact=form.cleaned_data["verification"],
                                 request_id=request.reference, budget=guest_budget(address=client_address(request)))
    except _LOOKUP_FAILURES as exc:
        return _failure_page(request, exc, audit)
    lookup_record(request, outcome="ok", status_code=303, **{**audit, "company": owner.company})
    return HttpResponseRedirect(_link(owner.company, owner.number), status=303)


@guest_page
@require_safe
def tracked_order(request: PortalRequest) -> HttpResponse:
    """The signed link: the order's page, without asking again, until it expires."""
    try:
        company, number = guest_link_read(request.GET.get("t", ""))
    except GuestLinkInvalid as exc:
        notice = "link_expired" if isinstance(exc, GuestLinkExpired) else "link_invalid"
        lookup_record(request, outcome="invalid", problem=notice, status_code=200, **_AUDIT)
        return _form_page(request, GuestTrackForm(), notice=notice)
    audit = {**_AUDIT, "company": company, "order_number": number}
    try:
        lookup = guest_order_get(company=company, number=number, request_id=request.reference,
                                 budget=guest_budget(address=client_address(request)))
    except _LOOKUP_FAILURES as exc:  # the link was ours, but the order may be gone: then ask again, as for any miss
        return _failure_page(request, exc, audit)
    lookup_record(request, outcome="stale" if lookup.stale else "ok", status_code=200, lookup=lookup, **audit)
    return _order_page(request, lookup)
