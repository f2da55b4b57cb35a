"""The e-mail, its signed one-click "stop watching" link, and watches ending with access."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client
from django.utils import timezone

from orders.changes import order_state
from orders.models import CustomerAccountLink
from orders.records import SalesOrder
from tests.factories import make_customer, order_row
from watching.emails import email_message
from watching.models import ChangeEvent, Watch
from watching.services import watch_start
from watching.tokens import unsubscribe_token

pytestmark = pytest.mark.django_db

MOVED = [{"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-19"},
         {"field": "tracking_number", "from": None, "to": "1Z999"}]


def _watch(user: Any, number: str = "SO/2026 1", account: str = "US-001", language: str = "") -> None:
    order = SalesOrder.from_odata(order_row("usmf", number, account))
    watch_start(user_id=user.pk, order=order, state=order_state(order=order, shipments=(), invoices=[]),
                language=language)


def _event(user: Any, number: str = "SO/2026 1") -> ChangeEvent:
    return ChangeEvent.objects.create(user=user, company="usmf", number=number, changes=MOVED,
                                      occurred_at=timezone.now())


def test_the_email_has_text_and_html_the_order_link_and_a_one_click_stop_link(alice, settings):
    settings.PORTAL_BASE_URL = "https://orders.example.com"
    message = email_message(_event(alice))
    token = unsubscribe_token(user_id=alice.pk, company="usmf", number="SO/2026 1")
    stop = f"https://orders.example.com/watches/stop/{token}/"
    assert message.to == ["alice@example.com"]
    assert message.subject == "Order SO/2026 1: 2 changes"
    assert "Confirmed ship date: Dec. 12, 2026 → Dec. 19, 2026" in message.body
    assert "New tracking number: 1Z999" in message.body
    assert "https://orders.example.com/orders/usmf/SO/2026%201/" in message.body
    assert stop in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "Dec. 19, 2026" in html
    assert 'href="https://orders.example.com/orders/usmf/SO/2026%201/"' in html
    assert message.extra_headers["List-Unsubscribe"] == f"<{stop}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_email_is_in_the_language_the_user_watched_in(alice):
    message = email_message(_event(alice), language="de")
    assert "19. Dezember 2026" in message.body  # German date format, whatever the portal's default


def test_the_stop_link_asks_on_get_and_stops_on_post_without_signing_in(alice):
    _watch(alice)
    url = "/watches/stop/" + unsubscribe_token(user_id=alice.pk, company="usmf", number="SO/2026 1") + "/"
    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(url)
    assert page.status_code == 200
    assert b"Stop watching" in page.content
    assert Watch.objects.count() == 1  # a mail scanner following the link stops nothing
    done = anonymous.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200
    assert b"no longer watch" in done.content
    assert not Watch.objects.exists()


def test_a_tampered_or_foreign_stop_link_stops_nothing(alice, bob):
    _watch(alice)
    _watch(bob, account="US-002")
    token = unsubscribe_token(user_id=alice.pk, company="usmf", number="SO/2026 1")
    forged = signing.dumps([bob.pk, "usmf", "SO/2026 1"], salt="another-salt", compress=True)
    for bad in (token[:-2] + "xx", forged, "nonsense"):
        assert Client().post(f"/watches/stop/{bad}/").status_code == 404
    assert Watch.objects.count() == 2


def test_unlinking_the_account_ends_its_watches_and_only_those(db):
    user = make_customer("dora@example.com", "usmf:US-001", "usmf:US-002")
    _watch(user, "SO-1", "US-001")
    _watch(user, "SO-2", "US-002")
    CustomerAccountLink.objects.get(user=user, account="US-001").delete()
    assert list(Watch.objects.values_list("order__number", flat=True)) == ["SO-2"]


def test_changing_a_link_to_another_account_ends_the_old_accounts_watches(alice):
    _watch(alice)
    link = CustomerAccountLink.objects.get(user=alice)
    link.account = "US-777"
    link.save()
    assert not Watch.objects.exists()


def test_deactivating_the_user_ends_every_watch(alice):
    _watch(alice, "SO-1")
    _watch(alice, "SO-2")
    alice.is_active = False
    alice.save()
    assert not Watch.objects.exists()
    assert get_user_model().objects.get(pk=alice.pk).is_active is False


def test_the_email_names_a_status_in_words(alice):
    event = ChangeEvent.objects.create(user=alice, company="usmf", number="SO-1", occurred_at=timezone.now(),
                                       changes=[{"field": "status", "from": "confirmed", "to": "on_hold"}])
    message = email_message(event)
    assert message.subject == "Order SO-1: Status: Confirmed → On hold"


def test_the_deploy_check_wants_the_portals_https_address_for_links(settings):
    from watching.checks import portal_base_url_check

    settings.PORTAL_BASE_URL = "http://localhost:8000"
    assert [m.id for m in portal_base_url_check()] == ["watching.W001"]
    settings.PORTAL_BASE_URL = "https://orders.contoso.com"
    assert portal_base_url_check() == []
