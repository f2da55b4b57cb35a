from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from simulator.server import Simulator


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[Simulator]:
    sim = Simulator(port=0).start()
    yield sim
    sim.stop()


@pytest.fixture
def simulator(simulator_server: Simulator) -> Iterator[Simulator]:
    """The session's simulator on a real port, with no faults and an empty request log."""
    simulator_server.clear_faults()
    simulator_server.reset_log()
    yield simulator_server
    simulator_server.clear_faults()
