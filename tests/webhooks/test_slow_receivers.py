"""A slow receiver does not hold up the watcher: sends run side by side (one per endpoint at a time), an endpoint that
used up its share of a pass waits for the next, and no send starts once the pass's budget is spent. The tests assert
what was sent and in which order, never how long it took; the receivers' pauses only need to be longer than the
budgets the tests set."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from webhooks.delivery import deliveries_send_due
from webhooks.models import WebhookDelivery

from .conftest import change_event, endpoint_for

pytestmark = pytest.mark.django_db

WAIT_AT_MOST = 5.0  # a gate that is never opened ends the receiver's wait here (and the test fails on its order)


@dataclass
class Receivers:
    """One server; the first path segment names the receiver. `/slow...` waits `pause` seconds, or until `gate` opens
    when `pause` is None; every other path answers at once. `log` keeps what happened, in order."""

    port: int = 0
    pause: float | None = None
    gate: threading.Event = field(default_factory=threading.Event)
    open_gate_after_fast: int = 0
    log: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def got(self, name: str) -> int:
        return sum(1 for line in self.log if line == f"{name} end")

    def note(self, line: str) -> None:
        with self.lock:
            self.log.append(line)
            fast = sum(1 for entry in self.log if entry.startswith("fast") and entry.endswith("end"))
            if self.open_gate_after_fast and fast >= self.open_gate_after_fast:
                self.gate.set()


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    state = Receivers()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            name = self.path.strip("/")
            if name.startswith("slow"):
                state.note(f"{name} start")
                if state.pause is None:
                    state.gate.wait(WAIT_AT_MOST)
                else:
                    threading.Event().wait(state.pause)
            state.note(f"{name} end")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.gate.set()
    server.shutdown()
    server.server_close()


def _slow_first(slow_endpoint: Any) -> None:
    """The slow endpoint's deliveries are due a moment before the others: a sender that waited for each send in turn
    would be stuck on it first."""
    for delivery in WebhookDelivery.objects.filter(endpoint=slow_endpoint):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=delivery.next_attempt_at - timedelta(seconds=1))


def test_other_endpoints_are_sent_to_while_a_slow_one_is_answering(alice, receivers, allow_private,
                                                                   settings) -> None:
    settings.WEBHOOKS_SENDERS = 2
    slow, _ = endpoint_for(alice, receivers.url("slow"))
    endpoint_for(alice, receivers.url("fast"))
    for number in ("001001", "001002", "001003"):
        change_event(alice, number=number)
    _slow_first(slow)
    receivers.open_gate_after_fast = 3  # the slow receiver answers only once the fast one has had all three

    assert deliveries_send_due(timezone.now()) == 6

    # Everything the fast receiver got, it got while the slow one still held its first delivery.
    before_slow_answered = receivers.log[:receivers.log.index("slow end")]
    assert sorted(before_slow_answered) == ["fast end", "fast end", "fast end", "slow start"]
    assert receivers.got("slow") == 3  # one at a time: the next started only after the first answered
    assert [line for line in receivers.log if line.startswith("slow")] == ["slow start", "slow end"] * 3


def test_an_endpoint_that_used_up_its_share_of_the_pass_waits_for_the_next(alice, receivers, allow_private,
                                                                           settings) -> None:
    # A share the fast receiver's three answers stay well within, and the slow one's first answer alone outlasts.
    settings.WEBHOOKS_ENDPOINT_PASS_SECONDS = 1.0
    receivers.pause = 1.5
    slow, _ = endpoint_for(alice, receivers.url("slow"))
    endpoint_for(alice, receivers.url("fast"))
    for number in ("001001", "001002", "001003"):
        change_event(alice, number=number)
    _slow_first(slow)

    assert deliveries_send_due(timezone.now()) == 4

    assert (receivers.got("slow"), receivers.got("fast")) == (1, 3)
    left = WebhookDelivery.objects.filter(endpoint=slow, status="pending")
    assert left.count() == 2
    assert {d.attempts for d in left} == {0}  # not tried and failed: not tried, and due as before

    assert deliveries_send_due(timezone.now()) == 1  # the next pass: its share again, one more answer
    assert receivers.got("slow") == 2


def test_no_send_starts_once_the_pass_budget_is_spent(alice, receivers, allow_private, settings) -> None:
    settings.WEBHOOKS_SENDERS = 1
    settings.WEBHOOKS_PASS_SECONDS = 0.3
    receivers.pause = 0.6  # the first answer alone outlasts the pass's budget
    for name in ("slow-1", "slow-2", "slow-3"):  # three endpoints: their own shares do not stop them
        endpoint_for(alice, receivers.url(name))
    change_event(alice)

    assert deliveries_send_due(timezone.now()) == 1

    assert sum(receivers.got(name) for name in ("slow-1", "slow-2", "slow-3")) == 1
    assert WebhookDelivery.objects.filter(status="pending", attempts=0).count() == 2

    settings.WEBHOOKS_PASS_SECONDS = 30
    assert deliveries_send_due(timezone.now()) == 2  # the next pass sends the rest


def test_a_failing_endpoint_is_tried_once_a_pass_even_with_many_due(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    for number in ("001001", "001002", "001003"):
        change_event(alice, number=number)
    receiver.answers = [500, 500, 500]

    assert deliveries_send_due(timezone.now()) == 0

    assert len(receiver.received) == 1
    assert sorted(WebhookDelivery.objects.values_list("attempts", flat=True)) == [0, 0, 1]
