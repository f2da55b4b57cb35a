"""Deliveries over a real socket: signature, retries with the same event id, giving up after 24 hours, the address
checked again at delivery time and the connection pinned to it."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from orders.services import api_token_create
from watching.locks import claims_with_skip_locked, single_runner
from watching.outbox import change_hooks, senders
from webhooks import transport
from webhooks.delivery import RETRY_FOR, deliveries_send_due, delivery_claim
from webhooks.models import WebhookDelivery
from webhooks.services import deliveries_fan_out

from .conftest import DATE_CHANGE, change_event, endpoint_for

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_verifier() -> Any:
    """The receiver's check exactly as README.md shows it: proves the README and the portal agree."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    source = next(block for block in blocks if "def verify_portal_signature" in block)
    namespace: dict[str, Any] = {}
    exec(compile(source, "README.md", "exec"), namespace)  # noqa: S102  (our own README)
    return namespace["verify_portal_signature"]


def test_the_outbox_knows_the_webhook_hook_and_sender() -> None:
    assert deliveries_fan_out in change_hooks()
    assert senders()["webhooks"] is deliveries_send_due


def test_a_delivery_is_signed_json_that_the_readme_check_verifies(alice, receiver, allow_private, settings) -> None:
    settings.PORTAL_BASE_URL = "https://orders.example.com"
    endpoint, secret = endpoint_for(alice, receiver.url())
    event = change_event(alice)

    assert deliveries_send_due(timezone.now()) == 1

    [got] = receiver.received
    assert got.path == "/hooks/orders"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"].startswith("FnO-Order-Portal-Webhooks/")
    assert got.json() == {
        "id": str(event.id),
        "type": "order.changed",
        "occurred_at": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "order": {"company": "usmf", "number": "001001", "url": "https://orders.example.com/orders/usmf/001001/"},
        "changes": DATE_CHANGE,
    }
    verify = _readme_verifier()
    header = got.headers["Portal-Signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(secret, header, got.body)
    assert not verify(secret, header, got.body.replace(b"2026-12-19", b"2026-12-20"))
    assert not verify(secret + "x", header, got.body)
    t = int(header.split(",")[0][2:])
    old = header.replace(f"t={t}", f"t={t - 3600}")
    assert not verify(secret, old, got.body)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    endpoint.refresh_from_db()
    assert endpoint.last_delivered_at is not None


def test_500_then_200_sends_the_same_event_twice_and_lists_both_attempts(alice, receiver, allow_private) -> None:
    endpoint, _ = endpoint_for(alice, receiver.url())
    event = change_event(alice)
    receiver.answers = [500]
    now = timezone.now()

    assert deliveries_send_due(now) == 0
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == now + timedelta(minutes=1)
    assert deliveries_send_due(now + timedelta(seconds=59)) == 0  # not due yet: nothing sent
    assert len(receiver.received) == 1
    assert deliveries_send_due(now + timedelta(minutes=1)) == 1

    ids = [r.json()["id"] for r in receiver.received]
    assert ids == [str(event.id), str(event.id)]
    token = api_token_create(user=alice, name="t")[1]
    response = Client().get(f"/api/v1/webhooks/{endpoint.pk}/deliveries", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    [listed] = response.json()["results"]
    assert listed["event_id"] == str(event.id)
    assert listed["status"] == "delivered"
    assert [(a["number"], a["status_code"]) for a in listed["attempts"]] == [(2, 200), (1, 500)]


def test_retries_back_off_and_give_up_24_hours_after_the_event(alice, receiver, allow_private) -> None:
    endpoint, _ = endpoint_for(alice, receiver.url())
    event = change_event(alice)
    receiver.answers = [503] * 100
    at = event.occurred_at
    waits = []
    while True:
        deliveries_send_due(at)
        delivery = WebhookDelivery.objects.get()
        if delivery.status != "pending":
            break
        waits.append(delivery.next_attempt_at - at)
        at = delivery.next_attempt_at
        deliveries_send_due(at - timedelta(seconds=1))  # an early pass sends nothing
    minutes = [int(w.total_seconds() // 60) for w in waits]
    assert minutes[:7] == [1, 2, 4, 8, 16, 32, 60]
    assert max(minutes) == 60
    assert delivery.status == "gave_up"
    assert delivery.finished_at == event.occurred_at + RETRY_FOR  # the last attempt is at the 24-hour mark
    assert delivery.attempts == len(receiver.received) == len(waits) + 1
    assert {r.json()["id"] for r in receiver.received} == {str(event.id)}
    assert deliveries_send_due(at + timedelta(days=1)) == 0
    assert len(receiver.received) == delivery.attempts
    endpoint.refresh_from_db()
    assert endpoint.last_gave_up_at == delivery.finished_at


def test_a_redirect_is_not_followed_and_counts_as_a_failure(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    change_event(alice)
    receiver.answers = [302]

    assert deliveries_send_due(timezone.now()) == 0
    assert [r.path for r in receiver.received] == ["/hooks/orders"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline(alice, receiver, allow_private,
                                                                      monkeypatch) -> None:
    # Each byte comes well within the read timeout; only the deadline over the whole exchange stops it.
    monkeypatch.setattr(transport, "TOTAL_SECONDS", 0.5)
    endpoint_for(alice, receiver.url())
    change_event(alice)
    receiver.trickle = 0.1

    assert deliveries_send_due(timezone.now()) == 0
    attempt = WebhookDelivery.objects.get().attempt_log.get()
    assert (attempt.status_code, attempt.error) == (None, "timed out")


def test_an_endpoint_that_failed_is_not_tried_again_in_the_same_pass(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    change_event(alice, number="001001")
    change_event(alice, number="001002")
    receiver.answers = [500, 500]

    assert deliveries_send_due(timezone.now()) == 0
    assert len(receiver.received) == 1
    assert list(WebhookDelivery.objects.values_list("attempts", flat=True).order_by("attempts")) == [0, 1]


def test_the_address_is_checked_again_at_delivery_time(alice, receiver, dns) -> None:
    dns.answers["hooks.example.com"] = ["93.184.215.14"]
    endpoint_for(alice, f"https://hooks.example.com:{receiver.port}/hooks/orders")
    change_event(alice)
    dns.answers["hooks.example.com"] = ["127.0.0.1"]  # the DNS answer changed since registration

    assert deliveries_send_due(timezone.now()) == 0

    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.attempt_log.get().error.startswith("not sent: The URL leads to a private")


def test_the_connection_goes_to_the_address_that_was_checked(alice, receiver, dns, allow_private) -> None:
    # receiver.test resolves only through the guard's resolver: the socket must go where the check said.
    dns.answers["receiver.test"] = ["127.0.0.1"]
    endpoint_for(alice, receiver.url(host="receiver.test"))
    change_event(alice)

    assert deliveries_send_due(timezone.now()) == 1
    [got] = receiver.received
    assert got.headers["Host"] == f"receiver.test:{receiver.port}"


def test_a_deactivated_users_webhooks_get_nothing(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    change_event(alice, number="001001")  # queued while active
    alice.is_active = False
    alice.save()
    change_event(alice, number="001002")  # not even queued

    assert deliveries_send_due(timezone.now()) == 0
    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event.number, delivery.status) == ("001001", "gave_up")


def test_a_failed_watcher_transaction_leaves_no_delivery(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())

    def watcher_pass() -> None:
        with transaction.atomic():
            change_event(alice)
            raise RuntimeError("the watcher crashed before committing")

    with pytest.raises(RuntimeError):
        watcher_pass()
    assert not WebhookDelivery.objects.exists()


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_ends(alice, allow_private, receiver) -> None:
    endpoint_for(alice, receiver.url())
    change_event(alice, number="001001")
    change_event(alice, number="001002")
    now = timezone.now()

    first = delivery_claim(now=now, skip_endpoints=set())
    second = delivery_claim(now=now, skip_endpoints=set())
    assert first is not None
    assert second is not None
    assert first != second
    assert delivery_claim(now=now, skip_endpoints=set()) is None
    assert delivery_claim(now=now + timedelta(seconds=61), skip_endpoints=set()) == first


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_delivery_once(alice, receiver, allow_private) -> None:
    """As two watchers do: on PostgreSQL both run (row claims share the work), on SQLite the single-runner lock lets
    one of them in."""
    endpoint_for(alice, receiver.url())
    events = [change_event(alice, number=f"0010{n:02d}") for n in range(12)]
    now = timezone.now()
    start = threading.Barrier(2)
    sent: list[int] = []

    def watcher() -> None:
        try:
            start.wait()
            with single_runner() as mine:
                if mine:
                    sent.append(deliveries_send_due(now))
        finally:
            connection.close()

    threads = [threading.Thread(target=watcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(sent) == 12
    assert sorted(r.json()["order"]["number"] for r in receiver.received) == sorted(e.number for e in events)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.django_db(transaction=True)
def test_a_row_another_watcher_holds_is_skipped_not_waited_for(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    change_event(alice, number="001001")
    change_event(alice, number="001002")
    held = WebhookDelivery.objects.order_by("next_attempt_at", "pk").first()
    assert held is not None
    locked, release = threading.Event(), threading.Event()

    def other_watcher() -> None:
        try:
            if claims_with_skip_locked():
                with transaction.atomic():
                    list(WebhookDelivery.objects.select_for_update().filter(pk=held.pk))
                    locked.set()
                    release.wait(10)
            else:
                with single_runner() as mine:
                    assert mine
                    locked.set()
                    release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_watcher)
    thread.start()
    try:
        assert locked.wait(10)
        if claims_with_skip_locked():
            claimed = delivery_claim(now=timezone.now(), skip_endpoints=set())
            assert claimed is not None
            assert claimed != held.pk
        else:
            with single_runner() as mine:
                assert not mine
    finally:
        release.set()
        thread.join()
