"""The outbox's two registries, filled by each channel's AppConfig.ready().

- on_change(fn): fn(event) runs for every ChangeEvent the watcher creates, inside the transaction that creates it,
  and queues that channel's delivery rows. A crash after detection loses nothing: the event and its deliveries
  commit together or not at all.
- sender(name, fn): fn(now) -> how many sent, runs once per watcher pass after the reads. Senders claim their due
  rows with select_for_update(skip_locked=True) on PostgreSQL and a lease (next_attempt_at = now + lease); on SQLite
  the whole pass, senders included, runs inside watching.locks.single_runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watching.models import ChangeEvent

logger = logging.getLogger(__name__)

ChangeHook = Callable[["ChangeEvent"], None]
Sender = Callable[[datetime], int]

_hooks: list[ChangeHook] = []
_senders: dict[str, Sender] = {}


def on_change(fn: ChangeHook) -> ChangeHook:
    """Register a fan-out hook (idempotent: registering the same function twice keeps one)."""
    if fn not in _hooks:
        _hooks.append(fn)
    return fn


def sender(name: str, fn: Sender) -> Sender:
    """Register (or replace) the sender called `name`."""
    _senders[name] = fn
    return fn


def change_hooks() -> tuple[ChangeHook, ...]:
    return tuple(_hooks)


def senders() -> dict[str, Sender]:
    return dict(_senders)


def event_fan_out(event: ChangeEvent) -> None:
    """Run every hook for a new event. The caller holds the transaction: a failing hook rolls the event back."""
    for hook in _hooks:
        hook(event)


def senders_run(now: datetime) -> dict[str, int]:
    """Call every sender once. One failing channel must not starve the others: it is logged, and counted as 0."""
    sent: dict[str, int] = {}
    for name, fn in _senders.items():
        try:
            sent[name] = fn(now)
        except Exception:
            logger.exception("watch sender failed", extra={"sender": name})
            sent[name] = 0
    return sent
