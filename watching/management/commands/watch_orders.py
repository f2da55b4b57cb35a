"""python manage.py watch_orders [--once]: the watcher, a process of its own beside the portal."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from watching.models import WatchedOrder
from watching.watcher import watch_pass

IDLE_MAX_SECONDS = 30.0  # new watches, queued e-mails and webhook retries are looked at least this often
IDLE_MIN_SECONDS = 1.0


class Command(BaseCommand):
    help = "Re-read watched orders from F&O when due, notify their watchers of changes, send what is owed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one pass and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        # cachalot off: with the local-memory cache this process would never hear of the portal's writes (a new
        # account link, a deactivated user) and would answer from its own stale copies.
        from cachalot.api import cachalot_disabled

        with cachalot_disabled():
            if options["once"]:
                self._report(watch_pass())
                return
            self._loop()

    def _report(self, result: Any) -> None:
        if not result.ran:
            self.stdout.write("another watcher is running; nothing done")
            return
        self.stdout.write(
            f"claimed {result.claimed}, read {result.read}, changes {result.events}"
            + (f", stopped: {result.stopped}" if result.stopped else "")
            + "".join(f", {name} sent {count}" for name, count in result.sent.items())
        )

    def _loop(self) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            close_old_connections()
            result = watch_pass()
            if result.claimed or result.events or any(result.sent.values()):
                self._report(result)
            stop.wait(_idle_seconds())
        self.stdout.write("watcher stopped")


def _idle_seconds() -> float:
    """Until the next order is due, within bounds."""
    soonest = WatchedOrder.objects.order_by("next_check_at").values_list("next_check_at", flat=True).first()
    if soonest is None:
        return IDLE_MAX_SECONDS
    wait = (soonest - timezone.now()) / timedelta(seconds=1)
    return min(IDLE_MAX_SECONDS, max(IDLE_MIN_SECONDS, wait))
