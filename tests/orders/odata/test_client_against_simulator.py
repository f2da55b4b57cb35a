"""The OData client against the simulator over a real socket, with every fault switched on in turn."""

from __future__ import annotations

import time
import uuid

import pytest

from orders.odata.auth import MsalTokenProvider, StaticTokenProvider
from orders.odata.client import Deadline, ODataClient, build_http_client
from orders.odata.errors import (
    AuthenticationFailed,
    EntityNotFound,
    MalformedResponse,
    ServerError,
    Throttled,
    TransportFailed,
)
from orders.odata.query import Query, eq
from simulator.server import Simulator
from tests.fakes import AUTHORITY, FakeIdentityProvider

pytestmark = pytest.mark.integration

TIMEOUT = 1.0
EVIL = "x' or OrderingCustomerAccountNumber ne 'y"


def _client(sim: Simulator, tokens=None) -> ODataClient:
    return ODataClient(
        service_root=sim.url + "/data/",
        http=build_http_client(connect_timeout=TIMEOUT, read_timeout=TIMEOUT),
        tokens=tokens or StaticTokenProvider(""),
    )


def _orders(account: str = "US-001") -> Query:
    return (
        Query("SalesOrderHeadersV2")
        .where(eq("dataAreaId", "usmf") & eq("OrderingCustomerAccountNumber", account))
        .selecting("SalesOrderNumber", "SalesOrderStatus")
    )


def _timed_read(client: ODataClient):
    started = time.monotonic()
    try:
        client.get_page(_orders(), deadline=Deadline(TIMEOUT), request_id="REFSIM")
    finally:
        elapsed = time.monotonic() - started
        # Only catches a hang: the typed error proves the deadline (without it a slow body trickles in, late but whole).
        assert elapsed < TIMEOUT * 10, f"took {elapsed:.2f}s"


def test_reads_real_rows(simulator: Simulator) -> None:
    page = _client(simulator).get_page(_orders(), deadline=Deadline(5), request_id="REF1")
    assert page.rows
    assert {r["SalesOrderStatus"] for r in page.rows} <= {"None", "Backorder", "Delivered", "Invoiced", "Canceled"}
    # F&O gets a GUID of its own for the exchange, not the portal's reference code.
    sent = simulator.requests()[-1]["request_id"]
    assert str(uuid.UUID(sent)) == sent


def test_injected_order_number_is_one_escaped_literal_that_matches_nothing(simulator: Simulator) -> None:
    client = _client(simulator)
    page = client.get_page(_orders().where(eq("SalesOrderNumber", EVIL)), deadline=Deadline(5), request_id="R")
    assert page.rows == []
    sent = simulator.requests()[-1]["params"]["$filter"]
    assert sent.endswith(" and SalesOrderNumber eq 'x'' or OrderingCustomerAccountNumber ne ''y'")
    key = Query("SalesOrderHeadersV2").by_key(dataAreaId="usmf", SalesOrderNumber=EVIL)
    with pytest.raises(EntityNotFound):
        client.get_one(key, deadline=Deadline(5), request_id="R")


def test_next_links_from_the_simulator_are_followed() -> None:
    sim = Simulator(port=0, page_size=7).start()
    try:
        rows = _client(sim).get_all(_orders(), deadline=Deadline(5), request_id="R")
        assert len(rows) > 7
        assert len({r["SalesOrderNumber"] for r in rows}) == len(rows)
        assert len(sim.requests()) == -(-len(rows) // 7)
    finally:
        sim.stop()


@pytest.mark.parametrize(
    ("switches", "error", "timed_out"),
    [
        ({"latency": TIMEOUT * 2}, TransportFailed, True),
        ({"hang": True}, TransportFailed, True),
        ({"slow_body": 0.3}, TransportFailed, True),
        ({"reset": True}, TransportFailed, False),
        ({"truncate": True}, TransportFailed, False),
        ({"status": 500}, ServerError, None),
        ({"status": 503}, ServerError, None),
        ({"error_rate": 1.0}, ServerError, None),
        ({"status": 429, "retry_after": "30"}, Throttled, None),
        ({"status": 401}, AuthenticationFailed, None),
        ({"status": 403}, AuthenticationFailed, None),
        ({"malformed": True}, MalformedResponse, None),
    ],
)
def test_each_fault_is_a_typed_error_within_the_timeout(simulator, switches, error, timed_out) -> None:
    simulator.set_faults(**switches)
    client = _client(simulator)
    with pytest.raises(error) as caught:
        _timed_read(client)
    if timed_out is not None:
        assert caught.value.timed_out is timed_out
    if error is Throttled:
        assert caught.value.retry_after == 30
        assert len(simulator.requests()) == 1  # never retried inside a request
    simulator.clear_faults()
    assert client.get_page(_orders(), deadline=Deadline(5), request_id="R").rows  # recovery


def test_throttle_with_an_http_date_retry_after(simulator: Simulator) -> None:
    from email.utils import formatdate

    simulator.set_faults(status=429, retry_after=formatdate(time.time() + 45, usegmt=True))
    with pytest.raises(Throttled) as caught:
        _timed_read(_client(simulator))
    assert 40 <= caught.value.retry_after <= 46


def test_401_then_recovery_with_msal(simulator: Simulator) -> None:
    idp = FakeIdentityProvider()
    tokens = MsalTokenProvider(
        client_id="c", authority=AUTHORITY, scope="http://sim/.default", client_secret="x",
        http_client=idp.http_client(), instance_discovery=False,
    )
    client = _client(simulator, tokens=tokens)
    client.get_page(_orders(), deadline=Deadline(5), request_id="R")
    simulator.set_faults(status=401, count=1)
    client.get_page(_orders(), deadline=Deadline(5), request_id="R")
    assert idp.token_requests == 2
    assert len(simulator.requests()) == 3
