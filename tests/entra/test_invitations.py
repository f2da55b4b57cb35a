"""Invitations: made by staff (command or admin action), e-mailed, spent by the first Microsoft sign-in through them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from entra.models import EntraIdentity, EntraInvitation
from orders.models import CustomerAccountLink
from tests.entra.fake_idp import Account
from tests.entra.flows import signed_in_as, start
from tests.factories import make_customer, staff_client

pytestmark = pytest.mark.django_db

USED_OR_EXPIRED = "This invitation link has been used, has expired or was replaced"
BUYER = Account(oid="00000000-0000-0000-0000-0000000b0b0b", username="bob.buyer@contoso.com")


def _invite(email: str = "bob.buyer@contoso.com", *accounts: str) -> str:
    call_command("invite_customer_user", "--email", email, *[f"--account={a}" for a in accounts or ("usmf:US-002",)])
    message = mail.outbox[-1]
    match = re.search(r"https://orders\.example\.com(/accounts/microsoft/invitation/\?token=[\w-]+)", message.body)
    assert match, message.body
    return match.group(1)


def test_the_command_creates_a_user_without_a_password_links_accounts_and_mails_a_link(idp) -> None:
    link = _invite("Bob.Buyer@contoso.com", "usmf:US-002", "demf:DE-001")
    user = get_user_model().objects.get(username="bob.buyer@contoso.com")
    assert not user.has_usable_password()
    assert {str(a) for a in CustomerAccountLink.objects.filter(user=user)} == {"usmf:US-002", "demf:DE-001"}
    message = mail.outbox[-1]
    assert message.to == ["Bob.Buyer@contoso.com"]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert link in html
    token = link.split("token=")[1]
    invitation = EntraInvitation.objects.get(user=user)
    assert token not in invitation.token_hash
    assert len(invitation.token_hash) == 64


def test_an_invitation_link_works_once(idp) -> None:
    link = _invite()
    user = get_user_model().objects.get(username="bob.buyer@contoso.com")
    client = Client()
    opened = client.get(link)
    assert opened.status_code == 302
    assert opened["Location"] == "/accounts/microsoft/invitation/"
    page = client.get(opened["Location"])
    assert "bob.buyer@contoso.com" in page.content.decode().lower()
    response = client.get(idp.authorize(start(client, "/accounts/microsoft/invitation/"), account=BUYER))
    assert response.status_code == 302
    assert signed_in_as(client) == user.pk
    assert EntraIdentity.objects.get(tenant_id=BUYER.tid, object_id=BUYER.oid).user == user
    again = Client().get(link)
    assert again.status_code == 410
    assert USED_OR_EXPIRED in again.content.decode()
    # From now on the Microsoft account signs them in without the invitation.
    later = Client()
    later.get(idp.authorize(start(later), account=BUYER))
    assert signed_in_as(later) == user.pk


def test_two_browsers_racing_with_one_invitation_link_only_one_identity(idp) -> None:
    link = _invite()
    first, second = Client(), Client()
    first.get(link)
    second.get(link)
    first_back = idp.authorize(start(first, "/accounts/microsoft/invitation/"), account=BUYER)
    other = Account(oid="00000000-0000-0000-0000-00000000e5e5", username="someone.else@contoso.com")
    second_back = idp.authorize(start(second, "/accounts/microsoft/invitation/"), account=other)
    assert first.get(first_back).status_code == 302
    refused = second.get(second_back)
    assert refused.status_code == 410
    assert signed_in_as(second) is None
    assert not EntraIdentity.objects.filter(object_id=other.oid).exists()


def test_an_expired_invitation_is_refused(idp) -> None:
    link = _invite()
    EntraInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get(link)
    assert response.status_code == 410
    assert USED_OR_EXPIRED in response.content.decode()


def test_an_invitation_expiring_between_opening_and_signing_in_is_refused(idp) -> None:
    link = _invite()
    client = Client()
    client.get(link)
    back = idp.authorize(start(client, "/accounts/microsoft/invitation/"), account=BUYER)
    EntraInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(back).status_code == 410
    assert signed_in_as(client) is None
    assert not EntraIdentity.objects.exists()


def test_opening_the_link_spends_nothing(idp) -> None:
    link = _invite()
    for _ in range(3):  # mail scanners and previews open links too
        assert Client().get(link).status_code == 302
    assert EntraInvitation.objects.get().used_at is None


def test_a_new_invitation_replaces_the_open_one(idp) -> None:
    old = _invite()
    new = _invite()
    assert Client().get(old).status_code == 410
    assert Client().get(new).status_code == 302


def test_an_invitation_for_an_identity_linked_to_someone_else_is_refused(idp) -> None:
    alice = make_customer("alice@example.com", "usmf:US-001")
    EntraIdentity.objects.create(user=alice, tenant_id=BUYER.tid, object_id=BUYER.oid)
    link = _invite()
    client = Client()
    client.get(link)
    response = client.get(idp.authorize(start(client, "/accounts/microsoft/invitation/"), account=BUYER))
    assert response.status_code == 409
    assert signed_in_as(client) is None
    assert EntraInvitation.objects.get().used_at is None  # nothing was spent


def test_the_command_refuses_staff_and_users_without_accounts(idp) -> None:
    get_user_model().objects.create_user("agent@example.com", "agent@example.com", "pw-long-enough-1", is_staff=True)
    with pytest.raises(CommandError, match="staff"):
        call_command("invite_customer_user", "--email", "agent@example.com", "--account", "usmf:US-001")
    with pytest.raises(CommandError, match="account"):
        call_command("invite_customer_user", "--email", "new@example.com")
    with pytest.raises(CommandError, match="COMPANY:ACCOUNT"):
        call_command("invite_customer_user", "--email", "new@example.com", "--account", "nonsense")
    assert mail.outbox == []
    assert not EntraInvitation.objects.exists()


def test_the_command_needs_sign_in_with_microsoft_configured(settings, db) -> None:
    settings.ENTRA_CLIENT_ID = ""
    with pytest.raises(CommandError, match="not configured"):
        call_command("invite_customer_user", "--email", "new@example.com", "--account", "usmf:US-001")


def test_an_existing_customer_keeps_their_password(idp) -> None:
    user = make_customer("carla@example.com", "usmf:US-003")
    _invite("carla@example.com")
    user.refresh_from_db()
    assert user.has_usable_password()


def test_the_admin_action_mails_invitations_to_customers_only(idp) -> None:
    carla = make_customer("carla@example.com", "usmf:US-003")
    admin = staff_client("admin2@example.com", "Administrator")
    agent = get_user_model().objects.create_user("agent@example.com", "agent@example.com", "x", is_staff=True)
    response = admin.post("/admin/auth/user/", {"action": "invite_with_microsoft",
                                                "_selected_action": [carla.pk, agent.pk]}, follow=True)
    assert response.status_code == 200
    assert [m.to for m in mail.outbox] == [["carla@example.com"]]
    invitation = EntraInvitation.objects.get()
    assert invitation.user == carla
    assert invitation.created_by.username == "admin2@example.com"
    assert "agent@example.com" in response.content.decode()  # named as not invited


def test_a_support_agent_cannot_invite(idp) -> None:
    carla = make_customer("carla@example.com", "usmf:US-003")
    agent = staff_client("agent2@example.com", "Support agent")
    agent.post("/admin/auth/user/", {"action": "invite_with_microsoft", "_selected_action": [carla.pk]})
    assert mail.outbox == []
