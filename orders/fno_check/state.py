"""One run of the check: the lines it has written so far, and its time budget."""

from __future__ import annotations

import time

import httpx
from django.conf import settings

from orders.fno_check.edmx import ServiceModel
from orders.fno_check.report import CheckLine, Outcome, TokenClaims
from orders.fno_reads import EntityRead
from orders.odata.auth import TokenProvider
from orders.odata.client import Deadline, HttpPool, ODataClient


class CheckRun:
    def __init__(self, *, budget_seconds: float | None, tokens: TokenProvider | None,
                 transport: httpx.BaseTransport | None, request_id: str) -> None:
        self.lines: list[CheckLine] = []
        self.claims: TokenClaims | None = None
        self.companies: tuple[str, ...] = ()
        self.request_id = request_id
        self.budget = Deadline(budget_seconds) if budget_seconds else None
        self.tokens = tokens
        self.transport = transport
        self.model: ServiceModel | None = None
        self.client: ODataClient | None = None
        self.http: HttpPool | None = None

    def add(self, section: str, subject: str, outcome: Outcome, detail: str, *, setting: str = "",
            latency_ms: int | None = None) -> None:
        self.lines.append(CheckLine(section, subject, outcome, detail, setting, latency_ms))

    def deadline(self) -> Deadline:
        seconds = settings.D365_TIMEOUT_SECONDS
        if self.budget is not None:
            seconds = min(seconds, self.budget.remaining())
        return Deadline(max(0.0, seconds))

    def out_of_time(self) -> bool:
        return self.budget is not None and self.budget.remaining() < 0.1

    def skip(self, section: str, subject: str, why: str) -> None:
        self.add(section, subject, Outcome.SKIPPED, why)

    def present(self, read: EntityRead) -> tuple[str, ...]:
        """The fields to select: all the portal's, less those $metadata already reported missing (the read then
        still tests access and latency)."""
        entity = self.model.entity_type(read.entity_set) if self.model else None
        if entity is None:
            return read.fields
        return tuple(f for f in read.fields if f in entity.properties)


def ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
