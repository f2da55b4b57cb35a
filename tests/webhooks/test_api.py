"""/api/v1/webhooks: register, list, delete, deliveries; auth, ownership, the SSRF rules at registration."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from django.test import Client
from django.utils import timezone

from orders.services import api_token_create
from portal.openapi import openapi_document
from webhooks.delivery import deliveries_send_due
from webhooks.models import WebhookEndpoint

from .conftest import change_event

pytestmark = pytest.mark.django_db
SPEC = openapi_document()


def _validate(body: Any, path: str, method: str, status: int) -> None:
    content = SPEC["paths"][path][method]["responses"][str(status)]["content"]
    schema = next(iter(content.values()))["schema"]
    jsonschema.validate(body, {**schema, "components": SPEC["components"]}, cls=jsonschema.Draft202012Validator)


@pytest.fixture
def alice_api(alice) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=alice, name='phone')[1]}")


@pytest.fixture
def bob_api(bob) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=bob, name='phone')[1]}")


def _create(client: Client, url: str) -> Any:
    return client.post("/api/v1/webhooks", json.dumps({"url": url}), content_type="application/json")


def test_registering_answers_the_secret_once(alice_api: Client, receiver, allow_private) -> None:
    response = _create(alice_api, receiver.url())
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "url", "secret"}
    assert body["url"] == receiver.url()
    assert body["secret"].startswith("whsec_")
    assert len(body["secret"]) > 40
    assert response["Cache-Control"] == "no-store"
    _validate(body, "/api/v1/webhooks", "post", 201)

    listed = alice_api.get("/api/v1/webhooks")
    assert listed.status_code == 200
    [endpoint] = listed.json()["results"]
    assert endpoint["id"] == body["id"]
    assert "secret" not in endpoint
    assert body["secret"] not in listed.content.decode()
    _validate(listed.json(), "/api/v1/webhooks", "get", 200)


@pytest.mark.parametrize("url", ["https://127.0.0.1/hook", "http://127.0.0.1:8080/hook", "https://[::1]/hook",
                                 "https://169.254.169.254/latest/meta-data/", "https://localhost/hook"])
def test_a_url_to_a_local_address_is_refused_without_allow_private(alice_api: Client, url: str) -> None:
    response = _create(alice_api, url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_parameters"
    _validate(response.json(), "/api/v1/webhooks", "post", 400)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("payload", ["", "null", "[]", '{"url": 5}', '{"url": "https://x.test", "secret": "a"}',
                                     "{not json"])
def test_a_body_that_is_not_one_url_is_400(alice_api: Client, payload: str) -> None:
    response = alice_api.post("/api/v1/webhooks", payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameters"


def test_a_user_has_at_most_webhooks_per_user(alice_api: Client, receiver, allow_private, settings) -> None:
    settings.WEBHOOKS_PER_USER = 2
    assert [_create(alice_api, receiver.url(path=f"/{n}")).status_code for n in range(3)] == [201, 201, 409]
    response = _create(alice_api, receiver.url(path="/3"))
    assert response.json()["code"] == "limit_reached"
    _validate(response.json(), "/api/v1/webhooks", "post", 409)
    assert WebhookEndpoint.objects.count() == 2


def test_another_user_can_neither_list_nor_delete_nor_read_the_deliveries(
        alice_api: Client, bob_api: Client, receiver, allow_private) -> None:
    endpoint_id = _create(alice_api, receiver.url()).json()["id"]

    assert bob_api.get("/api/v1/webhooks").json() == {"results": []}
    for response in (bob_api.delete(f"/api/v1/webhooks/{endpoint_id}"),
                     bob_api.get(f"/api/v1/webhooks/{endpoint_id}/deliveries")):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert WebhookEndpoint.objects.filter(pk=endpoint_id).exists()

    assert alice_api.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint_id).exists()
    assert alice_api.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 404


def test_the_deliveries_list_matches_the_schema(alice, alice_api: Client, receiver, allow_private) -> None:
    endpoint_id = _create(alice_api, receiver.url()).json()["id"]
    change_event(alice)
    receiver.answers = [500]
    deliveries_send_due(timezone.now())

    response = alice_api.get(f"/api/v1/webhooks/{endpoint_id}/deliveries")
    assert response.status_code == 200
    _validate(response.json(), "/api/v1/webhooks/{id}/deliveries", "get", 200)
    [delivery] = response.json()["results"]
    assert delivery["status"] == "pending"
    assert delivery["attempts"][0]["status_code"] == 500
    assert delivery["attempts"][0]["error"] == "answered 500"


_SOME_ID = "6f1c1f7e-5d3a-4a8e-9a53-3c1e0c8e1a11"


@pytest.mark.parametrize(("method", "path"), [("get", "/api/v1/webhooks"), ("post", "/api/v1/webhooks"),
                                              ("delete", f"/api/v1/webhooks/{_SOME_ID}"),
                                              ("get", f"/api/v1/webhooks/{_SOME_ID}/deliveries")])
def test_without_a_token_it_is_401(db, method: str, path: str) -> None:
    response = getattr(Client(), method)(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_browser_session_does_not_authorize_the_api(alice_client: Client) -> None:
    assert alice_client.post("/api/v1/webhooks", '{"url": "https://x.test"}',
                             content_type="application/json").status_code == 401


def test_other_methods_are_405_with_allow(alice_api: Client) -> None:
    response = alice_api.put("/api/v1/webhooks")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"


def test_the_rate_limit_applies(alice_api: Client, settings) -> None:
    settings.API_RATE_LIMIT = (2, 60)
    statuses = [alice_api.get("/api/v1/webhooks").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
