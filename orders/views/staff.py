"""Support staff: find any order and see it as the customer does, replay a reference code, watch the F&O link."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from orders.accounts import AccountRef
from orders.audit import calls_captured, lookup_record
from orders.cached_reads import Lookup
from orders.charts import sparkline_svg
from orders.exceptions import InvalidLookup, OrderNotFound, OrdersUnavailable
from orders.filters import company_valid, order_number_valid
from orders.fno_check import fno_check_run
from orders.fno_link import fno_link_state
from orders.fno_stats import fno_minutes, fno_window_stats
from orders.pages import unavailable_response
from orders.presenters import OrderDetail, audit_replay, order_detail_context, order_history_context
from orders.request_types import SignedInRequest
from orders.selectors import (
    lookup_audits_for_reference,
    order_get_for_customer,
    order_promise_history,
    order_search_any,
)
from orders.services import order_cache_purge

StaffView = Callable[..., HttpResponse]


def staff_permission(perm: str) -> Callable[[StaffView], StaffView]:
    """Staff only (others go to sign-in), and the role's permission (others get 403)."""

    def decorator(view: StaffView) -> StaffView:
        @wraps(view)
        def wrapper(request: SignedInRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(perm):
                raise PermissionDenied(perm)
            return view(request, *args, **kwargs)

        return staff_member_required(wrapper, login_url="login")

    return decorator


LOOKUP = "orders.lookup_any_order"


def _owner(company: str, account: str, number: str) -> AccountRef:
    if not company_valid(company) or not order_number_valid(number):
        raise Http404("bad order reference")
    if not account or len(account) > 40 or not all(c.isalnum() or c in "._-" for c in account):
        raise Http404("bad account")
    return AccountRef(company, account)


@require_safe
@staff_permission(LOOKUP)
def order_lookup(request: SignedInRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    company = request.GET.get("company", "")
    context: dict[str, Any] = {"q": q, "company": company, "results": None}
    if q:
        try:
            context["results"] = order_search_any(q=q, company=company, request_id=request.reference)
            outcome, status = "ok", 200
        except InvalidLookup:
            context["error"] = _("Search for an order number, a customer account or a reference of up to 60 "
                                 "characters.")
            outcome, status = "invalid", 400
        except OrdersUnavailable as problem:
            lookup_record(request, channel="staff", kind="search", outcome="unavailable", problem=problem.kind,
                          status_code=problem.status_code, query={"q": q})
            return unavailable_response(request, problem)
        lookup_record(request, channel="staff", kind="search", outcome=outcome, status_code=status, query={"q": q})
        return render(request, "orders/staff/lookup.html", context, status=status)
    return render(request, "orders/staff/lookup.html", context)


def _staff_order(request: SignedInRequest, company: str, account: str, number: str) -> Lookup[OrderDetail]:
    owner = _owner(company, account, number)
    audit: dict[str, Any] = {"channel": "staff", "kind": "order", "company": company, "order_number": number}
    try:
        lookup = order_get_for_customer(accounts=(owner,), company=company, number=number,
                                        request_id=request.reference)
    except (OrderNotFound, InvalidLookup) as exc:
        lookup_record(request, outcome="not_found", status_code=404, **audit)
        raise Http404("no such order for that account") from exc
    lookup_record(request, outcome="stale" if lookup.stale else "ok", status_code=200, lookup=lookup, **audit)
    return lookup


@require_safe
@staff_permission(LOOKUP)
def order_view(request: SignedInRequest, company: str, account: str, number: str) -> HttpResponse:
    started = time.monotonic()
    try:
        lookup = _staff_order(request, company, account, number)
    except OrdersUnavailable as problem:
        return unavailable_response(request, problem)
    detail = lookup.value
    context = {**order_detail_context(lookup), **_history(detail)}
    context.update(
        account=account,
        raw_header={k: v for k, v in detail.rows.get("header", {}).items() if k != "SalesOrderLines"},
        raw_lines=detail.rows.get("header", {}).get("SalesOrderLines", []),
        calls=calls_captured(),
        elapsed_ms=int((time.monotonic() - started) * 1000),
        fresh_for=max(0, settings.ORDERS_CACHE_SECONDS - lookup.age_seconds),
        can_purge=request.user.has_perm("orders.purge_order_cache"),
    )
    return render(request, "orders/staff/order.html", context)


@require_safe
@staff_permission(LOOKUP)
def order_preview(request: SignedInRequest, company: str, account: str, number: str) -> HttpResponse:
    """The customer's own page, rendered with the customer's template, for support to look at."""
    try:
        lookup = _staff_order(request, company, account, number)
    except OrdersUnavailable as problem:
        return unavailable_response(request, problem)
    return render(request, "orders/web/detail.html", {**order_detail_context(lookup), **_history(lookup.value)})


def _history(detail: OrderDetail) -> dict[str, Any]:
    """The promised dates the portal has seen; never the customer's "what changed", which is theirs."""
    return order_history_context(history=order_promise_history(company=detail.order.company,
                                                               number=detail.order.number))


@require_POST
@staff_permission("orders.purge_order_cache")
def order_purge(request: SignedInRequest, company: str, account: str, number: str) -> HttpResponse:
    owner = _owner(company, account, number)
    order_cache_purge(company=owner.company, account=owner.account, number=number)
    messages.success(request, _("The cached copy is gone: the next lookup of this order reads F&O live."))
    return redirect("staff:order", company=company, account=account, number=number)


@require_safe
@staff_permission(LOOKUP)
def reference_lookup(request: SignedInRequest) -> HttpResponse:
    code = request.GET.get("code", "").strip().upper()
    if code:
        return redirect("staff:reference", code=code)
    return render(request, "orders/staff/reference_form.html")


@require_safe
@staff_permission(LOOKUP)
def reference_replay(request: SignedInRequest, code: str) -> HttpResponse:
    code = code.strip().upper()
    if len(code) > 9:
        raise Http404("not a reference code")
    records = lookup_audits_for_reference(code=code)
    replays = []
    for record in records:
        replay: dict[str, Any] = {"record": record}
        snapshot = record.snapshot
        if snapshot is not None and record.as_of is not None:
            replay.update(audit_replay(kind=snapshot.kind, rows=snapshot.rows,
                                       as_of_timestamp=record.as_of.timestamp(), source=record.cache))
        replays.append(replay)
    lookup_record(request, channel="staff", kind="replay", outcome="ok" if records else "not_found",
                  status_code=200 if records else 404, query={"q": code})
    return render(request, "orders/staff/reference.html", {"code": code, "replays": replays},
                  status=200 if records else 404)


@require_safe
@staff_permission("orders.view_fno_health")
def health(request: SignedInRequest) -> HttpResponse:
    series = fno_minutes(minutes=60)
    charts = [
        (entity_set, sparkline_svg(points, label=_("%(set)s: calls per minute, failures in red, last hour")
                                   % {"set": entity_set}))
        for entity_set, points in series.items()
    ]
    link = fno_link_state()
    token = link.token
    now = datetime.now(UTC).timestamp()
    return render(request, "orders/staff/health.html", {
        "stats": fno_window_stats(),
        "charts": charts,
        "breaker": link.breaker,
        "token_kind": link.token_kind,
        "token": token,
        "token_expires_in": int(token.expires_at - now) if token.expires_at else None,
        "now": now,
        "check": cache.get(_health_check_key(request)),
    })


@require_POST
@staff_permission("orders.view_fno_health")
def health_test(request: SignedInRequest) -> HttpResponse:
    """The IT team's `fno_check` from the page: token, $metadata against what the portal reads, one read per entity
    set, companies, linked accounts. Bounded so the page answers within seconds even while F&O hangs."""
    report = fno_check_run(budget_seconds=HEALTH_CHECK_BUDGET_SECONDS, request_id=request.reference)
    cache.set(_health_check_key(request), report.as_dict(), timeout=3600)
    if report.ok:
        messages.success(request, _("F&O answered in %(ms)d ms: every check passed.") % {"ms": report.elapsed_ms})
    else:
        messages.error(request, _("F&O did not answer properly: %(n)d problem(s), see the table (after %(ms)d ms).")
                       % {"n": len(report.problems), "ms": report.elapsed_ms})
    return redirect("staff:health")


# Below the worker timeout (gunicorn.conf.py), and each F&O call is also bounded by D365_TIMEOUT_SECONDS.
HEALTH_CHECK_BUDGET_SECONDS = 12.0


def _health_check_key(request: SignedInRequest) -> str:
    return f"staff:fno-check:{request.user.pk}"
