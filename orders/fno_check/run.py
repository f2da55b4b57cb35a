"""`fno_check_run()`: every step in order, each bounded by D365_TIMEOUT_SECONDS and the whole by a budget."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orders import d365
from orders.fno_check.access import accounts_step, companies_step, read_step
from orders.fno_check.metadata import metadata_step
from orders.fno_check.report import FnoCheckReport, Outcome
from orders.fno_check.state import CheckRun, ms
from orders.fno_check.token import token_step
from orders.fno_reads import portal_reads
from orders.odata.auth import TokenProvider
from orders.odata.client import ODataClient, build_http_client

logger = logging.getLogger("orders.fno_check")

# F&O's full $metadata is several MB (reference §1); the portal's 8 MB cap for data pages does not fit it.
METADATA_MAX_BYTES = 64 * 1024 * 1024


def _steps(run: CheckRun) -> None:
    if not settings.D365_URL:
        run.add("config", "D365_URL", Outcome.FAIL, "D365_URL is not set: there is no F&O environment to check",
                setting="D365_URL")
        return
    try:
        tokens = run.tokens or d365.get_odata_client().tokens
    except ImproperlyConfigured as exc:
        run.add("config", "settings", Outcome.FAIL, str(exc))
        return
    if not token_step(run, tokens):
        run.skip("metadata", "$metadata", "no token")
        return
    run.http = build_http_client(
        connect_timeout=settings.D365_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.D365_TIMEOUT_SECONDS,
        user_agent=f"fno-order-portal/{settings.VERSION} fno_check",
        transport=run.transport,
        url=settings.D365_URL,
    )
    try:
        run.client = ODataClient(service_root=settings.D365_URL + "/data/", http=run.http, tokens=tokens,
                                  max_pages=1, max_response_bytes=METADATA_MAX_BYTES)
        metadata_step(run)
        reads = portal_reads()
        for read in reads:
            read_step(run, read)
        customers = next(r for r in reads if r.setting == "D365_ENTITY_CUSTOMERS")
        companies_step(run, customers)
        accounts_step(run, customers)
    finally:
        run.http.close()


def fno_check_run(
    *,
    budget_seconds: float | None = None,
    request_id: str = "FNO-CHECK",
    tokens: TokenProvider | None = None,
    transport: httpx.BaseTransport | None = None,
) -> FnoCheckReport:
    """Run every check. `budget_seconds` bounds the whole run (the staff page); each call is also bounded by
    D365_TIMEOUT_SECONDS. Never raises for what F&O does: every failure is a line of the report."""
    started_at = datetime.now(UTC)
    started = time.monotonic()
    check = CheckRun(budget_seconds=budget_seconds, tokens=tokens, transport=transport, request_id=request_id)
    _steps(check)
    report = FnoCheckReport(
        started_at=started_at,
        elapsed_ms=ms(started),
        environment=settings.D365_URL,
        lines=tuple(check.lines),
        token=check.claims,
        companies=check.companies,
    )
    logger.info("fno_check.done", extra={"event": "fno_check", "ref": request_id, "ok": report.ok,
                                         "problems": len(report.problems), "elapsed_ms": report.elapsed_ms})
    return report
