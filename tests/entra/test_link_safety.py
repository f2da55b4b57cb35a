"""A Microsoft account linked by whoever holds a session must not outlast the password: linking needs the password
typed again, never for staff, is e-mailed to the user, and a new password (changed or reset) removes every link."""

from __future__ import annotations

import re
import smtplib
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client

from entra.models import EntraIdentity
from tests.entra.fake_idp import Account
from tests.entra.flows import sign_in, signed_in_as, start
from tests.entra.test_invitations import BUYER, _invite
from tests.factories import PASSWORD, staff_client

pytestmark = pytest.mark.django_db

IDENTITIES = "/accounts/microsoft/identities/"
NEW_PASSWORD = "a-brand-new-password-2026"


def _linked(user: Any) -> EntraIdentity:
    return EntraIdentity.objects.create(user=user, tenant_id=Account().tid, object_id=Account().oid,
                                        username="alice@contoso.com")


# Re-authentication -----------------------------------------------------------------------------------------------


def test_linking_needs_the_password_typed_again(idp, alice_client, alice) -> None:
    page = alice_client.get(IDENTITIES).content.decode()
    assert 'type="password"' in page
    assert 'autocomplete="current-password"' in page
    for data in ({}, {"password": ""}, {"password": "not-the-password"}):
        response = alice_client.post(IDENTITIES, data)
        assert response.status_code == 200
        assert "entra_flow" not in alice_client.session
    assert "That is not your password." in response.content.decode()
    assert idp.authorize_requests == []
    response, _ = sign_in(alice_client, idp, path=IDENTITIES, password=PASSWORD)
    assert response.status_code == 302
    assert EntraIdentity.objects.get().user == alice


def test_a_wrong_password_there_counts_as_a_failed_sign_in(idp, alice_client, alice, entra_settings) -> None:
    for _ in range(entra_settings.AXES_FAILURE_LIMIT - 1):
        assert alice_client.post(IDENTITIES, {"password": "guess"}).status_code == 200
    assert AccessAttempt.objects.get(username="alice@example.com").failures_since_start == 4
    locked = alice_client.post(IDENTITIES, {"password": "guess"})
    assert locked.status_code == 429
    # Locked out: not even the right password starts a link now, here or on the sign-in page.
    assert alice_client.post(IDENTITIES, {"password": PASSWORD}).status_code == 429
    assert "entra_flow" not in alice_client.session
    assert Client().post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD}
                         ).status_code == 429


def test_a_link_finished_long_after_the_password_was_typed_is_refused(idp, alice_client, alice) -> None:
    back = idp.authorize(start(alice_client, IDENTITIES, password=PASSWORD))
    session = alice_client.session
    session["entra_flow"] = {**session["entra_flow"], "confirmed_at": session["entra_flow"]["confirmed_at"] - 601}
    session.save()
    response = alice_client.get(back)
    assert response.status_code == 400
    assert "took too long" in response.content.decode()
    assert not EntraIdentity.objects.exists()


def test_a_user_without_a_password_links_only_by_invitation(idp) -> None:
    link = _invite()
    user = get_user_model().objects.get(username="bob.buyer@contoso.com")
    client = Client()
    client.force_login(user)
    page = client.get(IDENTITIES).content.decode()
    assert "Sign in with Microsoft from now on" not in page
    assert "invitation" in page
    response = client.post(IDENTITIES, {"password": ""})
    assert response.status_code == 403
    assert "entra_flow" not in client.session
    # The invitation still links, without a password.
    invited = Client()
    invited.get(link)
    invited.get(idp.authorize(start(invited, "/accounts/microsoft/invitation/"), account=BUYER))
    assert signed_in_as(invited) == user.pk


# Staff -------------------------------------------------------------------------------------------------------------


def test_staff_cannot_link_a_microsoft_account_to_themselves(idp) -> None:
    for flags in ({"is_staff": True}, {"is_superuser": True}):
        user = get_user_model().objects.create_user(username=f"{flags}@example.com", password=PASSWORD, **flags)
        client = Client()
        client.force_login(user)
        page = client.get(IDENTITIES).content.decode()
        assert "Sign in with Microsoft from now on" not in page
        assert "Staff accounts sign in with their password only" in page
        response = client.post(IDENTITIES, {"password": PASSWORD})
        assert response.status_code == 403
        assert "entra_flow" not in client.session
    assert idp.authorize_requests == []
    assert not EntraIdentity.objects.exists()


def test_a_link_started_before_becoming_staff_is_refused_at_the_end(idp, alice_client, alice) -> None:
    back = idp.authorize(start(alice_client, IDENTITIES, password=PASSWORD))
    alice.is_staff = True
    alice.save()
    response = alice_client.get(back)
    assert response.status_code == 403
    assert not EntraIdentity.objects.exists()


def test_an_invitation_of_a_user_made_staff_since_is_refused(idp) -> None:
    link = _invite()
    get_user_model().objects.filter(username="bob.buyer@contoso.com").update(is_staff=True)
    client = Client()
    client.get(link)
    response = client.get(idp.authorize(start(client, "/accounts/microsoft/invitation/"), account=BUYER))
    assert response.status_code == 403
    assert signed_in_as(client) is None
    assert not EntraIdentity.objects.exists()


# The notice ------------------------------------------------------------------------------------------------------


def test_the_user_is_emailed_when_a_microsoft_account_is_linked(
    idp, alice_client, alice, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response, _ = sign_in(alice_client, idp, path=IDENTITIES, password=PASSWORD)
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert "Microsoft account" in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    for body in (message.body, html):
        assert "alice@contoso.com" in body  # the account that was linked
        assert "https://orders.example.com/accounts/microsoft/identities/" in body
        assert "https://orders.example.com/accounts/password/reset/" in body
    # Linking the same account again is no new link, and no new e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(alice_client, idp, path=IDENTITIES, password=PASSWORD)
    assert len(mail.outbox) == 1


def test_a_link_by_invitation_is_emailed_too(idp, django_capture_on_commit_callbacks) -> None:
    link = _invite()
    client = Client()
    client.get(link)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(idp.authorize(start(client, "/accounts/microsoft/invitation/"), account=BUYER))
    notice = mail.outbox[-1]
    assert notice.to == ["bob.buyer@contoso.com"]
    assert BUYER.username in notice.body
    assert "/accounts/microsoft/invitation/" not in notice.body


class _MailServerDown(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPServerDisconnected("gone")


def test_a_mail_server_that_fails_does_not_undo_the_link(
    idp, alice_client, alice, settings, django_capture_on_commit_callbacks, caplog
) -> None:
    settings.EMAIL_BACKEND = f"{__name__}._MailServerDown"
    with django_capture_on_commit_callbacks(execute=True):
        response, _ = sign_in(alice_client, idp, path=IDENTITIES, password=PASSWORD)
    assert response.status_code == 302
    assert EntraIdentity.objects.filter(user=alice).exists()
    assert [r.event for r in caplog.records if getattr(r, "event", "") == "entra.identity.notice_failed"] == [
        "entra.identity.notice_failed"]


# A new password ----------------------------------------------------------------------------------------------------


def test_a_new_password_removes_the_users_microsoft_accounts(idp, alice, bob) -> None:
    _linked(alice)
    theirs = EntraIdentity.objects.create(user=bob, tenant_id=Account().tid, object_id="bob")
    alice.last_login = None
    alice.save(update_fields=["last_login"])
    alice.email = "alice@example.com"
    alice.save()
    assert EntraIdentity.objects.filter(user=alice).count() == 1  # saving without a new password keeps them
    alice.set_password(NEW_PASSWORD)
    alice.save()
    assert not EntraIdentity.objects.filter(user=alice).exists()
    assert EntraIdentity.objects.filter(pk=theirs.pk).exists()
    fresh = Client()
    assert sign_in(fresh, idp)[0].status_code == 403
    assert signed_in_as(fresh) is None


def test_a_rehash_of_the_same_password_keeps_them(idp, alice) -> None:
    _linked(alice)
    alice.password = alice.password + "x"  # a new hash without set_password, as Django's upgrade on sign-in
    alice.save(update_fields=["password"])
    assert EntraIdentity.objects.filter(user=alice).exists()


def test_changing_the_password_on_its_page_removes_them(idp, alice_client, alice) -> None:
    _linked(alice)
    response = alice_client.post("/accounts/password/change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not EntraIdentity.objects.filter(user=alice).exists()


def test_a_password_reset_removes_them(idp, alice) -> None:
    _linked(alice)
    stranger = Client()
    assert stranger.post("/accounts/password/reset/", {"email": "alice@example.com"}).status_code == 302
    found = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)", mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    form = stranger.get(found.group(1), follow=True)
    assert form.status_code == 200
    done = stranger.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert not EntraIdentity.objects.filter(user=alice).exists()
    assert sign_in(Client(), idp)[0].status_code == 403


def test_staff_setting_a_password_in_the_admin_removes_them(idp, alice) -> None:
    _linked(alice)
    admin = staff_client("admin2@example.com", "Administrator")
    response = admin.post(f"/admin/auth/user/{alice.pk}/password/", {
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content[:2000]
    assert not EntraIdentity.objects.filter(user=alice).exists()

