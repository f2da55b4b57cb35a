"""The order list's filters as a Django form, shared by the web page (its GET form) and the API's query string.

Anything that cannot be a real filter is refused as a whole (400), never half-applied: `filters()` raises
InvalidLookup naming the first bad field, in the order a person reads the form.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.exceptions import InvalidLookup
from orders.filters import (
    GUEST_FACT_MAX,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    ORDER_NUMBER_MAX,
    PAGE_SIZE,
    OrderFilters,
    guest_fact_valid,
    order_number_valid,
    search_text_clean,
)
from orders.status import CODES

_DIGITS = re.compile(r"[0-9]{1,6}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PARAMETERS = ("q", "status", "from", "to", "page", "page_size")


def _number(raw: str, default: int, low: int, high: int) -> int:
    if raw == "":
        return default
    # ASCII digits only: str.isdigit() also accepts "²" and "٣", which int() then refuses or reads differently.
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise forms.ValidationError("number", code="number")
    return int(raw)


def _date(raw: str) -> date | None:
    if not raw:
        return None
    # Only YYYY-MM-DD: date.fromisoformat also reads week dates and compact forms no form ever sends.
    if not _ISO_DATE.fullmatch(raw):
        raise forms.ValidationError("date", code="date")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise forms.ValidationError("date", code="date") from exc


class OrderFilterForm(forms.Form):
    """`from` and `to` are the parameters' names on the wire; `from` is a Python keyword, so the fields are added
    by name in __init__ rather than declared."""

    # Taken as sent (strip=False): a padded value is not a valid one.
    q = forms.CharField(required=False, strip=False)
    status = forms.CharField(required=False, strip=False)
    page = forms.CharField(required=False, strip=False)
    page_size = forms.CharField(required=False, strip=False)

    # What InvalidLookup names for each field's failure (the API's problem detail says "Invalid <this>.").
    _SUBJECTS = {"q": "search text", "status": "status", "page_size": "number", "from": "date", "to": "date",
                 "page": "number"}

    def __init__(self, data: Any = None, *, strict: bool = False) -> None:
        super().__init__(data)
        self.fields["from"] = forms.CharField(required=False, strip=False)
        self.fields["to"] = forms.CharField(required=False, strip=False)
        self.strict = strict

    def clean_q(self) -> str:
        q = search_text_clean(self.cleaned_data["q"] or "")
        if q is None:
            raise forms.ValidationError("search text", code="search_text")
        return q

    def clean_status(self) -> str:
        status: str = self.cleaned_data["status"] or ""
        if status and status not in CODES:
            raise forms.ValidationError("status", code="status")
        return status

    def clean_page(self) -> int:
        return _number(self.cleaned_data["page"] or "", 1, 1, MAX_PAGE)

    def clean_page_size(self) -> int:
        return _number(self.cleaned_data["page_size"] or "", PAGE_SIZE, 1, MAX_PAGE_SIZE)

    def clean_from(self) -> date | None:
        return _date(self.cleaned_data["from"] or "")

    def clean_to(self) -> date | None:
        return _date(self.cleaned_data["to"] or "")

    def filters(self) -> OrderFilters:
        """The filters, or InvalidLookup. `strict` (the API) also refuses unknown parameters and empty values: the
        web form sends blank fields, but an API client that sends `to=` has sent an invalid date."""
        if self.strict and self.data is not None:
            unknown = sorted(set(self.data) - set(PARAMETERS))
            if unknown:
                raise InvalidLookup(f"parameter {unknown[0]}")
            blank = sorted(k for k in self.data if self.data.get(k) == "" and k != "q")
            if blank:
                raise InvalidLookup(f"empty parameter {blank[0]}")
        if not self.is_valid():
            first = next(name for name in self._SUBJECTS if name in self.errors)
            raise InvalidLookup(self._SUBJECTS[first])
        data = self.cleaned_data
        return OrderFilters(q=data["q"], status=data["status"], date_from=data["from"], date_to=data["to"],
                            page=data["page"], page_size=data["page_size"])


class GuestTrackForm(forms.Form):
    """Guest tracking: an order number and one fact only its customer has. Surrounding spaces are dropped (F&O
    ignores them too); what is left must be something a lookup may ask F&O for (orders.filters)."""

    order_number = forms.CharField(label=_("Order number"), max_length=ORDER_NUMBER_MAX,
                                   widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    verification = forms.CharField(
        label=_("Delivery postal code or your order reference"), max_length=GUEST_FACT_MAX,
        help_text=_("The postal code the order is delivered to, or the reference you gave us with the order."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_order_number(self) -> str:
        number: str = self.cleaned_data["order_number"]
        if not order_number_valid(number):
            raise forms.ValidationError(_("That is not an order number we use."), code="order_number")
        return number

    def clean_verification(self) -> str:
        fact: str = self.cleaned_data["verification"]
        if not guest_fact_valid(fact):
            raise forms.ValidationError(_("Enter the postal code or reference as it appears on your order."),
                                        code="verification")
        return fact
