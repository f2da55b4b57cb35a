"""The honest pages every HTML audience answers with when a lookup cannot: F&O unavailable, or the user's budget
of F&O reads used up. Shared by the customer's and the staff views, so neither imports the other. And the order
page's extension point for other apps' panels."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from orders.exceptions import LookupBudgetExceeded, OrdersUnavailable
from orders.presenters import OrderDetail


def budget_response(request: HttpRequest, exc: LookupBudgetExceeded) -> HttpResponse:
    seconds = max(1, math.ceil(exc.retry_after))
    response = render(request, "orders/web/busy.html", {"retry_after": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def unavailable_response(request: HttpRequest, problem: OrdersUnavailable) -> HttpResponse:
    # Whole seconds, as the Retry-After header says them: the page counts them ("1 second", "40 seconds").
    seconds = None if problem.retry_after is None else max(1, math.ceil(problem.retry_after))
    response = render(request, "orders/web/unavailable.html", {"problem": problem, "retry_after": seconds},
                      status=problem.status_code)
    if seconds is not None:
        response["Retry-After"] = str(seconds)
    return response


# What other apps add to the order page, below its head: each registers a function in its AppConfig.ready() (the
# watching app, its "Notify me of changes" control), so the order page knows none of them.
@dataclass(frozen=True)
class Panel:
    """A panel of the order page: its template, included by the page's own template (in the page's context: the
    context processors run and the CSRF token is masked once per page, not once per panel), with `panel` set to
    `context`."""

    template: str
    context: Mapping[str, object]


OrderPanel = Callable[[HttpRequest, OrderDetail], Panel | None]
_order_panels: list[OrderPanel] = []


def order_page_panel(panel: OrderPanel) -> OrderPanel:
    if panel not in _order_panels:
        _order_panels.append(panel)
    return panel


def order_page_panels(request: HttpRequest, detail: OrderDetail) -> list[Panel]:
    """Each registered panel for this reader and order (None: nothing to show them)."""
    return [shown for panel in _order_panels if (shown := panel(request, detail)) is not None]
