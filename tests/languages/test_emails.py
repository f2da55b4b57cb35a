"""A user's e-mails are in their language: the watcher's change e-mails and the invitation to sign in with
Microsoft, whatever language the portal, the watcher process or the inviting staff member is in."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation

from entra.services import customer_invite, invitation_create_and_send
from languages.models import LanguagePreference
from languages.services import user_language_set
from orders.changes import order_state
from orders.records import SalesOrder
from tests.factories import make_customer, order_row
from watching.emails import emails_send
from watching.models import ChangeEvent, EmailNotification
from watching.services import watch_start

pytestmark = pytest.mark.django_db

MOVED = [{"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-19"},
         {"field": "tracking_number", "from": None, "to": "1Z999"}]


def _watched_change(user: Any, *, watched_in: str) -> None:
    order = SalesOrder.from_odata(order_row("usmf", "000123", "US-001"))
    watch_start(user_id=user.pk, order=order, state=order_state(order=order, shipments=(), invoices=[]),
                language=watched_in)
    event = ChangeEvent.objects.create(user=user, company="usmf", number="000123", changes=MOVED,
                                       occurred_at=timezone.now())
    EmailNotification.objects.create(event=event, next_attempt_at=event.occurred_at)


def _send() -> Any:
    with translation.override("en"):  # the watcher process's own language does not matter
        assert emails_send(timezone.now()) == 1
    [message] = mail.outbox
    return message


def test_the_watcher_email_is_in_the_language_the_user_chose_not_the_one_they_watched_in(alice) -> None:
    _watched_change(alice, watched_in="en")
    user_language_set(user_id=alice.pk, language="de")
    message = _send()
    assert message.subject == "Bestellung 000123: 2 Änderungen"
    assert "Bestätigtes Versanddatum: 12. Dezember 2026 → 19. Dezember 2026" in message.body
    assert "Neue Sendungsnummer: 1Z999" in message.body
    assert "Sie erhalten diese E-Mail, weil Sie diese Bestellung beobachten." in message.body
    [(html, _mimetype)] = message.alternatives
    assert '<html lang="de">' in html
    assert "Bestellung <strong>000123</strong> hat sich geändert:" in html


def test_a_user_who_never_chose_gets_the_language_they_watched_in(alice) -> None:
    _watched_change(alice, watched_in="de")
    message = _send()
    assert message.subject == "Bestellung 000123: 2 Änderungen"


def test_a_user_who_chose_english_gets_english_though_they_watched_in_german(alice) -> None:
    _watched_change(alice, watched_in="de")
    user_language_set(user_id=alice.pk, language="en")
    message = _send()
    assert message.subject == "Order 000123: 2 changes"
    assert '<html lang="en">' in message.alternatives[0][0]


@pytest.fixture
def entra_on(settings):
    settings.ENTRA_CLIENT_ID = "client"
    settings.ENTRA_CLIENT_SECRET = "secret"
    settings.PORTAL_BASE_URL = "https://orders.example.com"
    return settings


def test_the_invite_command_sends_the_invitation_in_the_language_it_names_and_keeps_it(entra_on) -> None:
    call_command("invite_customer_user", "--email", "dieter@example.com", "--account", "demf:DE-001",
                 "--language", "de")
    [message] = mail.outbox
    assert message.subject == "Ihre Einladung zum Bestellportal"
    assert message.body.startswith("Guten Tag,\n\nSie können die Bestellungen Ihres Unternehmens")
    assert "Der Link funktioniert einmal, bis zum " in message.body
    [(html, _mimetype)] = message.alternatives
    assert '<html lang="de">' in html
    assert "Mit Microsoft anmelden" in html
    assert LanguagePreference.objects.get(user__username="dieter@example.com").language == "de"


def test_an_invitation_is_in_the_invited_users_language_not_the_staff_members(entra_on) -> None:
    dieter = make_customer("dieter@example.com", "demf:DE-001")
    alice = make_customer("alice@example.com", "usmf:US-001")
    user_language_set(user_id=dieter.pk, language="de")
    with translation.override("en"):
        invitation_create_and_send(user=dieter, base_url="https://orders.example.com")
    with translation.override("de"):
        customer_invite(email=alice.email, accounts=[], base_url="https://orders.example.com")
    german, english = mail.outbox
    assert german.subject == "Ihre Einladung zum Bestellportal"
    assert english.subject == "Your invitation to the order portal"
    assert '<html lang="en' in english.alternatives[0][0]


def test_a_stored_language_the_portal_no_longer_offers_is_ignored(alice) -> None:
    LanguagePreference.objects.create(user=alice, language="fr")  # LANGUAGES lost French since it was chosen
    _watched_change(alice, watched_in="de")
    assert _send().subject == "Bestellung 000123: 2 Änderungen"
