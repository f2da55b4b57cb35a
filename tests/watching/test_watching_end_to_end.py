"""Watching against the simulator over a real socket: changes made in the simulator's data at run time
(POST /_sim/orders/...), found by `watch_orders --once`, sent by e-mail and webhook exactly once."""

from __future__ import annotations

import hashlib
import hmac
import html
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from orders.models import PromiseDate
from orders.resilience.breaker import breaker_state
from orders.services import api_token_create
from simulator.server import Simulator
from tests.webhooks.conftest import Receiver, allow_private, receiver  # noqa: F401  (fixtures)
from watching.models import ChangeEvent, Watch, WatchedOrder
from webhooks.models import WebhookDelivery
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

ORDER = "001001"  # an order of usmf:US-001 in the simulator's demo data


@pytest.fixture
def fno(live_fno: Simulator, settings: Any) -> Iterator[Simulator]:
    """The simulator, its data back to the demo data afterwards; e-mail kept in mail.outbox."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PORTAL_BASE_URL = "https://orders.example.com"
    yield live_fno
    httpx.delete(f"{live_fno.url}/_sim/orders", timeout=5).raise_for_status()


def sim_change(sim: Simulator, number: str, **fields: Any) -> None:
    httpx.post(f"{sim.url}/_sim/orders/usmf/{number}", json=fields, timeout=5).raise_for_status()


def watcher_pass() -> str:
    """Everything watched is due now; one `watch_orders --once`. Returns what it printed."""
    WatchedOrder.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))
    out = io.StringIO()
    call_command("watch_orders", "--once", stdout=out)
    return out.getvalue()


def watch(client: Client, number: str, company: str = "usmf") -> int:
    return client.post("/watches/change/", {"company": company, "number": number, "action": "start"}).status_code


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def test_a_moved_ship_date_is_one_email_and_one_signed_webhook_and_the_next_pass_sends_nothing(
    alice, alice_client: Client, fno: Simulator, receiver: Receiver, allow_private: None  # noqa: F811
) -> None:
    sim_change(fno, ORDER, ConfirmedShippingDate="2026-12-12")
    _endpoint, secret = endpoint_create(user_id=alice.pk, url=receiver.url())
    assert watch(alice_client, ORDER) == 302
    sim_change(fno, ORDER, ConfirmedShippingDate="2026-12-19")

    watcher_pass()

    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert "Confirmed ship date: Dec. 12, 2026 → Dec. 19, 2026" in message.body
    assert f"https://orders.example.com/orders/usmf/{ORDER}/" in message.body
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    [received] = receiver.received
    stamp, _, mac = received.headers["Portal-Signature"].partition(",v1=")
    expected = hmac.new(secret.encode(), f"{stamp.removeprefix('t=')}.".encode() + received.body, hashlib.sha256)
    assert hmac.compare_digest(mac, expected.hexdigest())
    payload = json.loads(received.body)
    assert payload["id"] == str(ChangeEvent.objects.get().pk)
    assert payload["changes"] == [{"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-19"}]

    watcher_pass()

    assert len(mail.outbox) == 1
    assert len(receiver.received) == 1
    assert ChangeEvent.objects.count() == 1


def test_one_pass_over_20_orders_of_one_account_is_one_request_per_entity_set_and_refreshes_their_copies(
    alice_client: Client, fno: Simulator, settings: Any
) -> None:
    query = quote("dataAreaId eq 'usmf' and OrderingCustomerAccountNumber eq 'US-001'")
    rows = httpx.get(f"{fno.url}/data/SalesOrderHeadersV2?$filter={query}&$select=SalesOrderNumber&$top=20",
                     timeout=5).json()["value"]
    numbers = [row["SalesOrderNumber"] for row in rows]
    assert len(numbers) == 20
    for number in numbers:
        assert alice_client.get(f"/orders/usmf/{number}/").status_code == 200
        assert watch(alice_client, number) == 302
    sim_change(fno, numbers[-1], ConfirmedShippingDate="2026-12-24")
    fno.reset_log()

    watcher_pass()

    # The header (its lines expanded), the tracking numbers, the invoices, the packing slip journal and its lines.
    assert fno.calls() == {"SalesOrderHeadersV2": 1, "PackingSlipTrackingInformation": 1, "SalesInvoiceHeadersV2": 1,
                           "CustPackingSlipJourBiEntities": 1, "CustPackingSlipTransBiEntities": 1}
    assert ChangeEvent.objects.count() == 1
    # The watcher's read wrote the copy the customer's page reads: no F&O request, and the new date.
    fno.reset_log()
    page = _text(alice_client.get(f"/orders/usmf/{numbers[-1]}/"))
    assert fno.calls() == {}
    assert "Dec. 24, 2026" in page


def test_when_the_breaker_is_open_the_pass_reads_nothing(alice_client: Client, fno: Simulator, settings: Any) -> None:
    assert watch(alice_client, ORDER) == 302
    settings.D365_BREAKER_FAILURES = 1
    fno.set_faults(status=503)
    alice_client.post(f"/orders/usmf/{ORDER}/")  # a customer's refresh fails and opens the breaker
    assert breaker_state().state == "open"
    fno.clear_faults()
    fno.reset_log()

    printed = watcher_pass()

    assert fno.calls() == {}
    assert "stopped: unreachable" in printed
    [row] = WatchedOrder.objects.all()
    # Due again when the breaker lets calls through, not a whole interval later.
    cooldown = timedelta(seconds=settings.D365_BREAKER_COOLDOWN_SECONDS)
    assert timezone.now() < row.next_check_at <= timezone.now() + cooldown


def test_promise_history_and_what_changed_after_two_date_changes_and_another_customer_sees_neither(
    alice, bob, alice_client: Client, bob_client: Client, fno: Simulator, settings: Any
) -> None:
    settings.ORDERS_CACHE_SECONDS = 0  # every view reads F&O, as after the copy has aged
    url = f"/orders/usmf/{ORDER}/"
    sim_change(fno, ORDER, ConfirmedShippingDate="2026-12-12")
    first = _text(alice_client.get(url))
    assert "Since you last looked" not in first
    assert "No changes since you last looked" not in first
    assert "promised Dec 12" in first or "promised 12 Dec" in first
    again = _text(alice_client.get(url))
    assert "No changes since you last looked" in again
    assert watch(alice_client, ORDER) == 302

    sim_change(fno, ORDER, ConfirmedShippingDate="2026-12-19")
    watcher_pass()  # the watcher sees the second date: it joins the history
    sim_change(fno, ORDER, ConfirmedShippingDate="2026-12-23")

    token = api_token_create(user=alice, name="phone")[1]
    body = Client().get(f"/api/v1/orders/usmf/{ORDER}", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["changes_since_last_view"] == [
        {"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-23"}]
    assert [p["date"] for p in body["promise_history"]["confirmed_ship_date"]] == [
        "2026-12-12", "2026-12-19", "2026-12-23"]
    page = _text(alice_client.get(url))
    assert "No changes since you last looked" in page  # the API view was the last look
    assert PromiseDate.objects.filter(number=ORDER, kind="ship").count() == 3

    assert bob_client.get(url).status_code == 404
    assert watch(bob_client, ORDER) == 404
    bob_token = api_token_create(user=bob, name="tablet")[1]
    api = Client()
    assert api.get(f"/api/v1/orders/usmf/{ORDER}", HTTP_AUTHORIZATION=f"Bearer {bob_token}").status_code == 404
    assert api.post(f"/api/v1/orders/usmf/{ORDER}/watch", HTTP_AUTHORIZATION=f"Bearer {bob_token}").status_code == 404
    assert not Watch.objects.filter(user=bob).exists()
