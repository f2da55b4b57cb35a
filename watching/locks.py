"""One watcher at a time where the database cannot share the work.

On PostgreSQL several watchers run side by side: each claims its rows with SELECT ... FOR UPDATE SKIP LOCKED. SQLite
has neither, so there a pass (reads and senders) runs under a single-runner lock: an advisory file lock next to the
database file (fcntl.flock, released by the kernel if the process dies); a second watcher finds it held and skips its
pass. An in-memory database (the tests') is this process's alone, so a lock in the process does.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection


def claims_with_skip_locked() -> bool:
    """True when the database can hand out rows to concurrent watchers (PostgreSQL)."""
    return bool(connection.features.has_select_for_update_skip_locked)


# pg_advisory_xact_lock's key for the claim of due watched orders (any constant of our own; "WTCH").
_CLAIM_LOCK_KEY = 0x57544348


def claim_turn() -> None:
    """Inside a claim's transaction: wait for other watchers' claims to commit first (PostgreSQL; released at
    commit). A claim takes a few milliseconds; without the turn, two claims at the same moment could each take part
    of one account's due orders, and read them in two F&O requests instead of one."""
    if claims_with_skip_locked():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CLAIM_LOCK_KEY])


_in_process = threading.Lock()


def _lock_path() -> Path | None:
    """The lock file beside the database file; None for an in-memory database, which no other process can see."""
    name = str(settings.DATABASES["default"].get("NAME") or "")
    if not name or name == ":memory:" or "mode=memory" in name:
        return None
    return Path(f"{name}.watch.lock")


@contextmanager
def single_runner() -> Iterator[bool]:
    """Yield True when this process may run a pass. On PostgreSQL always True (row claims share the work)."""
    if claims_with_skip_locked():
        yield True
        return
    path = _lock_path()
    if path is None:
        if not _in_process.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            _in_process.release()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
