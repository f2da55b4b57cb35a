"""DNS that does not answer: registering answers 503 and registers nothing, a delivery is not sent and is retried,
and hung lookups hold a bounded number of threads (webhooks.guard.resolve, WEBHOOKS_DNS_TIMEOUT_SECONDS)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
from django.test import Client
from django.utils import timezone

from orders.services import api_token_create
from portal.openapi import openapi_document
from webhooks import guard
from webhooks.delivery import deliveries_send_due
from webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import change_event, endpoint_for

pytestmark = pytest.mark.django_db

# Far beyond the timeout the tests set: were the lookup not bounded, it would answer after this and the request
# would go through (and each test fail on what it got, not on how long it took).
HANG_SECONDS = 10.0


@dataclass
class HangingDns:
    """A resolver that answers 127.0.0.1 (the receiver) only once released, which the tests do at teardown."""

    release: threading.Event = field(default_factory=threading.Event)
    asked: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, host: str, port: int) -> list[str]:
        with self._changed:
            self.asked.append(host)
            self._changed.notify_all()
        self.release.wait(HANG_SECONDS)
        return ["127.0.0.1"]

    def hosts_asked(self, count: int) -> list[str]:
        """What was asked once `count` lookups have started (they run in threads of their own), in order."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.asked) >= count, timeout=HANG_SECONDS)
            return sorted(self.asked)


@pytest.fixture
def hanging_dns(settings: Any, allow_private: None) -> Iterator[HangingDns]:
    settings.WEBHOOKS_DNS_TIMEOUT_SECONDS = 0.2
    fake = HangingDns()
    guard.set_resolver(fake)
    yield fake
    fake.release.set()
    guard.set_resolver(None)


def test_registering_through_the_api_is_503_when_dns_does_not_answer(alice, hanging_dns, receiver) -> None:
    api = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=alice, name='phone')[1]}")
    url = receiver.url(host="hooks.example.com")

    response = api.post("/api/v1/webhooks", json.dumps({"url": url}), content_type="application/json")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "dns_timeout"
    assert "hooks.example.com" in body["detail"]
    assert hanging_dns.hosts_asked(1) == ["hooks.example.com"]
    assert not WebhookEndpoint.objects.exists()
    spec = openapi_document()
    schema = spec["paths"]["/api/v1/webhooks"]["post"]["responses"]["503"]["content"]["application/problem+json"]
    jsonschema.validate(body, {**schema["schema"], "components": spec["components"]},
                        cls=jsonschema.Draft202012Validator)


def test_registering_on_the_page_says_to_try_again_when_dns_does_not_answer(alice_client: Client, hanging_dns,
                                                                           receiver) -> None:
    response = alice_client.post("/account/webhooks/", {"url": receiver.url(host="hooks.example.com")})

    assert response.status_code == 503
    assert "took too long" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_delivery_is_not_sent_and_stays_pending_when_dns_does_not_answer(alice, dns, receiver, settings,
                                                                            allow_private) -> None:
    dns.answers["hooks.example.com"] = ["127.0.0.1"]
    endpoint_for(alice, receiver.url(host="hooks.example.com"))
    change_event(alice)
    hanging = HangingDns()
    settings.WEBHOOKS_DNS_TIMEOUT_SECONDS = 0.2
    guard.set_resolver(hanging)
    try:
        assert deliveries_send_due(timezone.now()) == 0
    finally:
        hanging.release.set()

    assert hanging.hosts_asked(1) == ["hooks.example.com"]
    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at is not None
    assert delivery.attempt_log.get().error == "not sent: the host name did not resolve in time"


def test_hung_lookups_hold_a_bounded_number_of_threads(hanging_dns) -> None:
    for number in range(6):
        with pytest.raises(guard.ResolutionTimedOut):
            guard.resolve(f"hang-{number}.example.com", 443)

    # Each lookup waited for its answer in a thread of its own until every slot was held by a hung one; later ones
    # were refused without starting another.
    assert hanging_dns.hosts_asked(guard._LOOKUPS_AT_ONCE) == [
        f"hang-{number}.example.com" for number in range(guard._LOOKUPS_AT_ONCE)]
