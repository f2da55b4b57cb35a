"""The portal as production runs it: gunicorn, DEBUG off, whitenoise, Redis, JSON logs, readiness."""

from __future__ import annotations

import json

import httpx
import pytest

from simulator.server import Simulator
from tests.processes import manage, portal_processes, prepare, production_env

pytestmark = [pytest.mark.integration, pytest.mark.processes]


def test_static_files_are_hashed_compressed_and_served_by_whitenoise(tmp_path, simulator: Simulator) -> None:
    env = production_env(tmp_path, simulator.url, DJANGO_STATIC_ROOT=str(tmp_path / "static"))
    prepare(env)
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/portal.css"]
    assert hashed != "css/portal.css"
    assert (tmp_path / "static" / (hashed + ".gz")).exists()
    with portal_processes(1, env) as [url]:
        page = httpx.get(f"{url}/accounts/login/")
        assert f"/static/{hashed}" in page.text
        css = httpx.get(f"{url}/static/{hashed}", headers={"Accept-Encoding": "gzip"})
        assert css.status_code == 200
        assert css.headers["Content-Encoding"] == "gzip"
        assert "immutable" in css.headers["Cache-Control"]


def test_one_json_log_line_per_request_and_per_f_and_o_call(tmp_path, simulator: Simulator) -> None:
    env = production_env(tmp_path, simulator.url)
    prepare(env)
    manage(env, "add_customer_user", "--email", "log@example.com", "--no-password", "--account", "usmf:US-001")
    token = manage(env, "create_api_token", "--email", "log@example.com").strip()
    log = tmp_path / "portal.log"
    with portal_processes(1, env, log=log) as [url]:
        response = httpx.get(f"{url}/api/v1/orders/usmf/001001", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
    ref = response.headers["X-Reference"]
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("ref") == ref]
    requests = [line for line in mine if line.get("event") == "request"]
    calls = [line for line in mine if line.get("event") == "odata.call"]
    assert len(requests) == 1
    assert requests[0]["status"] == 200
    assert requests[0]["user_id"] is not None
    assert requests[0]["latency_ms"] > 0
    assert {c["entity_set"] for c in calls} == {
        "SalesOrderHeadersV2", "PackingSlipTrackingInformation", "SalesInvoiceHeadersV2",
        "CustPackingSlipJourBiEntities", "CustPackingSlipTransBiEntities",
    }
    assert all(c["latency_ms"] > 0 and c["status"] == 200 for c in calls)
    assert token not in log.read_text()
    # F&O's logs and ours line up: each call's line names the GUID F&O received and the activity id it answered.
    received = simulator.requests()[-len(calls):]
    assert {c["client_request_id"] for c in calls} == {r["request_id"] for r in received}
    assert {c["activity_id"] for c in calls} == {r["activity_id"] for r in received}
    assert len({c["client_request_id"] for c in calls}) == len(calls)


@pytest.mark.parametrize(
    ("dependency", "override"),
    [
        (None, {}),
        ("database", {"DATABASE_URL": "postgres://portal@127.0.0.1:1/portal"}),
        ("cache", {"REDIS_URL": "redis://127.0.0.1:1/0"}),
    ],
)
def test_readyz_reports_each_serving_dependency_down_in_turn(tmp_path, simulator: Simulator, dependency,
                                                             override) -> None:
    env = production_env(tmp_path, simulator.url)
    prepare(env)
    env.update(override)
    with portal_processes(1, env) as [url]:
        assert httpx.get(f"{url}/healthz").status_code == 200  # liveness never depends on anything
        ready = httpx.get(f"{url}/readyz", timeout=10)
    checks = ready.json()["checks"]
    assert set(checks) == {"database", "cache"}  # F&O is not part of readiness
    if dependency is None:
        assert ready.status_code == 200
        assert set(checks.values()) == {"ok"}
    else:
        assert ready.status_code == 503
        assert checks[dependency] != "ok"
        assert all(v == "ok" for k, v in checks.items() if k != dependency)


def test_readyz_stays_ready_while_f_and_o_hangs_or_fails_and_deep_reports_it(tmp_path, simulator: Simulator) -> None:
    env = production_env(tmp_path, simulator.url, METRICS_TOKEN="deep-readiness-token")
    prepare(env)
    with portal_processes(1, env) as [url]:
        for faults in ({"hang": True}, {"status": 500}, {}):
            simulator.set_faults(**faults)
            simulator.reset_log()
            # An F&O outage is served by stale copies and honest pages: the instance stays in rotation, at once.
            ready = httpx.get(f"{url}/readyz", timeout=1.0)
            assert ready.status_code == 200, faults
            assert "fno" not in ready.json()["checks"]
            assert simulator.requests() == []
        assert httpx.get(f"{url}/readyz?deep=1", timeout=5).status_code == 401
        wrong = httpx.get(f"{url}/readyz?deep=1", headers={"Authorization": "Bearer wrong"}, timeout=5)
        assert wrong.status_code == 403
        simulator.set_faults(hang=True)
        deep = httpx.get(f"{url}/readyz?deep=1", headers={"Authorization": "Bearer deep-readiness-token"},
                         timeout=10)
        assert deep.status_code == 503
        assert deep.json()["checks"]["fno"]["state"] == "timeout"
        assert deep.json()["checks"]["database"] == "ok"
        assert httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200  # still answered at once
