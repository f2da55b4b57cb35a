"""On a phone (390 x 844), the status first: every status chip lies inside the screen and no page scrolls sideways.

A page joins the check by a line in PAGES: who looks at it (a customer, support, or nobody signed in) and its URL
(text formatted with the busy order's company, account and number, or a function of them, e.g. for a signed link).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from orders.guest_links import guest_link_token
from orders.roles import AGENT
from simulator.server import Simulator
from tests.browser.conftest import assert_accessible
from tests.factories import PASSWORD, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 390, 844
# Where the screenshots go: test-artifacts/ by default; PHONE_SCREENSHOTS=docs/screenshots renews the README's.
SCREENSHOTS = ROOT / os.environ.get("PHONE_SCREENSHOTS", "test-artifacts/screenshots/phone")
CUSTOMER_ACCOUNTS = ("usmf:US-003", "demf:US-003")  # two companies: the list shows its company column


@dataclass(frozen=True)
class PhonePage:
    name: str
    viewer: str | None  # "customer", "staff", or None: nobody signed in
    url: str | Callable[[dict[str, str]], str]  # formatted with company, account and number of a busy order
    screenshot: str | None = None  # a screenshot of the screen starting at this element ("": the top), or none
    chips: bool = True  # whether the page shows a status (a form page does not)


def _guest_link(order: dict[str, str]) -> str:
    """The bookmarkable link a guest gets after proving the order is theirs (/track/)."""
    return "/track/order/?t=" + guest_link_token(company=order["company"], number=order["number"])


PAGES = [
    PhonePage("list", "customer", "/orders/", screenshot=""),
    PhonePage("order", "customer", "/orders/{company}/{number}/", screenshot="#lines-h"),
    PhonePage("staff-order", "staff", "/staff/orders/{company}/{account}/{number}/"),
    PhonePage("guest-track", None, "/track/", chips=False),
    PhonePage("guest-order", None, _guest_link, screenshot=""),
]

# Every chip, and whether it lies inside the screen and inside every box that clips it (a scroll area included).
_CHIPS = """() => [...document.querySelectorAll('.badge')].map(chip => {
  const box = chip.getBoundingClientRect();
  let clipped = false;
  for (let up = chip.parentElement; up; up = up.parentElement) {
    const style = getComputedStyle(up);
    if (style.overflowX !== 'visible') {
      const frame = up.getBoundingClientRect();
      clipped = clipped || box.left < frame.left - 0.5 || box.right > frame.right + 0.5;
    }
  }
  return {text: chip.innerText, left: box.left, right: box.right, width: box.width, clipped};
})"""
# Areas that scroll sideways on their own (a page within the page).
_SIDEWAYS = """() => [...document.querySelectorAll('main *')].filter(el => {
  const style = getComputedStyle(el);
  return ['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
}).map(el => el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.className)"""


def _busy_order(sim: Simulator) -> dict[str, str]:
    """The customer's open usmf order with the most items, shipped in part and on hold: the widest order page."""
    tables = sim.state.dataset.tables
    lines: dict[str, int] = {}
    for line in tables["SalesOrderLines"]:
        if line["dataAreaId"] == "usmf":
            lines[line["SalesOrderNumber"]] = lines.get(line["SalesOrderNumber"], 0) + 1
    candidates = [r["SalesOrderNumber"] for r in tables["SalesOrderHeadersV2"] if r["dataAreaId"] == "usmf"
                  and r["OrderingCustomerAccountNumber"] == "US-003" and r["SalesOrderStatus"] == "Backorder"]
    number = max(candidates, key=lambda n: (lines[n], n))
    first = min(r["LineNumber"] for r in tables["SalesOrderLines"]
                if (r["dataAreaId"], r["SalesOrderNumber"]) == ("usmf", number))
    sim.packing_slip_add("usmf", number, {"tracking": ["1Z0000000000000001", "1Z0000000000000002"],
                                          "lines": [{"LineNumber": first, "Qty": 1}]})
    sim.order_change("usmf", number, {"SalesOrderProcessingStatus": "PartiallyDelivered",
                                      "IsSalesProcessingStopped": "Yes"})
    return {"company": "usmf", "account": "US-003", "number": number}


def _viewer(kind: str | None) -> Any:
    if kind == "customer":
        return make_customer("carla@example.com", *CUSTOMER_ACCOUNTS)
    if kind == "staff":
        agent = get_user_model().objects.create_user(username="agent@example.com", email="agent@example.com",
                                                     password=PASSWORD, is_staff=True)
        agent.groups.add(Group.objects.get(name=AGENT))
        return agent
    return None


@pytest.fixture(autouse=True)
def _guest_tracking_on(settings) -> None:
    settings.GUEST_TRACKING = True  # the guest pages are off by default


@pytest.mark.parametrize("target", PAGES, ids=[p.name for p in PAGES])
def test_status_chips_fit_the_screen_and_nothing_scrolls_sideways(
    target: PhonePage, browser, live_server, live_fno: Simulator, capsys
) -> None:
    order = _busy_order(live_fno)
    context = browser.new_context(locale="en-US", viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    try:
        user = _viewer(target.viewer)
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                                  "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
        page = context.new_page()
        page.set_default_timeout(15_000)
        url = target.url(order) if callable(target.url) else target.url.format(**order)
        response = page.goto(live_server.url + url)
        assert response is not None
        assert response.status == 200, url

        assert page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]") == [WIDTH, WIDTH]
        chips = page.evaluate(_CHIPS)
        assert bool(chips) == target.chips
        outside = [c for c in chips if c["left"] < 0 or c["right"] > WIDTH or c["width"] == 0 or c["clipped"]]
        assert outside == [], outside
        if target.name == "list":
            assert len(chips) == page.locator("table.orders tbody tr").count() == 20
        assert page.evaluate(_SIDEWAYS) == []

        if target.screenshot is not None:
            if target.screenshot:
                page.locator(target.screenshot).evaluate("element => element.scrollIntoView()")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOTS / f"phone-{target.name}.png"
            page.screenshot(path=str(path))
            with capsys.disabled():
                print(f"\nphone screenshot: {path}")
        assert_accessible(page, f"phone-{target.name}")
    finally:
        context.close()


def test_the_busy_order_fills_the_page(live_fno: Simulator) -> None:
    # The order page above tests the layout only if the order is a wide one.
    order = _busy_order(live_fno)
    tables = live_fno.state.dataset.tables
    lines = [r for r in tables["SalesOrderLines"] if (r["dataAreaId"], r["SalesOrderNumber"]) == ("usmf",
                                                                                               order["number"])]
    assert len(lines) >= 10
    assert any(r["LineAmount"] >= Decimal(1000) for r in lines)
    assert [r["TrackingNumber"] for r in tables["PackingSlipTrackingInformation"]
            if (r["dataAreaId"], r["SalesOrderNumber"]) == ("usmf", order["number"])] == [
        "1Z0000000000000001", "1Z0000000000000002"]
