"""The state of the link to F&O, as the health pages show it: the circuit breaker and back-off, this process's
access token (never the token itself), and one cheap read behind `/readyz?deep=1`."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orders import d365
from orders.odata.auth import TokenStatus
from orders.odata.client import Deadline
from orders.odata.errors import ODataError, TransportFailed
from orders.odata.query import Query
from orders.resilience.breaker import BreakerState, breaker_state


@dataclass(frozen=True)
class LinkState:
    breaker: BreakerState
    token_kind: str  # "msal", or "none" when no token is sent (the simulator)
    token: TokenStatus


def fno_link_state() -> LinkState:
    kind, token = d365.token_status()
    return LinkState(breaker=breaker_state(), token_kind=kind, token=token)


def fno_breaker_state() -> BreakerState:
    return breaker_state()


@dataclass(frozen=True)
class FnoProbe:
    state: str  # "ok", "timeout" or "fail: <error>"
    latency_ms: int


def fno_probe(*, timeout: float, request_id: str = "READYZ") -> FnoProbe:
    """One cheap read through the portal's own client (breaker included): what a customer's lookup would meet."""
    started = time.monotonic()
    try:
        query = Query(settings.D365_ENTITY_SALES_ORDERS).selecting("dataAreaId").page(top=1)
        d365.get_odata_client().get_page(query, deadline=Deadline(timeout), request_id=request_id)
    except TransportFailed as exc:
        return FnoProbe("timeout" if exc.timed_out else f"fail: {type(exc).__name__}", _ms(started))
    except (ODataError, ImproperlyConfigured) as exc:
        return FnoProbe(f"fail: {type(exc).__name__}", _ms(started))
    return FnoProbe("ok", _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
