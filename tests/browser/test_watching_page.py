"""Watching in Chromium: "Notify me of changes" on an order, "Orders I watch", stop watching; axe on each page."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_accessible
from tests.factories import PASSWORD, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_watch_an_order_see_it_listed_and_stop(page, live_server, live_fno) -> None:
    make_customer("alice@example.com", "usmf:US-001")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/orders/$"))

    page.goto(live_server.url + "/orders/usmf/001001/")
    page.get_by_role("button", name="Notify me of changes").click()
    page.wait_for_url(re.compile(r"/orders/usmf/001001/$"))
    assert page.get_by_role("status").get_by_text("You watch this order now").is_visible()
    assert page.get_by_role("button", name="Stop notifying me").is_visible()
    assert page.get_by_text("No changes since you last looked.").is_visible()
    assert_accessible(page, "order-watched")

    page.get_by_role("link", name="Orders I watch").first.click()
    page.wait_for_url(re.compile(r"/watches/$"))
    assert page.get_by_role("link", name="001001").is_visible()
    assert_accessible(page, "watches")
    page.get_by_role("button", name=re.compile("Stop watching")).click()
    page.wait_for_url(re.compile(r"/watches/$"))
    assert page.get_by_text("You watch no orders.").is_visible()
    assert_accessible(page, "watches-empty")
