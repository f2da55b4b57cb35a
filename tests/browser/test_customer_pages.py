"""Sign-in, list, search, detail and the error pages in Chromium, each with an axe-core check."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_accessible
from tests.factories import PASSWORD, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, email: str = "carla@example.com") -> None:
    page.goto(live_server.url + "/accounts/login/")
    assert_accessible(page, "sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/orders/$"))


def test_sign_in_list_search_and_detail(page, live_server, live_fno) -> None:
    make_customer("carla@example.com", "usmf:US-003", "demf:US-003")
    _sign_in(page, live_server)
    assert page.get_by_role("heading", name="My orders").is_visible()
    assert page.get_by_text(re.compile(r"As of \d\d:\d\d:\d\d")).is_visible()
    rows = page.locator("table.orders tbody tr")
    assert rows.count() == 20
    assert page.get_by_role("columnheader", name="Company").is_visible()  # two companies, one list
    assert_accessible(page, "order-list")

    first = rows.first.locator("th a").inner_text()
    page.get_by_label("Order number or your reference").fill(first)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"q=" + first))
    assert page.locator("table.orders tbody tr").count() == 1
    assert_accessible(page, "order-search")

    page.get_by_label("Status").select_option("invoiced")
    page.get_by_label("Order number or your reference").fill("")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"status=invoiced"))
    page.locator("table.orders tbody tr th a").first.click()
    page.wait_for_url(re.compile(r"/orders/\w+/\d+/$"))
    assert page.get_by_role("heading", name="Progress").is_visible()
    assert page.get_by_role("heading", name="Shipments").is_visible()
    assert page.get_by_role("heading", name="Invoices").is_visible()
    assert page.locator(".step-done").count() >= 4
    assert_accessible(page, "order-detail")

    page.get_by_role("button", name="Refresh").click()
    assert page.get_by_role("status").get_by_text("Refreshed from our order system.").is_visible()


def test_detail_on_a_phone(phone, live_server, live_fno) -> None:
    make_customer("carla@example.com", "usmf:US-003", "demf:US-003")
    _sign_in(phone, live_server)
    phone.locator("table.orders tbody tr th a").first.click()
    phone.wait_for_url(re.compile(r"/orders/\w+/\d+/$"))
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing but the tables' own scroll areas is wider than the screen
    assert_accessible(phone, "order-detail-phone")


def test_error_page_without_a_stale_copy(page, live_server, live_fno) -> None:
    make_customer("carla@example.com", "usmf:US-003", "demf:US-003")
    _sign_in(page, live_server)
    live_fno.set_faults(status=429, retry_after="40")
    response = page.goto(live_server.url + "/orders/usmf/001003/")
    assert response.status == 503
    assert response.headers["retry-after"] == "40"
    assert page.get_by_role("heading", name="Our order system is busy right now").is_visible()
    assert page.get_by_text("Please try again in 40 seconds.").is_visible()
    assert_accessible(page, "error-no-stale-copy")


def test_error_page_with_a_stale_copy(page, live_server, live_fno, settings) -> None:
    settings.ORDERS_CACHE_SECONDS = 0
    make_customer("carla@example.com", "usmf:US-003", "demf:US-003")
    _sign_in(page, live_server)
    live_fno.set_faults(status=503)
    response = page.reload()
    assert response.status == 200
    assert page.get_by_role("alert").get_by_text("We can't reach our order system right now.").is_visible()
    assert page.get_by_text(re.compile(r"This is the status as of \d\d:\d\d:\d\d")).is_visible()
    assert_accessible(page, "error-with-stale-copy")
