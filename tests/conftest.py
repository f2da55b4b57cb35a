from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from orders import d365
from orders.odata.auth import StaticTokenProvider
from simulator.server import Simulator
from tests.factories import make_customer
from tests.fakes import FakeFnO


def _forget_everything() -> None:
    from orders import api_tokens, audit, cached_reads
    from orders.resilience import breaker
    from orders.views.health import readyz_forget

    audit._writer.pending_forget()
    breaker.state_forget()
    cache.clear()
    cached_reads.local_cache_clear()
    api_tokens.api_tokens_forget_local()
    readyz_forget()
    # A request through the middleware leaves its language active on this thread (as Django does); the next test
    # starts in the site's default, whichever test ran before it on this worker.
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    _forget_everything()
    yield
    _forget_everything()


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[Simulator]:
    sim = Simulator(port=0).start()
    yield sim
    sim.stop()


@pytest.fixture
def simulator(simulator_server: Simulator) -> Iterator[Simulator]:
    """The session's simulator on a real port, with no faults, an empty request log and its demo data as built
    (a test's run-time changes to orders do not reach the next test)."""
    simulator_server.clear_faults()
    simulator_server.reset_log()
    simulator_server.data_reset()
    yield simulator_server
    simulator_server.clear_faults()
    simulator_server.data_reset()


@pytest.fixture
def fake_fno() -> Iterator[FakeFnO]:
    """F&O in process, behind httpx.MockTransport."""
    import httpx

    fno = FakeFnO()
    d365.set_odata_client(d365.build_odata_client(transport=httpx.MockTransport(fno), tokens=StaticTokenProvider()))
    yield fno
    d365.set_odata_client(None)


@pytest.fixture
def live_fno(simulator: Simulator, settings) -> Iterator[Simulator]:
    """The portal talks to the simulator over a real socket."""
    settings.D365_URL = simulator.url
    settings.D365_TIMEOUT_SECONDS = 2.0
    d365.set_odata_client(d365.build_odata_client(tokens=StaticTokenProvider()))
    yield simulator
    d365.set_odata_client(None)


@pytest.fixture
def alice(db):
    return make_customer("alice@example.com", "usmf:US-001")


@pytest.fixture
def bob(db):
    return make_customer("bob@example.com", "usmf:US-002")


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` run in the services configuration only (`make test-services`). Elsewhere they are
    deselected, not skipped: the embedded run has no PostgreSQL to offer, and PORTAL_FORBID_SKIPS stays honest."""
    import os

    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    deselected = [item for item in items if item.get_closest_marker("postgres")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In `make test` (PORTAL_FORBID_SKIPS=1) a skipped test fails the run: CI must not pass on browser tests
    that never ran."""
    import os

    if os.environ.get("PORTAL_FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"{len(skipped)} test(s) were skipped; PORTAL_FORBID_SKIPS=1 makes that a failure.",
                            red=True)
        session.exitstatus = 1


# Generous: only a writer that hangs takes this long; a drained queue ends the wait at once.
DRAIN_SECONDS = 30.0


@pytest.fixture
def async_writers(settings) -> Iterator[tuple[Any, Any]]:
    """The background writers as production runs them (AUDIT_WRITE_MODE=async): a fresh audit writer and history
    writer, each started by its first item and stopped (its database connection closed) at the end."""
    from orders import audit, history

    settings.AUDIT_WRITE_MODE = "async"
    fresh = audit._Writer(), history._HistoryWriter()
    previous = audit._writer, history._writer
    audit._writer, history._writer = fresh
    yield fresh
    for writer in fresh:
        writer.close(timeout=DRAIN_SECONDS)
    audit._writer, history._writer = previous
