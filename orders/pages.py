"""The honest pages every HTML audience answers with when a lookup cannot: F&O unavailable, or the user's budget
of F&O reads used up. Shared by the customer's and the staff views, so neither imports the other. And the order
page's extension point for other apps' panels."""

from __future__ import annotations

import math
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe

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
OrderPanel = Callable[[HttpRequest, OrderDetail], str]
_order_panels: list[OrderPanel] = []


def order_page_panel(panel: OrderPanel) -> OrderPanel:
    if panel not in _order_panels:
        _order_panels.append(panel)
    return panel


def order_page_panels(request: HttpRequest, detail: OrderDetail) -> list[SafeString]:
    """Each registered panel's HTML (rendered from a template, so escaped there) for this reader and order."""
    return [mark_safe(panel(request, detail)) for panel in _order_panels]  # noqa: S308
