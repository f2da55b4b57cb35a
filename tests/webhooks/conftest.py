"""A real webhook receiver on a socket, a DNS the tests control, and change events as the watcher makes them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from orders.models import CustomerAccountLink
from watching.models import ChangeEvent, Watch, WatchedOrder
from webhooks import guard
from webhooks.models import WebhookEndpoint
from webhooks.services import endpoint_create

DATE_CHANGE = [{"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-19"}]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next status in `answers` (200 once they run out) and keeps what it got."""

    port: int = 0
    answers: list[int] = field(default_factory=list)
    trickle: float = 0.0  # seconds between the bytes of the answer's headers: a receiver that drips
    received: list[Received] = field(default_factory=list)

    def url(self, host: str = "127.0.0.1", path: str = "/hooks/orders") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                state.received.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
                status = state.answers.pop(0) if state.answers else 200
            if state.trickle:
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"." * 20:
                    time.sleep(state.trickle)
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
                return
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"http://127.0.0.1:{state.port}/redirected")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class FakeDns:
    """Host name -> addresses; a name it does not know does not resolve."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"unknown host {host}")
        return list(self.answers[host])


@pytest.fixture
def dns() -> Iterator[FakeDns]:
    fake = FakeDns()
    guard.set_resolver(fake)
    yield fake
    guard.set_resolver(None)


@pytest.fixture
def allow_private(settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = True


def watch_for(user: Any, *, number: str = "001001", company: str = "usmf") -> Watch:
    """The user's watch of an order of the account they are linked to, as watching an order makes it."""
    account = CustomerAccountLink.objects.filter(user=user, company=company).values_list("account", flat=True).first()
    order, _ = WatchedOrder.objects.get_or_create(company=company, number=number, defaults={
        "account": account or "US-001", "state": {}, "next_check_at": timezone.now() + timedelta(hours=1)})
    return Watch.objects.get_or_create(user=user, order=order)[0]


def change_event(user: Any, *, at: datetime | None = None, number: str = "001001") -> ChangeEvent:
    """A change event of an order the user watches, with its deliveries queued, as the watcher does it: fan-out in
    the event's transaction."""
    from django.db import transaction

    from watching.outbox import event_fan_out

    with transaction.atomic():
        watch_for(user, number=number)
        event = ChangeEvent.objects.create(user=user, company="usmf", number=number, changes=DATE_CHANGE,
                                           occurred_at=at or timezone.now())
        event_fan_out(event)
    return event


def endpoint_for(user: Any, url: str) -> tuple[WebhookEndpoint, str]:
    return endpoint_create(user_id=user.pk, url=url)
