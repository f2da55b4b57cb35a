"""The webhooks section of App access: add (the secret shown once), list, delete, recent deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from webhooks.delivery import deliveries_send_due
from webhooks.models import WebhookEndpoint

from .conftest import change_event, endpoint_for

pytestmark = pytest.mark.django_db


def test_app_access_links_to_webhooks(alice_client: Client) -> None:
    page = alice_client.get("/account/tokens/").content.decode()
    assert 'href="/account/webhooks/"' in page


def test_adding_a_webhook_shows_its_secret_once(alice_client: Client, receiver, allow_private) -> None:
    response = alice_client.post("/account/webhooks/", {"url": receiver.url()})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    again = alice_client.get("/account/webhooks/").content.decode()
    assert receiver.url() in again
    assert endpoint.secret not in again


def test_a_local_url_is_refused_on_the_page_too(alice_client: Client) -> None:
    response = alice_client.post("/account/webhooks/", {"url": "https://127.0.0.1/hook"})
    assert response.status_code == 400
    assert "public addresses only" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_recent_deliveries_show_each_attempt_and_giving_up(alice, alice_client: Client, receiver,
                                                           allow_private) -> None:
    endpoint_for(alice, receiver.url())
    event = change_event(alice)
    receiver.answers = [502, 502]
    deliveries_send_due(timezone.now())
    page = alice_client.get("/account/webhooks/").content.decode()
    assert "USMF 001001" in page
    assert "502" in page
    assert "trying again" in page

    deliveries_send_due(event.occurred_at + timedelta(hours=24))
    page = alice_client.get("/account/webhooks/").content.decode()
    assert "gave up" in page
    assert "trying again" not in page


def test_another_user_cannot_delete_a_webhook_or_see_it(alice, bob_client: Client, alice_client: Client, receiver,
                                                        allow_private) -> None:
    endpoint, _ = endpoint_for(alice, receiver.url())
    assert receiver.url() not in bob_client.get("/account/webhooks/").content.decode()
    assert bob_client.post(f"/account/webhooks/{endpoint.pk}/delete/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert alice_client.post(f"/account/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_page_needs_a_sign_in(db) -> None:
    response = Client().get("/account/webhooks/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
