"""The "Notify me of changes" control on the customer's order page (registered with orders.pages)."""

from __future__ import annotations

from django.http import HttpRequest

from orders.pages import Panel
from orders.presenters import OrderDetail
from watching.selectors import watch_exists


def watch_panel(request: HttpRequest, detail: OrderDetail) -> Panel | None:
    if not request.user.is_authenticated:
        return None
    order = detail.order
    watching = watch_exists(user_id=request.user.pk, company=order.company, number=order.number)
    return Panel("watching/web/watch_control.html", {"order": order, "watching": watching})
