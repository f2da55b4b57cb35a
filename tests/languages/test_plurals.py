"""Counted waits are said with the plural their count needs, in both languages: the "order system unavailable"
page counts the whole seconds its Retry-After header says."""

from __future__ import annotations

import html

import pytest
from django.test import RequestFactory
from django.utils import translation

from orders.exceptions import OrdersUnavailable
from orders.pages import unavailable_response

pytestmark = pytest.mark.django_db


def _page(language: str, retry_after: float) -> tuple[str, str]:
    request = RequestFactory().get("/orders/")
    with translation.override(language):
        response = unavailable_response(request, OrdersUnavailable("throttled", retry_after=retry_after))
    return html.unescape(response.content.decode()), response["Retry-After"]


@pytest.mark.parametrize(("language", "retry_after", "said", "header"), [
    ("en", 1, "Please try again in 1 second.", "1"),
    ("en", 0.3, "Please try again in 1 second.", "1"),
    ("en", 39.2, "Please try again in 40 seconds.", "40"),
    ("de", 1, "Bitte versuchen Sie es in 1 Sekunde erneut.", "1"),
    ("de", 40, "Bitte versuchen Sie es in 40 Sekunden erneut.", "40"),
])
def test_the_unavailable_page_counts_the_seconds_of_its_retry_after_header(
        language: str, retry_after: float, said: str, header: str) -> None:
    page, retry_header = _page(language, retry_after)
    assert said in page
    assert retry_header == header
