from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
