"""Two portal instances (gunicorn, production settings) on one Redis: they share copies, locks and back-off."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from simulator.server import Simulator
from tests.processes import manage, portal_processes, production_env

pytestmark = pytest.mark.integration


@pytest.fixture
def instances(tmp_path, simulator: Simulator):
    env = production_env(tmp_path, simulator.url)
    manage(env, "migrate", "--noinput")
    manage(env, "add_customer_user", "--email", "multi@example.com", "--account", "usmf:US-001",
           "--account", "usmf:US-002")
    token = manage(env, "create_api_token", "--email", "multi@example.com").strip()
    with portal_processes(2, env) as urls:
        yield urls, token


def _get(url: str, token: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_herd_across_two_instances_makes_one_f_and_o_read(instances, simulator: Simulator) -> None:
    (first, second), token = instances
    simulator.set_faults(latency=0.5)
    simulator.reset_log()
    urls = [f"{(first, second)[i % 2]}/api/v1/orders/usmf/001001" for i in range(40)]
    with ThreadPoolExecutor(max_workers=40) as pool:
        responses = list(pool.map(lambda u: _get(u, token), urls))
    assert {r.status_code for r in responses} == {200}
    headers = [r for r in simulator.requests() if r["entity_set"] == "SalesOrderHeadersV2"]
    assert len(headers) == 1
    assert len({r.json()["as_of"] for r in responses}) == 1


def test_a_back_off_started_in_one_instance_holds_in_the_other(instances, simulator: Simulator) -> None:
    (first, second), token = instances
    simulator.set_faults(status=429, retry_after="30", count=1)
    throttled = _get(f"{first}/api/v1/orders/usmf/001002", token)
    assert throttled.status_code == 503
    simulator.reset_log()
    other = _get(f"{second}/api/v1/orders?q=anything", token)
    assert other.status_code == 503
    assert other.json()["code"] == "upstream_throttled"
    assert 25 <= int(other.headers["Retry-After"]) <= 30
    assert simulator.requests() == []
