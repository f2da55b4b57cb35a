"""The portal in German, in Chromium: a browser that asks for German gets the list, an order, the error pages and the
e-mails in German (each checked by axe-core, with a screenshot); an English browser switches with one click."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.utils import timezone

from languages.services import user_language_set
from orders.changes import order_state
from orders.records import SalesOrder
from tests.browser.conftest import ARTIFACTS, assert_accessible
from tests.factories import PASSWORD, make_customer, order_row
from watching.emails import emails_send
from watching.models import ChangeEvent, EmailNotification
from watching.services import watch_start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCOUNTS = ("usmf:US-003", "demf:US-003")
DECIMAL_COMMA_MONEY = re.compile(r"^\d{1,3}(\.\d{3})*,\d\d [A-Z]{3}$")  # 1.234,50 EUR


@pytest.fixture
def german(browser) -> Iterator:
    context = browser.new_context(locale="de-DE", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def german_phone(browser) -> Iterator:
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _sign_in_in_german(page, live_server) -> None:
    page.goto(live_server.url + "/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "de"
    page.get_by_label("E-Mail").fill("carla@example.com")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r"/orders/$"))


def test_the_list_and_an_order_in_german(german, live_server, live_fno) -> None:
    make_customer("carla@example.com", *ACCOUNTS)
    _sign_in_in_german(german, live_server)
    assert german.get_by_role("heading", name="Meine Bestellungen").is_visible()
    assert german.get_by_text(re.compile(r"Stand \d\d:\d\d:\d\d Uhr \(vor \d+ Sekunden?\)")).is_visible()
    assert german.get_by_role("columnheader", name="Unternehmen").is_visible()
    assert german.get_by_role("button", name="Suchen").is_visible()
    totals = german.locator("table.orders td.total").all_inner_texts()
    assert totals
    assert all(DECIMAL_COMMA_MONEY.match(total.split("\n")[0]) for total in totals), totals
    dates = german.locator("table.orders td.ordered").all_inner_texts()
    assert all(re.fullmatch(r"\d{1,2}\. [A-ZÄÖÜ][a-zä]+ \d{4}", day) for day in dates), dates
    assert_accessible(german, "de-order-list")

    german.get_by_label("Status").select_option("invoiced")
    german.get_by_role("button", name="Suchen").click()
    german.wait_for_url(re.compile(r"status=invoiced"))
    assert german.locator("table.orders .badge").first.inner_text() == "Berechnet"
    german.locator("table.orders tbody tr th a").first.click()
    german.wait_for_url(re.compile(r"/orders/\w+/\d+/$"))
    assert german.get_by_role("heading", name=re.compile(r"^Bestellung \d+$")).is_visible()
    for heading in ("Fortschritt", "Bestelldetails", "Positionen", "Lieferungen", "Rechnungen"):
        assert german.get_by_role("heading", name=heading, exact=True).is_visible(), heading
    assert german.get_by_role("heading", name=re.compile(r"^Lieferschein ")).first.is_visible()
    assert german.get_by_text("Sendungsverfolgung", exact=True).first.is_visible()
    facts = german.locator("section[aria-labelledby=facts-h]")
    assert facts.get_by_text("Bestätigter Liefertermin").is_visible()
    assert facts.get_by_text("Gewünschtes Versanddatum").is_visible()
    assert DECIMAL_COMMA_MONEY.match(german.locator(".order-total").inner_text())
    assert_accessible(german, "de-order-detail")

    german.get_by_role("button", name="Aktualisieren").click()
    assert german.get_by_role("status").get_by_text("Aus unserem Auftragssystem aktualisiert.").is_visible()


def test_the_error_pages_in_german(german, live_server, live_fno) -> None:
    make_customer("carla@example.com", *ACCOUNTS)
    _sign_in_in_german(german, live_server)

    response = german.goto(live_server.url + "/orders/usmf/999999/")
    assert response.status == 404
    assert german.get_by_role("heading", name="Diese Seite oder Bestellung haben wir nicht gefunden").is_visible()
    assert german.get_by_role("link", name="Zu meinen Bestellungen").is_visible()
    assert_accessible(german, "de-not-found")

    live_fno.set_faults(status=503)
    response = german.goto(live_server.url + "/orders/usmf/001003/")
    assert response.status == 503
    assert german.locator("html").get_attribute("lang") == "de"
    assert german.get_by_role("heading", name="Wir erreichen unser Auftragssystem gerade nicht").is_visible()
    assert german.get_by_text("Ihre Bestellungen sind sicher").is_visible()
    assert german.get_by_role("link", name="Erneut versuchen").is_visible()
    assert_accessible(german, "de-fno-unavailable")


def test_an_english_browser_switches_to_german_with_one_click_and_it_stays(page, live_server, live_fno) -> None:
    make_customer("carla@example.com", *ACCOUNTS)
    page.goto(live_server.url + "/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Deutsch").click()
    page.wait_for_url(re.compile(r"/accounts/login/$"))
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", name="Anmelden").is_visible()
    page.get_by_label("E-Mail").fill("carla@example.com")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r"/orders/$"))
    assert page.get_by_role("heading", name="Meine Bestellungen").is_visible()
    assert_accessible(page, "de-switched")
    page.get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(r"/orders/$"))
    assert page.get_by_role("heading", name="My orders").is_visible()


def test_german_pages_fit_a_phone(german_phone, live_server, live_fno) -> None:
    make_customer("carla@example.com", *ACCOUNTS)
    _sign_in_in_german(german_phone, live_server)
    german_phone.locator("table.orders tbody tr th a").first.click()
    german_phone.wait_for_url(re.compile(r"/orders/\w+/\d+/$"))
    for url in ("/orders/", german_phone.url):
        german_phone.goto(url if url.startswith("http") else live_server.url + url)
        assert german_phone.evaluate("document.documentElement.scrollWidth") == 390, url


def test_a_watcher_email_in_german_in_the_browser(german, live_server) -> None:
    carla = make_customer("carla@example.com", *ACCOUNTS)
    user_language_set(user_id=carla.pk, language="de")
    order = SalesOrder.from_odata(order_row("usmf", "001003", "US-003"))
    watch_start(user_id=carla.pk, order=order, state=order_state(order=order, shipments=(), invoices=[]),
                language="en")
    event = ChangeEvent.objects.create(
        user=carla, company="usmf", number="001003", occurred_at=timezone.now(),
        changes=[{"field": "status", "from": "confirmed", "to": "shipped"},
                 {"field": "confirmed_receipt_date", "from": "2026-12-12", "to": "2026-12-19"},
                 {"field": "packing_slip", "from": None, "to": "PS-0042"}],
    )
    EmailNotification.objects.create(event=event, next_attempt_at=event.occurred_at)
    assert emails_send(timezone.now()) == 1
    [message] = mail.outbox
    assert message.subject == "Bestellung 001003: 3 Änderungen"
    german.set_content(message.alternatives[0][0])
    assert german.locator("html").get_attribute("lang") == "de"
    assert german.get_by_text("Bestellung 001003 hat sich geändert:").is_visible()
    assert german.get_by_text("Status", exact=True).is_visible()
    assert german.get_by_text("Bestätigt", exact=True).is_visible()
    assert german.get_by_text("Versandt", exact=True).is_visible()
    assert german.get_by_text("19. Dezember 2026").is_visible()
    assert german.get_by_text("Neuer Lieferschein: PS-0042").is_visible()
    assert german.get_by_role("link", name="Bestellung ansehen").is_visible()
    assert german.get_by_role("link", name="Nicht mehr beobachten").is_visible()
    # An e-mail is a fragment in a mail client's page: WCAG's rules apply, axe's page-landmark best practices do not.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    german.screenshot(path=str(ARTIFACTS / "de-email-order-changed.png"), full_page=True)
    results = Axe().run(german, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
    assert results.violations_count == 0, results.generate_report()
