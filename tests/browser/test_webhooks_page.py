"""The webhooks page in Chromium: reached from App access, add (the secret shown once), deliveries, delete; axe."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from tests.browser.conftest import assert_accessible
from tests.factories import PASSWORD, make_customer
from tests.webhooks.conftest import allow_private, change_event, receiver  # noqa: F401  (fixtures)
from webhooks.delivery import deliveries_send_due

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_see_deliveries_and_delete_a_webhook(page, live_server, receiver, allow_private) -> None:  # noqa: F811
    alice = make_customer("alice@example.com", "usmf:US-001")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/orders/$"))

    page.get_by_role("link", name="App access").first.click()
    page.get_by_role("link", name="Manage webhooks and see their deliveries").click()
    page.wait_for_url(re.compile(r"/account/webhooks/$"))
    page.get_by_label("URL").fill(receiver.url())
    page.get_by_role("button", name="Add webhook").click()
    secret = page.get_by_label(re.compile("Secret for")).input_value()
    assert secret.startswith("whsec_")
    assert_accessible(page, "webhooks-secret")

    change_event(alice)
    receiver.answers = [500]
    deliveries_send_due(timezone.now())
    page.goto(live_server.url + "/account/webhooks/")
    assert page.get_by_label(re.compile("Secret for")).count() == 0
    row = page.get_by_role("row", name=re.compile("USMF 001001"))
    assert "trying again" in row.inner_text()
    assert "500" in row.inner_text()
    assert_accessible(page, "webhooks-deliveries")

    page.get_by_role("button", name=re.compile("Delete")).click()
    assert page.get_by_text("The webhook was deleted").is_visible()
    assert page.get_by_text("You have no webhooks.").is_visible()
