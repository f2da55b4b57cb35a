"""A signed-in user links their Microsoft account; staff see and remove links; the button shows when configured."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.test import Client

from entra.models import EntraIdentity
from orders.models import UserSession
from tests.entra.fake_idp import Account
from tests.entra.flows import sign_in, signed_in_as, start
from tests.factories import PASSWORD, staff_client

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BUTTON = "Sign in with Microsoft"
IDENTITIES = "/accounts/microsoft/identities/"


def test_a_signed_in_user_chooses_to_sign_in_with_microsoft_from_now_on(idp, alice_client, alice) -> None:
    page = alice_client.get("/accounts/microsoft/identities/")
    assert "Sign in with Microsoft from now on" in page.content.decode()
    response, _ = sign_in(alice_client, idp, path=IDENTITIES, password=PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/microsoft/identities/"
    link = EntraIdentity.objects.get(user=alice)
    assert (link.tenant_id, link.object_id) == (Account().tid, Account().oid)
    assert "alice@contoso.com" in alice_client.get("/accounts/microsoft/identities/").content.decode()
    fresh = Client()
    sign_in(fresh, idp)
    assert signed_in_as(fresh) == alice.pk


def test_an_identity_linked_to_someone_else_is_not_moved(idp, alice_client, alice, bob) -> None:
    EntraIdentity.objects.create(user=bob, tenant_id=Account().tid, object_id=Account().oid)
    response, _ = sign_in(alice_client, idp, path=IDENTITIES, password=PASSWORD)
    assert response.status_code == 409
    assert EntraIdentity.objects.get().user == bob


def test_a_link_started_by_one_user_cannot_be_finished_by_another(idp, alice, bob) -> None:
    client = Client()
    client.force_login(alice)
    back = idp.authorize(start(client, IDENTITIES, password=PASSWORD))
    client.force_login(bob)  # the same browser, someone else signed in meanwhile: Django's login empties the session
    assert client.get(back).status_code == 400
    # Should the flow survive anyway, it names the user who started it.
    client.force_login(alice)
    back = idp.authorize(start(client, IDENTITIES, password=PASSWORD))
    session = client.session
    session["entra_flow"] = {**session["entra_flow"], "user": bob.pk}
    session.save()
    assert client.get(back).status_code == 400
    assert not EntraIdentity.objects.exists()


def test_linking_needs_a_signed_in_user(idp) -> None:
    response = Client().post("/accounts/microsoft/identities/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_user_removes_their_own_link_and_nobody_elses(idp, alice_client, alice, bob) -> None:
    mine = EntraIdentity.objects.create(user=alice, tenant_id=Account().tid, object_id=Account().oid)
    theirs = EntraIdentity.objects.create(user=bob, tenant_id=Account().tid, object_id="bob")
    alice_client.post(f"/accounts/microsoft/identities/{theirs.pk}/remove/")
    assert EntraIdentity.objects.filter(pk=theirs.pk).exists()
    alice_client.post(f"/accounts/microsoft/identities/{mine.pk}/remove/")
    assert not EntraIdentity.objects.filter(pk=mine.pk).exists()


def test_staff_see_a_users_links_and_removing_one_ends_their_sessions(
    idp, alice, django_capture_on_commit_callbacks
) -> None:
    link = EntraIdentity.objects.create(user=alice, tenant_id=Account().tid, object_id=Account().oid,
                                        username="alice@contoso.com")
    customer = Client()
    sign_in(customer, idp)
    assert UserSession.objects.filter(user=alice).count() == 1
    admin = staff_client("admin2@example.com", "Administrator")
    page = admin.get(f"/admin/auth/user/{alice.pk}/change/")
    assert page.status_code == 200
    assert "alice@contoso.com" in page.content.decode()
    data = {
        "username": alice.username, "email": alice.email, "first_name": "", "last_name": "", "is_active": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "account_links-TOTAL_FORMS": "0", "account_links-INITIAL_FORMS": "0",
        "entra_identities-TOTAL_FORMS": "1", "entra_identities-INITIAL_FORMS": "1",
        "entra_identities-0-id": str(link.pk), "entra_identities-0-user": str(alice.pk),
        "entra_identities-0-DELETE": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/admin/auth/user/{alice.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert not EntraIdentity.objects.filter(pk=link.pk).exists()
    assert UserSession.objects.filter(user=alice).count() == 0
    assert signed_in_as(customer) is None


def test_the_sign_in_page_shows_the_microsoft_button_only_when_configured(settings, entra_settings) -> None:
    assert BUTTON in Client().get("/accounts/login/").content.decode()
    settings.ENTRA_CLIENT_SECRET = ""
    assert BUTTON not in Client().get("/accounts/login/").content.decode()
    settings.ENTRA_CLIENT_SECRET = "s"
    settings.ENTRA_CLIENT_ID = ""
    assert BUTTON not in Client().get("/accounts/login/").content.decode()
    assert Client().post("/accounts/microsoft/").status_code == 404


def test_the_button_keeps_where_the_user_was_going(idp, alice) -> None:
    EntraIdentity.objects.create(user=alice, tenant_id=Account().tid, object_id=Account().oid)
    page = Client().get("/accounts/login/?next=/orders/usmf/000123/")
    assert 'name="next" value="/orders/usmf/000123/"' in page.content.decode()
    client = Client()
    response, _ = sign_in(client, idp, next="/orders/usmf/000123/")
    assert response["Location"] == "/orders/usmf/000123/"
    elsewhere, _ = sign_in(Client(), idp, next="https://evil.example/")
    assert elsewhere["Location"] == "/orders/"


def test_a_password_sign_in_still_works_beside_it(idp, alice) -> None:
    response = Client().post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302


def test_the_content_security_policy_lets_the_sign_in_forms_reach_the_authority(monkeypatch) -> None:
    monkeypatch.setenv("ENTRA_CLIENT_ID", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("ENTRA_AUTHORITY", "https://login.contoso.example/tenant/v2.0")
    computed = runpy.run_path(str(ROOT / "portal" / "settings.py"))
    assert computed["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"] == [
        "'self'", "https://login.contoso.example"]
    monkeypatch.delenv("ENTRA_CLIENT_ID")
    computed = runpy.run_path(str(ROOT / "portal" / "settings.py"))
    assert computed["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"] == ["'self'"]


def test_deploy_check_names_a_missing_secret(settings) -> None:
    from entra.checks import entra_deploy_check

    settings.ENTRA_CLIENT_ID = "x"
    settings.ENTRA_CLIENT_SECRET = ""
    settings.ENTRA_CLIENT_CERTIFICATE_PATH = ""
    assert [m.id for m in entra_deploy_check() if m.id.startswith("entra.E")] == ["entra.E001"]
    settings.ENTRA_CLIENT_ID = ""
    assert entra_deploy_check() == []


def test_a_user_form_posted_without_the_microsoft_inline_changes_no_link(idp, alice) -> None:
    link = EntraIdentity.objects.create(user=alice, tenant_id=Account().tid, object_id=Account().oid)
    admin = staff_client("admin2@example.com", "Administrator")
    response = admin.post(f"/admin/auth/user/{alice.pk}/change/", {
        "username": alice.username, "email": alice.email, "first_name": "", "last_name": "", "is_active": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "account_links-TOTAL_FORMS": "0", "account_links-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302
    assert EntraIdentity.objects.filter(pk=link.pk).exists()
