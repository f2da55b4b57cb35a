"""Sign in with Microsoft through MSAL's real code path, against the fake identity provider."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import get_user_model
from django.test import Client

from entra.models import EntraIdentity
from tests.entra.fake_idp import CLIENT_SECRET, OTHER_TENANT, TENANT, Account
from tests.entra.flows import sign_in, signed_in_as, start
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

NOT_LINKED = "This Microsoft account is not linked to a customer; ask us for an invitation."
NOT_STARTED_HERE = "does not belong to a sign-in started here"


@pytest.fixture
def alice_linked(db):
    alice = make_customer("alice@example.com", "usmf:US-001")
    account = Account()
    EntraIdentity.objects.create(user=alice, tenant_id=account.tid, object_id=account.oid, username=account.username)
    return alice


def test_a_linked_identity_signs_in_with_a_new_session(idp, alice_linked) -> None:
    client = Client()
    auth_uri = start(client, next="/orders/?status=open")
    flow_session = client.session.session_key
    response = client.get(idp.authorize(auth_uri))
    assert response.status_code == 302
    assert response["Location"] == "/orders/?status=open"
    assert signed_in_as(client) == alice_linked.pk
    assert client.session.session_key != flow_session  # rotated at sign-in
    assert len(idp.token_requests) == 1
    assert EntraIdentity.objects.get(user=alice_linked).last_used_at is not None
    assert AccessLog.objects.filter(username="alice@example.com").count() == 1  # audited like a password sign-in
    assert client.get("/orders/", follow=False).status_code != 302  # the session works


def test_the_flow_asks_only_for_openid_profile_email_with_pkce_and_a_nonce(idp, alice_linked) -> None:
    sign_in(Client(), idp)
    authorize = idp.authorize_requests[0]
    assert set(authorize["scope"].split()) == {"openid", "profile", "email"}  # no offline_access, no API
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["redirect_uri"] == "http://testserver/accounts/microsoft/callback/"
    assert idp.token_requests[0]["code_verifier"]


def test_an_unknown_identity_is_refused_and_gets_no_account(idp, alice_linked) -> None:
    users = get_user_model().objects.count()
    client = Client()
    response, callback = sign_in(client, idp, Account(oid="00000000-0000-0000-0000-0000000000ff",
                                                      username="eve@contoso.com"))
    assert response.status_code == 403
    assert NOT_LINKED in response.content.decode()
    assert signed_in_as(client) is None
    assert get_user_model().objects.count() == users
    assert EntraIdentity.objects.count() == 1
    # Counted like a failed sign-in, under the identity's label, without the authorization code in the record.
    attempt = AccessAttempt.objects.get(username__startswith="entra:")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert "code=" in attempt.get_data
    assert code not in attempt.get_data


def test_the_same_email_in_another_identity_is_not_the_linked_user(idp, alice_linked) -> None:
    impostor = Account(tid=TENANT, oid="00000000-0000-0000-0000-00000000beef", username="alice@contoso.com")
    client = Client()
    response, _ = sign_in(client, idp, impostor)
    assert response.status_code == 403
    assert signed_in_as(client) is None


def test_a_tenant_outside_the_allowed_tenants_is_refused(idp, alice_linked, entra_settings) -> None:
    entra_settings.ENTRA_ALLOWED_TENANTS = [OTHER_TENANT]
    client = Client()
    response, _ = sign_in(client, idp)
    assert response.status_code == 403
    assert "Accounts of this organisation cannot sign in" in response.content.decode()
    assert signed_in_as(client) is None
    entra_settings.ENTRA_ALLOWED_TENANTS = [OTHER_TENANT, TENANT]
    response, _ = sign_in(client, idp)
    assert signed_in_as(client) == alice_linked.pk


def test_a_replayed_answer_is_refused_without_asking_the_identity_provider(idp, alice_linked) -> None:
    client = Client()
    _response, callback = sign_in(client, idp)
    assert signed_in_as(client) == alice_linked.pk
    for replayer in (client, Client()):
        replay = replayer.get(callback)
        assert replay.status_code == 400
        assert NOT_STARTED_HERE in replay.content.decode()
    assert len(idp.token_requests) == 1  # the flow left the session with the first answer


def test_a_tampered_state_is_refused_and_spends_the_flow(idp, alice_linked) -> None:
    client = Client()
    callback = idp.authorize(start(client))
    tampered = callback.replace("state=", "state=x")
    response = client.get(tampered)
    assert response.status_code == 400
    assert NOT_STARTED_HERE in response.content.decode()
    assert idp.token_requests == []
    assert signed_in_as(client) is None
    assert client.get(callback).status_code == 400  # the genuine answer comes too late: start again


def test_an_answer_without_a_flow_in_the_session_is_refused(idp, alice_linked) -> None:
    callback = idp.authorize(start(Client()))
    stranger = Client()
    assert stranger.get(callback).status_code == 400
    assert signed_in_as(stranger) is None
    assert idp.token_requests == []


def test_a_nonce_that_does_not_match_the_flow_is_refused(idp, alice_linked) -> None:
    idp.tamper = {"nonce": "another-flows-nonce"}
    client = Client()
    response, _ = sign_in(client, idp)
    assert response.status_code == 400
    assert signed_in_as(client) is None


@pytest.mark.parametrize("tamper", [
    {"aud": "another-application"},
    {"iss": "https://login.microsoftonline.com/" + OTHER_TENANT + "/v2.0"},
    {"exp": 1_000_000_000, "iat": 999_990_000, "nbf": 999_990_000},
    {"tid": None},
    {"oid": None},
], ids=["audience", "issuer", "expired", "no-tid", "no-oid"])
def test_an_id_token_that_fails_validation_is_refused(idp, alice_linked, tamper) -> None:
    idp.tamper = tamper
    client = Client()
    response, _ = sign_in(client, idp)
    assert response.status_code == 400
    assert signed_in_as(client) is None


def test_an_id_token_signed_by_another_key_is_refused(idp, alice_linked) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    idp.rogue_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client = Client()
    response, _ = sign_in(client, idp)
    assert response.status_code == 400
    assert signed_in_as(client) is None


def test_cancelling_at_microsoft_says_so(idp, alice_linked) -> None:
    client = Client()
    response = client.get(idp.deny(start(client)))
    assert response.status_code == 400
    assert "Sign-in cancelled" in response.content.decode()
    assert idp.token_requests == []


def test_a_deactivated_user_is_refused_even_when_still_linked(idp, alice_linked) -> None:
    get_user_model().objects.filter(pk=alice_linked.pk).update(is_active=False)  # no signals, as the bulk action
    client = Client()
    response, _ = sign_in(client, idp)
    assert response.status_code == 403
    assert signed_in_as(client) is None


def test_deactivating_a_user_removes_their_microsoft_sign_ins(idp, alice_linked) -> None:
    alice_linked.is_active = False
    alice_linked.save()
    assert EntraIdentity.objects.filter(user=alice_linked).count() == 0
    alice_linked.is_active = True
    alice_linked.save()
    client = Client()
    response, _ = sign_in(client, idp)
    assert response.status_code == 403  # reactivation does not bring the link back: invite again


def test_a_locked_out_address_cannot_sign_in_with_microsoft(idp, alice_linked, entra_settings) -> None:
    entra_settings.AXES_ADDRESS_FAILURE_LIMIT = 3
    for n in range(3):
        Client().post("/accounts/login/", {"username": f"victim{n}@example.com", "password": "guess"})
    client = Client()
    response, _ = sign_in(client, idp)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert signed_in_as(client) is None


def test_the_user_lock_out_from_wrong_passwords_holds_for_microsoft_too(idp, alice_linked, entra_settings) -> None:
    for _ in range(entra_settings.AXES_FAILURE_LIMIT):
        Client().post("/accounts/login/", {"username": "alice@example.com", "password": "wrong-password"})
    client = Client()
    response, _ = sign_in(client, idp)
    assert response.status_code == 429
    assert signed_in_as(client) is None


def test_refused_microsoft_sign_ins_count_towards_the_address_lock_out(idp, alice_linked, entra_settings) -> None:
    entra_settings.AXES_ADDRESS_FAILURE_LIMIT = 2
    strangers = [Account(oid=f"00000000-0000-0000-0000-0000000000{n:02d}") for n in range(2)]
    statuses = [sign_in(Client(), idp, stranger)[0].status_code for stranger in strangers]
    assert statuses == [403, 429]
    response, _ = sign_in(Client(), idp)  # alice, linked, from the same address
    assert response.status_code == 429


def test_an_unreachable_identity_provider_is_an_honest_503(idp, alice_linked) -> None:
    idp.fail_with = httpx.ConnectTimeout("timed out")
    response = Client().post("/accounts/microsoft/")
    assert response.status_code == 503
    assert "could not reach Microsoft" in response.content.decode()
    idp.fail_with = None
    client = Client()
    response, _ = sign_in(client, idp)  # a failed start is retried by the next one
    assert signed_in_as(client) == alice_linked.pk


def test_the_token_endpoint_timing_out_is_an_honest_503(idp, alice_linked) -> None:
    client = Client()
    callback = idp.authorize(start(client))
    idp.fail_with = httpx.ReadTimeout("timed out")
    response = client.get(callback)
    assert response.status_code == 503
    assert signed_in_as(client) is None


def test_every_call_to_the_identity_provider_has_a_timeout(idp, alice_linked) -> None:
    sign_in(Client(), idp)
    assert {str(r.url).split("?")[0].rsplit("/", 1)[-1] for r in idp.requests} >= {
        "openid-configuration", "token", "keys"}
    for request in idp.requests:
        timeout = request.extensions["timeout"]
        assert all(timeout[phase] is not None and timeout[phase] > 0 for phase in ("connect", "read", "write", "pool"))


def test_no_secret_reaches_the_log_or_the_session(idp, alice_linked, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client()
    response, callback = sign_in(client, idp)
    assert response.status_code == 302
    verifier = idp.token_requests[0]["code_verifier"]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in (CLIENT_SECRET, verifier, code):
        assert secret not in text
    assert CLIENT_SECRET not in str(dict(client.session))


def test_a_generic_openid_connect_authority_is_used_without_instance_discovery(entra_settings, db) -> None:
    from entra.provider import build_entra_client, set_entra_client
    from tests.entra.fake_idp import FakeIdP

    entra_settings.ENTRA_AUTHORITY = "https://signin.contoso.example/" + TENANT + "/v2.0"
    fake = FakeIdP(authority=entra_settings.ENTRA_AUTHORITY)
    set_entra_client(build_entra_client(transport=httpx.MockTransport(fake)))
    try:
        alice = make_customer("alice@example.com", "usmf:US-001")
        account = Account()
        EntraIdentity.objects.create(user=alice, tenant_id=account.tid, object_id=account.oid)
        client = Client()
        response, _ = sign_in(client, fake)
        assert response.status_code == 302
        assert signed_in_as(client) == alice.pk
        assert {r.url.host for r in fake.requests} == {"signin.contoso.example"}
    finally:
        set_entra_client(None)
