"""Single-flight, shared back-off, the circuit breaker and the deadline, against the in-process fake."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.test import Client

from orders.accounts import AccountRef
from orders.exceptions import OrdersUnavailable
from orders.filters import OrderFilters
from orders.odata.client import Deadline
from orders.resilience import breaker
from orders.resilience.single_flight import FlightAbandoned, single_flight
from orders.selectors import order_get_for_customer, order_list_for_customer
from tests.factories import order_row
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db
ALICE = (AccountRef("usmf", "US-001"),)


class SlowFnO(FakeFnO):
    delay: float = 0.0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.delay)
        return super().__call__(request)


@pytest.fixture
def slow_fno(fake_fno):
    from orders import d365
    from orders.odata.auth import StaticTokenProvider

    fno = SlowFnO()
    fno.delay = 0.3
    d365.set_odata_client(d365.build_odata_client(transport=httpx.MockTransport(fno), tokens=StaticTokenProvider()))
    return fno


def _get_order(ref: str = "R"):
    return order_get_for_customer(accounts=ALICE, company="usmf", number="000123", request_id=ref)


def test_concurrent_requests_for_one_cold_order_make_one_f_and_o_read(slow_fno: SlowFnO) -> None:
    slow_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    with ThreadPoolExecutor(max_workers=20) as pool:
        lookups = list(pool.map(lambda i: _get_order(f"R{i}"), range(20)))
    headers = [r for r in slow_fno.requests if "SalesOrderHeadersV2" in r.url.path]
    assert len(headers) == 1
    assert {lookup.value.order.number for lookup in lookups} == {"000123"}


def test_single_flight_waiters_share_the_leaders_failure(slow_fno: SlowFnO) -> None:
    slow_fno.script = [FakeFnO.respond(500)] * 50
    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = [pool.submit(_get_order) for _ in range(10)]
    errors = [f.exception() for f in futures]
    assert all(isinstance(e, OrdersUnavailable) for e in errors)
    assert len([r for r in slow_fno.requests if "SalesOrderHeadersV2" in r.url.path]) == 1


def test_waiting_for_a_leader_counts_against_the_deadline() -> None:
    started = threading.Event()
    release = threading.Event()

    def leader_fetch():
        started.set()
        release.wait(5)
        return "value"

    leader = threading.Thread(target=lambda: single_flight("k", leader_fetch, deadline=Deadline(5),
                                                          landed=lambda found: None))
    leader.start()
    assert started.wait(10)
    with pytest.raises(FlightAbandoned):
        single_flight("k", lambda: "mine", deadline=Deadline(0.3), landed=lambda found: None)
    assert leader.is_alive()  # gave up while the leader was still reading: the deadline, not the leader, ended it
    release.set()
    leader.join()


def test_a_crashed_lock_holder_blocks_only_until_its_lock_expires() -> None:
    from django.core.cache import cache

    cache.set("sf:k2", "dead-holder", timeout=1)  # a holder that died without releasing
    lock_when_fetching = []

    def fetch() -> str:
        lock_when_fetching.append(cache.get("sf:k2"))
        return "fresh"

    # Not FlightAbandoned: it did not wait out its deadline, only the dead holder's lock.
    value = single_flight("k2", fetch, deadline=Deadline(30), landed=lambda found: None)
    assert value == "fresh"
    assert len(lock_when_fetching) == 1
    assert lock_when_fetching[0] not in (None, "dead-holder")  # it read once the lock had expired and was its own


def test_the_lock_is_let_go_when_reading_what_landed_fails() -> None:
    from django.core.cache import cache

    def unreadable(found: object) -> None:
        raise ValueError("a copy this release cannot read")

    with pytest.raises(ValueError, match="cannot read"):
        single_flight("k3", lambda: "fresh", deadline=Deadline(5), landed=unreadable, landed_keys=("copy:k3",))
    assert cache.get("sf:k3") is None


def test_a_shared_cache_that_does_not_answer_leaves_the_read_to_this_process_rather_than_a_wait(monkeypatch) -> None:
    from orders.resilience import shared_cache
    from orders.resilience import single_flight as flights
    from tests.fakes import CacheDown

    monkeypatch.setattr(flights, "cache", CacheDown())
    monkeypatch.setattr(shared_cache, "cache", CacheDown())
    reads: list[str] = []
    value = single_flight("k4", lambda: reads.append("read") or "fresh", deadline=Deadline(2),
                          landed=lambda found: None, landed_keys=("copy:k4",), store=lambda r: ("copy:k4", r, 30))
    assert (value, reads) == ("fresh", ["read"])  # not FlightAbandoned at the deadline


def test_a_leader_whose_lock_ran_out_leaves_the_next_holders_lock_alone() -> None:
    from django.core.cache import cache

    def slow_fetch() -> str:
        cache.set("sf:k5", "the-next-holder", timeout=30)  # ours expired while we read, and another took it
        return "fresh"

    stored = single_flight("k5", slow_fetch, deadline=Deadline(5), landed=lambda found: None,
                           landed_keys=("copy:k5",), store=lambda r: ("copy:k5", r, 30))
    assert stored == "fresh"
    assert cache.get("copy:k5") == "fresh"
    assert cache.get("sf:k5") == "the-next-holder"
    def slow_fetch_storing_nothing() -> str:
        cache.set("sf:k6", "next", timeout=30)
        return "v"

    # And on the path that stores nothing.
    assert single_flight("k6", slow_fetch_storing_nothing, deadline=Deadline(5), landed=lambda found: None) == "v"
    assert cache.get("sf:k6") == "next"


def test_a_429_pauses_every_caller_for_retry_after(fake_fno: FakeFnO, settings) -> None:
    settings.D365_DOCUMENTS_IN_PARALLEL = False  # which call meets the scripted 429 must not depend on thread timing
    # The order exists, so whichever of the lookup's parallel calls meets the 429, the lookup is throttled.
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.script = [FakeFnO.respond(429, headers={"Retry-After": "30"})]
    with pytest.raises(OrdersUnavailable) as first:
        _get_order()
    # The header's own 429, or (the documents are read in parallel) the back-off it just started: 30 s either way,
    # less what a loaded machine took since (never as little as the 10 s default).
    assert 20 < first.value.retry_after <= 30
    calls = len(fake_fno.requests)
    began = time.monotonic()
    with pytest.raises(OrdersUnavailable) as second:
        order_list_for_customer(accounts=ALICE, filters=OrderFilters(q="other"), request_id="R2")
    assert time.monotonic() - began < 10  # answered at once: it did not sit out the 30 s back-off
    assert second.value.kind == "throttled"
    assert 20 < second.value.retry_after <= 30
    assert len(fake_fno.requests) == calls  # F&O was not called again
    assert breaker.breaker_state().backoff_for > 20


def test_during_back_off_a_stale_copy_is_served(fake_fno: FakeFnO, settings) -> None:
    settings.ORDERS_CACHE_SECONDS = 0
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    _get_order()
    fake_fno.script = [FakeFnO.respond(429, headers={"Retry-After": "20"})]
    assert _get_order().stale
    calls = len(fake_fno.requests)
    lookup = _get_order()
    assert lookup.stale
    assert lookup.problem.kind == "throttled"
    assert len(fake_fno.requests) == calls


def test_back_off_without_retry_after_uses_the_default(fake_fno: FakeFnO, settings) -> None:
    settings.D365_THROTTLE_DEFAULT_SECONDS = 70
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    fake_fno.script = [FakeFnO.respond(429)]
    with pytest.raises(OrdersUnavailable):
        _get_order()
    assert 60 < breaker.breaker_state().backoff_for <= 70


class _Clock:
    """The breaker's clock, moved forward by hand: a cool-down passes without the test sleeping through it."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(breaker, "time", fake)
    return fake


def _wait_until(condition, seconds: float = 30.0) -> bool:
    """Poll `condition` until it holds; False after `seconds` (only a broken rule takes that long)."""
    until = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > until:
            return False
        time.sleep(0.01)
    return True


def test_breaker_opens_after_repeated_failures_then_probes_once_and_closes(fake_fno, settings, clock) -> None:
    settings.D365_BREAKER_FAILURES = 3
    settings.D365_BREAKER_COOLDOWN_SECONDS = 30
    fake_fno.script = [FakeFnO.respond(500)] * 3
    for i in range(3):
        with pytest.raises(OrdersUnavailable):
            order_list_for_customer(accounts=ALICE, filters=OrderFilters(q=f"q{i}"), request_id="R")
    assert breaker.breaker_state().state == "open"
    calls = len(fake_fno.requests)
    with pytest.raises(OrdersUnavailable) as rejected:
        _get_order()
    assert 0 < rejected.value.retry_after <= 30
    assert len(fake_fno.requests) == calls  # turned away without a call (and without waiting for the cool-down)
    clock.ahead += 31
    assert breaker.breaker_state().state == "half_open"

    # Half-open: of many concurrent callers, exactly one reaches F&O.
    gate = threading.Event()

    def slow_ok(request: httpx.Request) -> httpx.Response:
        gate.wait(2)
        return httpx.Response(200, json={"value": []})

    fake_fno.script = [slow_ok]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(order_list_for_customer, accounts=ALICE, filters=OrderFilters(q=f"p{i}"),
                               request_id="R") for i in range(8)]
        # The probe is held at F&O while the seven others are turned away.
        probing = _wait_until(lambda: len(fake_fno.requests) == calls + 1 and sum(f.done() for f in futures) == 7)
        gate.set()
    assert probing
    outcomes = [f.exception() for f in futures]
    assert len(fake_fno.requests) == calls + 1
    assert sum(e is None for e in outcomes) == 1
    assert breaker.breaker_state().state == "closed"


def test_a_failed_probe_reopens_the_breaker(fake_fno, settings, clock) -> None:
    settings.D365_DOCUMENTS_IN_PARALLEL = False
    settings.D365_BREAKER_FAILURES = 1
    settings.D365_BREAKER_COOLDOWN_SECONDS = 30
    fake_fno.script = [FakeFnO.respond(500)] * 2
    with pytest.raises(OrdersUnavailable):
        _get_order()
    clock.ahead += 31
    assert breaker.breaker_state().state == "half_open"
    with pytest.raises(OrdersUnavailable):
        _get_order()  # the probe, which fails
    assert breaker.breaker_state().state == "open"


def test_breaker_ignores_what_is_not_an_outage(fake_fno, settings) -> None:
    settings.D365_DOCUMENTS_IN_PARALLEL = False
    settings.D365_BREAKER_FAILURES = 1
    fake_fno.script = [FakeFnO.respond(400, {"error": {"code": "", "message": "bad"}})]
    with pytest.raises(OrdersUnavailable):
        _get_order()
    assert breaker.breaker_state().state == "closed"


@pytest.mark.integration
def test_a_hung_f_and_o_costs_one_budget_even_with_parallel_reads(live_fno, settings) -> None:
    from orders import d365
    from orders.odata.auth import StaticTokenProvider

    budget = settings.D365_TIMEOUT_SECONDS = 2.0
    d365.set_odata_client(d365.build_odata_client(tokens=StaticTokenProvider()))
    live_fno.set_faults(hang=True)
    began = time.monotonic()
    with pytest.raises(OrdersUnavailable) as caught:
        order_get_for_customer(accounts=ALICE, company="usmf", number="001001", request_id="R")
    # Under two budgets: a second one is what the rule forbids, and a whole budget of slack is what a loaded
    # 2-core machine needs (the tight figures are `make bench`'s).
    assert time.monotonic() - began < 2 * budget
    assert caught.value.kind == "timeout"
    sent = [r["entity_set"] for r in live_fno.requests()]
    assert "SalesOrderHeadersV2" in sent
    assert len(sent) == len(set(sent))  # each read sent once, side by side: none retried after the budget ran out


@pytest.mark.integration
def test_a_lookup_never_waits_longer_than_the_budget(live_fno, settings) -> None:
    from orders import d365
    from orders.odata.auth import StaticTokenProvider

    budget = settings.D365_TIMEOUT_SECONDS = 0.6
    settings.D365_DOCUMENTS_IN_PARALLEL = False  # two round trips: each fits the budget, together they do not
    d365.set_odata_client(d365.build_odata_client(tokens=StaticTokenProvider()))
    live_fno.set_faults(latency=0.4)
    began = time.monotonic()
    # The timeout is the proof: had the second round trip been given a budget of its own, the lookup would succeed.
    with pytest.raises(OrdersUnavailable) as caught:
        order_get_for_customer(accounts=ALICE, company="usmf", number="001001", request_id="R")
    assert caught.value.kind == "timeout"
    assert time.monotonic() - began < 10 * budget  # and no hang


def test_no_retry_when_too_little_time_remains(fake_fno, settings) -> None:
    settings.D365_TIMEOUT_SECONDS = 0.15
    settings.D365_DOCUMENTS_IN_PARALLEL = False

    def slow_503(request):
        time.sleep(0.05)
        return httpx.Response(503)

    fake_fno.script = [slow_503, slow_503]
    with pytest.raises(OrdersUnavailable):
        _get_order()
    assert len(fake_fno.requests) == 1


def test_web_page_during_an_open_breaker_is_an_honest_503(alice_client: Client, fake_fno, settings) -> None:
    settings.D365_BREAKER_FAILURES = 1
    fake_fno.script = [FakeFnO.respond(500)]
    alice_client.get("/orders/")
    response = alice_client.get("/orders/usmf/000123/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
