"""/readyz: ready when this instance can serve pages, whatever F&O does; `?deep=1` adds F&O for monitoring."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings as django_settings
from django.test import Client

from orders.views.health import ReadinessProbe
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db


def _serving() -> dict[str, str]:
    return {"database": "ok", **({"cache": "ok"} if django_settings.REDIS_URL else {})}


def test_readyz_is_ready_without_asking_f_and_o(client: Client, fake_fno: FakeFnO) -> None:
    fake_fno.script = [lambda r: (_ for _ in ()).throw(AssertionError("readyz must not call F&O"))]
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": _serving()}
    assert fake_fno.requests == []


@pytest.mark.parametrize("status", [500, 503, 401, 429])
def test_readyz_stays_ready_while_f_and_o_fails(client: Client, fake_fno: FakeFnO, status: int) -> None:
    fake_fno.script = [FakeFnO.respond(status)] * 4
    assert client.get("/readyz").status_code == 200
    assert fake_fno.requests == []


def test_deep_readiness_needs_the_metrics_token(client: Client, fake_fno: FakeFnO, settings) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics"
    anonymous = client.get("/readyz?deep=1")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/readyz?deep=1", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/readyz?deep=1", HTTP_AUTHORIZATION="Basic s3cret-metrics").status_code == 401
    settings.METRICS_TOKEN = ""
    assert client.get("/readyz?deep=1", HTTP_AUTHORIZATION="Bearer anything").status_code == 403
    assert fake_fno.requests == []


def test_deep_readiness_reports_f_and_o_up(client: Client, fake_fno: FakeFnO, settings) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics"
    response = client.get("/readyz?deep=1", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert response.status_code == 200
    fno = response.json()["checks"]["fno"]
    assert fno["state"] == "ok"
    assert fno["breaker"] == "closed"
    assert fake_fno.requests[0].url.params["$top"] == "1"


def test_deep_readiness_reports_f_and_o_down_and_caches_its_answer(client: Client, fake_fno: FakeFnO,
                                                                    settings) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics"
    fake_fno.script = [FakeFnO.respond(401)] * 2
    response = client.get("/readyz?deep=1", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert response.status_code == 503
    assert response.json()["checks"]["fno"]["state"] == "fail: AuthenticationFailed"
    calls = len(fake_fno.requests)
    client.get("/readyz?deep=1", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert len(fake_fno.requests) == calls  # answered from the few-second copy
    assert client.get("/readyz").status_code == 200  # the load balancer's readiness is unaffected


def _blocking_probe(max_age: float, timeout: float) -> tuple[ReadinessProbe, threading.Event, threading.Event,
                                                             list[int]]:
    entered, release, runs = threading.Event(), threading.Event(), []

    def slow() -> str:
        runs.append(1)
        entered.set()
        release.wait(10)
        return "ok"

    probe = ReadinessProbe(lambda: {"slow": slow}, max_age=max_age, timeout=timeout,
                           ok=lambda results: all(v == "ok" for v in results.values()))
    return probe, entered, release, runs


def test_concurrent_probes_answer_from_the_last_result_while_one_refreshes() -> None:
    probe, entered, release, runs = _blocking_probe(max_age=0.0, timeout=10)
    release.set()
    first = probe.answer()
    assert first is not None
    assert first.status == 200
    release.clear()
    entered.clear()
    refresher = threading.Thread(target=probe.answer)
    refresher.start()
    assert entered.wait(5)  # the refresher is inside the slow check, holding the try-lock
    others = [probe.answer() for _ in range(20)]
    assert all(answer is first for answer in others)  # nobody waited and nobody started a second check
    assert len(runs) == 2
    release.set()
    refresher.join(5)
    assert probe.answer() is not first


def test_the_first_probe_does_not_wait_for_another_threads_first_check() -> None:
    probe, entered, release, _ = _blocking_probe(max_age=60, timeout=10)
    refresher = threading.Thread(target=probe.answer)
    refresher.start()
    assert entered.wait(5)
    assert probe.answer() is None  # "checking": answered at once, the view turns it into 503
    release.set()
    refresher.join(5)
    assert probe.answer().status == 200


def test_a_hanging_check_times_out_and_is_not_started_twice() -> None:
    probe, _, release, runs = _blocking_probe(max_age=0.0, timeout=0.05)
    try:
        first = probe.answer()
        assert first.checks == {"slow": "timeout"}
        assert first.status == 503
        second = probe.answer()
        assert second.checks == {"slow": "timeout"}
        assert len(runs) == 1
    finally:
        release.set()
