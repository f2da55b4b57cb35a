"""An endpoint lives no longer than what let it in: the API token that added it (revoked: deleted; expired: nothing
sent), and the password (a new one deletes every endpoint). The user is e-mailed whenever one is added."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.forms import SetPasswordForm
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils import timezone

from languages.services import user_language_set
from orders.models import ApiToken
from orders.services import api_token_create
from tests.factories import PASSWORD
from webhooks.delivery import deliveries_send_due
from webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import change_event, endpoint_for

pytestmark = pytest.mark.django_db


def _api(user: Any, name: str) -> tuple[Client, ApiToken]:
    token, raw = api_token_create(user=user, name=name)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), token


def _add(client: Client, url: str) -> str:
    response = client.post("/api/v1/webhooks", json.dumps({"url": url}), content_type="application/json")
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def _ids() -> set[str]:
    return {str(pk) for pk in WebhookEndpoint.objects.values_list("pk", flat=True)}


def test_an_endpoint_records_the_token_that_added_it_and_none_from_the_web_page(alice, alice_client, receiver,
                                                                                 allow_private) -> None:
    client, token = _api(alice, "script")
    by_token = _add(client, receiver.url(path="/a"))
    assert alice_client.post("/account/webhooks/", {"url": receiver.url(path="/b")}).status_code == 200
    by_page = WebhookEndpoint.objects.exclude(pk=by_token).get()
    assert WebhookEndpoint.objects.get(pk=by_token).created_by_token_id == token.pk
    assert by_page.created_by_token_id is None
    page = alice_client.get("/account/webhooks/").content.decode()
    assert 'Added with the API token "script"' in page.replace("&quot;", '"')


def test_revoking_a_token_deletes_the_endpoints_it_added_and_no_others(alice, alice_client, bob, receiver,
                                                                       allow_private) -> None:
    leaked, leaked_token = _api(alice, "old read-only script")
    kept, _ = _api(alice, "erp")
    bobs, _ = _api(bob, "bob")
    doomed = {_add(leaked, receiver.url(path="/attacker/1")), _add(leaked, receiver.url(path="/attacker/2"))}
    others = {_add(kept, receiver.url(path="/erp")), _add(bobs, receiver.url(path="/bob"))}
    alice_client.post("/account/webhooks/", {"url": receiver.url(path="/page")})
    change_event(alice)
    assert WebhookDelivery.objects.filter(endpoint_id__in=doomed).count() == 2

    response = alice_client.post(f"/account/tokens/{leaked_token.pk}/revoke/")  # the App access page

    assert response.status_code == 302
    assert doomed.isdisjoint(_ids())
    assert others < _ids()
    assert len(_ids()) == 3  # the web page's endpoint is not the token's
    assert not WebhookDelivery.objects.filter(endpoint_id__in=doomed).exists()
    deliveries_send_due(timezone.now())
    assert "/attacker/1" not in {r.path for r in receiver.received}


def test_a_new_password_deletes_every_endpoint_of_the_user(alice, bob, receiver, allow_private,
                                                           django_capture_on_commit_callbacks) -> None:
    client, _ = _api(alice, "script")
    _add(client, receiver.url(path="/by-token"))
    signed_in = Client()
    signed_in.force_login(alice)
    signed_in.post("/account/webhooks/", {"url": receiver.url(path="/by-page")})
    bobs = endpoint_for(bob, receiver.url(path="/bob"))[0]
    assert WebhookEndpoint.objects.filter(user=alice).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        new = "a-new-long-password-7"
        response = signed_in.post("/accounts/password/change/", {
            "old_password": PASSWORD, "new_password1": new, "new_password2": new})

    assert response.status_code == 302
    assert not WebhookEndpoint.objects.filter(user=alice).exists()
    assert list(WebhookEndpoint.objects.values_list("pk", flat=True)) == [bobs.pk]
    assert client.get("/api/v1/webhooks").status_code == 401  # and the token went with the password


def test_a_password_reset_deletes_every_endpoint_too(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    new = "a-new-long-password-7"
    form = SetPasswordForm(alice, {"new_password1": new, "new_password2": new})  # what the reset link's page saves
    assert form.is_valid()
    form.save()
    assert not WebhookEndpoint.objects.filter(user=alice).exists()


def test_deactivating_a_user_deletes_their_tokens_endpoints_and_sends_to_none(alice, alice_client, receiver,
                                                                               allow_private,
                                                                               django_capture_on_commit_callbacks
                                                                               ) -> None:
    client, _ = _api(alice, "script")
    _add(client, receiver.url(path="/by-token"))
    alice_client.post("/account/webhooks/", {"url": receiver.url(path="/by-page")})
    change_event(alice)
    with django_capture_on_commit_callbacks(execute=True):
        alice.is_active = False
        alice.save()

    assert list(WebhookEndpoint.objects.values_list("url", flat=True)) == [receiver.url(path="/by-page")]
    assert deliveries_send_due(timezone.now()) == 0
    assert receiver.received == []


def test_saving_the_user_without_a_new_password_deletes_nothing(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    alice.first_name = "Alice"
    alice.save()
    alice.last_login = timezone.now()
    alice.save(update_fields=["last_login"])
    assert WebhookEndpoint.objects.filter(user=alice).count() == 1


def test_nothing_is_sent_through_an_endpoint_whose_token_has_expired(alice, receiver, allow_private) -> None:
    client, token = _api(alice, "script")
    endpoint_id = _add(client, receiver.url())
    change_event(alice)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert deliveries_send_due(timezone.now()) == 0

    assert receiver.received == []
    delivery = WebhookDelivery.objects.get(endpoint_id=endpoint_id)
    assert delivery.status == "gave_up"
    assert "token" in delivery.attempt_log.get().error


def test_a_token_revoked_past_the_signal_sends_nothing_either(alice, receiver, allow_private) -> None:
    """QuerySet.update sends no signal: the endpoint survives, but the sender checks the token itself."""
    client, token = _api(alice, "script")
    _add(client, receiver.url())
    change_event(alice)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())

    assert deliveries_send_due(timezone.now()) == 0
    assert receiver.received == []
    assert WebhookDelivery.objects.get().status == "gave_up"


def test_the_user_is_emailed_when_a_token_adds_an_endpoint(alice, receiver, allow_private, settings,
                                                           django_capture_on_commit_callbacks) -> None:
    settings.PORTAL_BASE_URL = "https://orders.example.com"
    client, _ = _api(alice, "old read-only script")
    with django_capture_on_commit_callbacks(execute=True):
        _add(client, receiver.url(path="/attacker"))

    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "A webhook was added to your order portal user"
    assert receiver.url(path="/attacker") in message.body
    assert 'It was added with your API token "old read-only script".' in message.body
    assert "https://orders.example.com/account/webhooks/" in message.body
    assert "https://orders.example.com/accounts/password/reset/" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert receiver.url(path="/attacker") in html
    assert "old read-only script" in html


def test_the_notice_of_an_endpoint_added_on_the_page_is_in_the_users_language(alice, alice_client, receiver,
                                                                              allow_private,
                                                                              django_capture_on_commit_callbacks
                                                                              ) -> None:
    user_language_set(user_id=alice.pk, language="de")
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post("/account/webhooks/", {"url": receiver.url()})

    [message] = mail.outbox
    assert message.subject == "Zu Ihrem Benutzer im Bestellportal wurde ein Webhook hinzugefügt"
    assert "Er wurde auf der Seite Webhooks hinzugefügt, angemeldet als Sie." in message.body
    [(html, _mimetype)] = message.alternatives
    assert '<html lang="de">' in html


def test_nothing_is_emailed_for_an_endpoint_that_was_not_added(alice, receiver, allow_private, settings,
                                                               django_capture_on_commit_callbacks) -> None:
    settings.WEBHOOKS_PER_USER = 1
    endpoint_for(alice, receiver.url())
    client, _ = _api(alice, "script")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/webhooks", json.dumps({"url": receiver.url(path="/2")}),
                               content_type="application/json")
    assert response.status_code == 409
    assert mail.outbox == []


class _BrokenMailServer(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("no mail server")


def test_a_mail_server_that_fails_does_not_fail_the_registration(alice, receiver, allow_private, settings,
                                                                 django_capture_on_commit_callbacks) -> None:
    settings.EMAIL_BACKEND = f"{__name__}._BrokenMailServer"
    client, _ = _api(alice, "script")
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_id = _add(client, receiver.url())
    assert WebhookEndpoint.objects.filter(pk=endpoint_id).exists()
