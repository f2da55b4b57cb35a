"""The portal as production runs it: gunicorn, DEBUG off, whitenoise, Redis, JSON logs, readiness."""

from __future__ import annotations

import json

import httpx
import pytest

from simulator.server import Simulator
from tests.processes import manage, portal_processes, prepare, production_env

pytestmark = pytest.mark.integration


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
    manage(env, "add_customer_user", "--email", "log@example.com", "--account", "usmf:US-001")
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
        "SalesOrderHeadersV2", "PackingSlipTrackingInformation", "SalesInvoiceHeadersV2"
    }
    assert all(c["latency_ms"] > 0 and c["status"] == 200 for c in calls)
    assert token not in log.read_text()
    assert {r["request_id"] for r in simulator.requests()[-3:]} == {ref}  # F&O's logs and ours line up


@pytest.mark.parametrize(
    ("dependency", "override"),
    [
        (None, {}),
        ("database", {"DATABASE_URL": "postgres://portal@127.0.0.1:1/portal"}),
        ("cache", {"REDIS_URL": "redis://127.0.0.1:1/0"}),
        ("fno", {"D365_URL": "http://127.0.0.1:1"}),
    ],
)
def test_readyz_reports_each_dependency_down_in_turn(tmp_path, simulator: Simulator, dependency, override) -> None:
    env = production_env(tmp_path, simulator.url)
    prepare(env)
    env.update(override)
    with portal_processes(1, env) as [url]:
        assert httpx.get(f"{url}/healthz").status_code == 200  # liveness never depends on anything
        ready = httpx.get(f"{url}/readyz", timeout=10)
    checks = ready.json()["checks"]
    if dependency is None:
        assert ready.status_code == 200
        assert set(checks.values()) == {"ok"}
    else:
        assert ready.status_code == 503
        assert checks[dependency] != "ok"
        assert all(v == "ok" for k, v in checks.items() if k != dependency)
