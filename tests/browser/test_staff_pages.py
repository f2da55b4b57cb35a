"""Support's lookup, replay and health pages in Chromium, each with an axe-core check."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from orders.roles import AGENT
from tests.browser.conftest import assert_accessible
from tests.factories import PASSWORD, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/orders/$"))


def test_lookup_replay_and_health(page, live_server, live_fno) -> None:
    make_customer("alice@example.com", "usmf:US-001")
    agent = get_user_model().objects.create_user(username="agent@example.com", email="agent@example.com",
                                                 password=PASSWORD, is_staff=True)
    agent.groups.add(Group.objects.get(name=AGENT))

    # A customer looks at an order and notes the reference code.
    _sign_in(page, live_server, "alice@example.com")
    page.locator("table.orders tbody tr th a").first.click()
    page.wait_for_url(re.compile(r"/orders/usmf/\d+/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[1]
    code = page.locator("footer .ref").inner_text()
    page.context.clear_cookies()

    _sign_in(page, live_server, "agent@example.com")
    page.goto(live_server.url + "/staff/orders/")
    page.get_by_label("Order number, customer account or customer reference").fill(number)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"q=" + number))
    assert_accessible(page, "staff-lookup-results")
    page.get_by_role("link", name=number).first.click()
    page.wait_for_url(re.compile(r"/staff/orders/usmf/US-001/" + number + "/$"))
    assert page.get_by_role("heading", name="What customer US-001 sees").is_visible()
    assert page.get_by_role("heading", name="Raw F&O values").is_visible()
    assert_accessible(page, "staff-order")
    page.get_by_role("button", name="Purge cached copy").click()
    assert page.get_by_text("The cached copy is gone").is_visible()

    page.goto(live_server.url + "/staff/ref/")
    page.get_by_role("textbox", name="Reference code").fill(code)
    page.get_by_role("button", name="Replay").click()
    page.wait_for_url(re.compile(r"/staff/ref/" + code))
    assert page.get_by_text("alice@example.com").is_visible()
    assert page.get_by_role("heading", name="What the customer saw").is_visible()
    assert_accessible(page, "staff-replay")

    page.goto(live_server.url + "/staff/health/")
    assert page.get_by_role("heading", name="Health of the link to F&O").is_visible()
    page.get_by_role("button", name="Test connection").click()
    assert page.get_by_text(re.compile(r"F&O answered in \d+ ms")).is_visible()
    assert page.locator("svg.spark").count() >= 1
    assert_accessible(page, "staff-health")
