"""Which language a page is in: the browser's Accept-Language, the switch on every page (kept in the session, the
cookie and on the user), the user's own at sign-in; and German pages with German dates, numbers and money."""

from __future__ import annotations

import html

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from languages.models import LanguagePreference
from languages.services import user_language_set
from languages.session import SESSION_KEY
from orders.services import api_token_create
from tests.factories import PASSWORD, order_row
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db

GERMAN_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _switch(client: Client, language: str, page: str = "/accounts/login/"):
    """The switch as a browser posts it: back to the page it is on, named by the (same-origin) Referer."""
    return client.post("/i18n/setlang/", {"language": language}, HTTP_REFERER=f"http://testserver{page}")


def test_accept_language_de_gives_the_sign_in_page_in_german() -> None:
    response = Client().get("/accounts/login/", **GERMAN_BROWSER)
    page = _text(response)
    assert '<html lang="de">' in page
    assert "<h1>Anmelden</h1>" in page
    assert "Passwort vergessen?" in page
    assert response["Content-Language"] == "de"


def test_without_accept_language_the_portal_speaks_english() -> None:
    page = _text(Client().get("/accounts/login/"))
    assert '<html lang="en">' in page
    assert "<h1>Sign in</h1>" in page


def test_every_page_offers_the_other_language_as_a_switch_in_that_language(alice_client, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    for url in ("/orders/", "/orders/usmf/000123/", "/account/tokens/", "/no-such-page/"):
        english = _text(alice_client.get(url))
        assert 'action="/i18n/setlang/"' in english, url
        assert '<button type="submit" name="language" value="de" lang="de" class="link">Deutsch</button>' in english
        german = _text(alice_client.get(url, **GERMAN_BROWSER))
        assert 'lang="en" class="link">English</button>' in german, url
        assert 'value="de" lang="de"' not in german


def test_the_switch_keeps_the_language_in_the_session_the_cookie_and_on_the_user(alice, alice_client) -> None:
    response = _switch(alice_client, "de", "/account/tokens/?x=1")
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/account/tokens/?x=1"
    assert alice_client.session[SESSION_KEY] == "de"
    assert alice_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert LanguagePreference.objects.get(user=alice).language == "de"
    # The session's choice beats the browser's Accept-Language.
    page = _text(alice_client.get("/account/tokens/", **ENGLISH_BROWSER))
    assert '<html lang="de">' in page
    assert "App-Zugang" in page
    _switch(alice_client, "en")
    assert LanguagePreference.objects.get(user=alice).language == "en"
    assert '<html lang="en">' in _text(alice_client.get("/account/tokens/", **GERMAN_BROWSER))


def test_a_visitor_who_switches_keeps_it_for_the_session_and_it_becomes_theirs_at_sign_in(alice) -> None:
    visitor = Client()
    _switch(visitor, "de")
    assert visitor.session[SESSION_KEY] == "de"
    assert not LanguagePreference.objects.exists()
    signed_in = visitor.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD},
                             **ENGLISH_BROWSER)
    assert signed_in.status_code == 302
    assert LanguagePreference.objects.get(user=alice).language == "de"
    assert '<html lang="de">' in _text(visitor.get("/account/tokens/", **ENGLISH_BROWSER))


def test_signing_in_applies_the_users_language_over_the_browsers_on_any_device(alice) -> None:
    user_language_set(user_id=alice.pk, language="de")
    elsewhere = Client()
    assert '<html lang="en">' in _text(elsewhere.get("/accounts/login/", **ENGLISH_BROWSER))
    signed_in = elsewhere.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD},
                               **ENGLISH_BROWSER)
    assert signed_in.status_code == 302
    assert elsewhere.session[SESSION_KEY] == "de"
    page = elsewhere.get("/account/tokens/", **ENGLISH_BROWSER)
    assert '<html lang="de">' in _text(page)
    # The cookie follows, so the sign-in page after signing out stays in the user's language.
    assert page.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    elsewhere.post("/accounts/logout/")
    assert "<h1>Anmelden</h1>" in _text(elsewhere.get("/accounts/login/", **ENGLISH_BROWSER))


def test_a_user_without_a_language_of_their_own_follows_the_browser(alice) -> None:
    client = Client()
    client.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD})
    assert SESSION_KEY not in client.session
    assert not LanguagePreference.objects.exists()
    assert '<html lang="de">' in _text(client.get("/account/tokens/", **GERMAN_BROWSER))
    assert '<html lang="en">' in _text(client.get("/account/tokens/", **ENGLISH_BROWSER))


def test_a_language_the_portal_does_not_offer_is_not_kept(alice, alice_client) -> None:
    _switch(alice_client, "fr")
    assert SESSION_KEY not in alice_client.session
    assert not LanguagePreference.objects.exists()
    assert '<html lang="en">' in _text(alice_client.get("/account/tokens/", HTTP_ACCEPT_LANGUAGE="fr"))


def test_the_switch_never_sends_anyone_to_another_site(client) -> None:
    for form in ({"language": "de"}, {"language": "de", "next": "https://evil.example/phish"}):
        response = client.post("/i18n/setlang/", form, HTTP_REFERER="https://evil.example/phish")
        assert response.status_code == 302
        assert response["Location"] == "/"


def test_the_page_does_not_echo_its_own_address_into_the_switch(alice_client) -> None:
    page = _text(alice_client.get("/no-such-page/000123/?q=secret"))
    assert "000123" not in page
    assert "secret" not in page


def test_the_switch_changes_nothing_on_get(alice, alice_client) -> None:
    assert alice_client.get("/i18n/setlang/?language=de&next=/").status_code == 405
    assert not LanguagePreference.objects.exists()


def test_the_api_follows_accept_language_not_the_browser_session(alice, alice_client, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    _switch(alice_client, "de")
    del alice_client.cookies[settings.LANGUAGE_COOKIE_NAME]  # the session still says German
    token = api_token_create(user=alice, name="phone")[1]
    english = alice_client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {token}", **ENGLISH_BROWSER)
    assert english["Content-Language"] == "en"
    assert english.json()["results"][0]["status_label"] == "Confirmed"
    german = Client().get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {token}", **GERMAN_BROWSER)
    assert german.json()["results"][0]["status"] == "confirmed"  # the code stays; the label is in German
    assert german.json()["results"][0]["status_label"] == "Bestätigt"


def test_the_german_order_page_has_german_words_dates_and_money(alice_client, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [
        order_row("usmf", "000123", "US-001", CurrencyCode="EUR", ConfirmedShippingDate="2026-12-09T12:00:00Z"),
    ]
    page = _text(alice_client.get("/orders/usmf/000123/", **GERMAN_BROWSER))
    assert '<html lang="de">' in page
    assert "<h1>Bestellung 000123</h1>" in page
    assert "Bestätigt" in page
    assert "Bestätigtes Versanddatum" in page
    assert "9. Dezember 2026" in page  # the confirmed ship date
    assert "2. November 2026 09:15" in page  # ordered on, in the German date and time format
    assert "150,50 EUR" in page  # the items total: decimal comma, currency code after the amount
    assert "1.000,00 EUR" in page  # a cancelled line's amount: the thousands separator is a dot
    assert "Es wurde noch nichts versandt." in page
    assert "Confirmed ship date" not in page


def test_the_german_order_list_has_german_words_dates_and_money(alice_client, fake_fno: FakeFnO) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001", CurrencyCode="EUR")]
    page = _text(alice_client.get("/orders/", **GERMAN_BROWSER))
    assert "<h1>Meine Bestellungen</h1>" in page
    assert "2. November 2026" in page
    assert "150,50 EUR" in page
    assert "Bestätigt" in page


def test_the_error_pages_are_in_the_readers_language(alice_client) -> None:
    missing = alice_client.get("/no-such-page/", **GERMAN_BROWSER)
    assert missing.status_code == 404
    assert "Diese Seite oder Bestellung haben wir nicht gefunden" in _text(missing)
    with translation.override("de"):
        broken = render_to_string("500.html")
    assert '<html lang="de">' in broken
    assert "Bei uns ist etwas schiefgelaufen" in broken
