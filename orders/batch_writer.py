"""Writes that a request need not wait for: queued in the process, written by a background thread in batches.

The audit (orders.audit) and the order history (orders.history) each have one. A writer's thread starts with the
first item (after gunicorn forked the worker), waits for a batch window after it (at most BATCH_SECONDS, or until
BATCH items are queued), writes them together and closes its database connection when it stops. When the process
exits normally, what is queued is written first, for at most EXIT_FLUSH_SECONDS. A hard crash (SIGKILL, out of
memory) loses what was still queued, normally the last second. An item that is never written (a failed
write, a full queue, an exit that ran out of time) is logged and counted by the writer; the writer carries on,
and a thread that died is started again by the next item. With AUDIT_WRITE_MODE=sync (tests) items are written at
once, on the caller's thread.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from typing import Generic, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection
from prometheus_client import Counter

Item = TypeVar("Item")

EXIT_FLUSH_SECONDS = 5.0  # well inside gunicorn's graceful_timeout
# Items written together, at the latest this long after the first. Each batch has a fixed cost (a transaction, a
# statement per table: ~1.5 ms of CPU measured here), so a longer window is cheaper at moderate load; a second is
# still sooner than anyone reads what a lookup left (support's replay, another process's "what changed").
BATCH, BATCH_SECONDS = 500, 1.0


class _Stop:
    pass


_STOP = _Stop()


class BatchWriter(Generic[Item]):
    """Subclasses say how a batch is written (`write`) and, in sync mode, which item writes what is pending
    (`completes`: by default every item)."""

    def __init__(self, *, name: str, event: str, lost: Counter, logger: logging.Logger) -> None:
        """`name`: the thread's; what is never written is counted in `lost` (by reason) and logged as
        `<event>.<reason>` on `logger`."""
        self.name = name
        self._event, self._lost_counter, self._logger = event, lost, logger
        self._queue: queue.Queue[Item | _Stop] = queue.Queue(maxsize=20_000)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending: list[Item] = []
        self._hurry = threading.Event()  # set by flush() and close(): write what is queued now
        atexit.register(self.close)

    def write(self, items: list[Item]) -> None:
        raise NotImplementedError

    def _lost(self, reason: str, count: int, exc: BaseException | None) -> None:
        self._lost_counter.labels(reason=reason).inc(count)
        self._logger.error("%s.%s", self._event, reason, extra={"records": count}, exc_info=exc)

    def completes(self, item: Item) -> bool:
        """In sync mode: whether `item` is written at once, with what is pending (else it waits for one that is)."""
        return True

    def put(self, item: Item) -> None:
        if settings.AUDIT_WRITE_MODE == "sync":
            with self._lock:
                self._pending.append(item)
            if self.completes(item):
                with self._lock:
                    items, self._pending = self._pending, []
                try:
                    self.write(items)
                except Exception as exc:
                    self._lost("write_failed", len(items), exc)  # never worth failing the request that wrote it
            return
        self._ensure_thread()
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._lost("queue_full", 1, None)  # keep serving

    def pending_forget(self) -> None:
        """Drop what sync mode holds back (tests start each case with nothing pending)."""
        with self._lock:
            self._pending.clear()

    def _write_pending(self) -> None:
        with self._lock:
            items, self._pending = self._pending, []
        if items:
            self.write(items)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                items = [self._queue.get()]
                # Then the rest of the batch window in one wait, not a wake-up for every item that arrives: under
                # load the thread wakes once a second instead of once per request.
                if items[-1] is not _STOP and self._queue.qsize() < BATCH - 1:
                    self._hurry.wait(BATCH_SECONDS)
                self._hurry.clear()
                while items[-1] is not _STOP and len(items) < BATCH:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                batch = [item for item in items if not isinstance(item, _Stop)]
                try:
                    close_old_connections()
                    if batch:
                        self.write(batch)
                except BaseException as exc:
                    self._lost("write_failed", len(batch), exc)
                    if not isinstance(exc, Exception):
                        raise  # this thread ends; the next item or flush starts another
                finally:
                    for _ in items:
                        self._queue.task_done()
                if items[-1] is _STOP:
                    return
        finally:
            connection.close()  # this thread's own connection

    def flush(self, timeout: float | None = None) -> bool:
        """Write everything queued so far; False if `timeout` seconds ran out first."""
        self._write_pending()
        until = None if timeout is None else time.monotonic() + timeout
        while True:
            self._hurry.set()
            with self._queue.all_tasks_done:
                if not self._queue.unfinished_tasks:
                    return True
                remaining = 0.5 if until is None else min(0.5, until - time.monotonic())
                if remaining <= 0:
                    return False
            self._ensure_thread()  # a writer thread that died leaves what is queued to a new one
            with self._queue.all_tasks_done:
                if self._queue.unfinished_tasks:
                    self._queue.all_tasks_done.wait(remaining)

    def close(self, timeout: float = EXIT_FLUSH_SECONDS) -> None:
        """At exit: write what is queued (for at most `timeout` seconds), then stop the thread, which closes its
        database connection. What could not be written in time is reported as lost."""
        if not self.flush(timeout):
            self._lost("exit", self._queue.unfinished_tasks, None)
            return  # the thread is still busy; the process is ending anyway
        thread = self._thread
        if thread is not None and thread.is_alive():
            try:
                self._queue.put_nowait(_STOP)
            except queue.Full:
                return  # items came in after the flush: the thread writes them while the process ends
            thread.join(timeout)
