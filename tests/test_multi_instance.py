"""Two portal instances (gunicorn, production settings) on one Redis: they share copies, locks and back-off."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from simulator.server import Simulator
from tests.processes import manage, portal_processes, prepare, production_env

pytestmark = [pytest.mark.integration, pytest.mark.processes]


@pytest.fixture
def instances(tmp_path, simulator: Simulator):
    env = production_env(tmp_path, simulator.url)
    prepare(env)
    manage(env, "add_customer_user", "--email", "multi@example.com", "--no-password", "--account", "usmf:US-001",
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


def test_a_purge_in_one_instance_is_seen_by_the_other(tmp_path, simulator: Simulator) -> None:
    import re
    import time

    from tests.processes import manage, portal_processes, prepare, production_env

    env = production_env(tmp_path, simulator.url)
    prepare(env)
    manage(env, "seed_demo")
    with portal_processes(2, env) as (first, second):
        customer = _Browser(second)
        staff = _Browser(first)
        for client, email, password in ((customer, "alice@example.com", "demo-orders-2026"),
                                        (staff, "support@example.com", "demo-support-2026")):
            login = client.get("/accounts/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
            signed_in = client.post("/accounts/login/", data={"username": email, "password": password,
                                                              "csrfmiddlewaretoken": token})
            assert signed_in.status_code == 302
        assert customer.get("/orders/usmf/001001/").status_code == 200
        simulator.reset_log()
        assert customer.get("/orders/usmf/001001/").status_code == 200
        assert simulator.requests() == []  # served from the shared copy
        page = staff.get("/staff/orders/usmf/US-001/001001/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        purged = staff.post("/staff/purge/usmf/US-001/001001/", data={"csrfmiddlewaretoken": token})
        assert purged.status_code == 302
        simulator.reset_log()
        time.sleep(1.1)  # the other instance's one-second hot copy runs out
        assert customer.get("/orders/usmf/001001/").status_code == 200
        assert "SalesOrderHeadersV2" in {r["entity_set"] for r in simulator.requests()}


class _Browser:
    """Keeps cookies by hand: production cookies are Secure, and httpx won't send those over plain http."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url)
        self.cookies: dict[str, str] = {}

    def _remember(self, response: httpx.Response) -> httpx.Response:
        self.cookies.update({cookie.name: cookie.value for cookie in response.cookies.jar})
        return response

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def get(self, path: str) -> httpx.Response:
        return self._remember(self.client.get(path, headers=self._headers()))

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self._remember(self.client.post(path, data=data, headers=self._headers()))
