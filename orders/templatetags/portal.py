from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django import template
from django.template.defaultfilters import floatformat
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from django.utils.safestring import SafeString

    from orders.memo import ObjectMemo
    from orders.presenters import OrderDetail

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "") -> str:
    """1234.5, "USD" → "1,234.50 USD" in the reader's locale."""
    if amount is None:
        return "—"
    formatted = floatformat(amount, "2g")
    return f"{formatted} {currency}".strip()


@register.filter
def quantity(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    return floatformat(amount, "-3g")


@register.filter
def day(value: date | datetime | None, empty: str = "") -> str:
    """A date, or the words for "F&O has no date" (it sends 1900-01-01, which the records turn into None)."""
    if value is None:
        return empty or _("Not yet confirmed")
    if isinstance(value, datetime):
        value = localtime(value).date()
    return date_format(value, "DATE_FORMAT")


@register.filter
def moment(value: datetime | None) -> str:
    if value is None:
        return "—"
    return date_format(localtime(value), "DATETIME_FORMAT")


@register.filter
def clock(value: datetime) -> str:
    return localtime(value).strftime("%H:%M:%S")


@register.filter
def age(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(n)d second ago", "%(n)d seconds ago", seconds) % {"n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("%(n)d minute ago", "%(n)d minutes ago", minutes) % {"n": minutes}
    hours = minutes // 60
    return ngettext("%(n)d hour ago", "%(n)d hours ago", hours) % {"n": hours}


@register.filter
def line_status(status: str) -> str:
    from orders.status import line_status_label

    return line_status_label(status)


_bodies: ObjectMemo[SafeString] | None = None


@register.simple_tag
def order_body(detail: OrderDetail) -> str:
    """The order's timeline, facts, lines, shipments and invoices: the same for every reader of one cached copy in
    one language and time zone, so rendered once per copy rather than once per page view."""
    global _bodies
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe
    from django.utils.timezone import get_current_timezone_name
    from django.utils.translation import get_language

    from orders.memo import ObjectMemo

    if _bodies is None:
        _bodies = ObjectMemo()

    def render() -> SafeString:
        context = {"detail": detail, "order": detail.order, "status": detail.status, "timeline": detail.timeline}
        return mark_safe(render_to_string("orders/web/partials/order_body.html", context))  # noqa: S308

    return _bodies.get(detail, (get_language(), get_current_timezone_name()), render)
