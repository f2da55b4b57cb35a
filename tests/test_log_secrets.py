"""Links that are credentials stay out of the logs: the one-click "stop watching" path, the password reset path, the
guest tracking link and the invitation link. Whoever reads the request log, the JSON lines of django.request or
gunicorn's access log must not be able to use them."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from django.core import signing
from django.test import Client

from orders.guest_links import guest_link_token
from orders.logs import JsonFormatter
from simulator.server import Simulator
from tests.processes import portal_processes, prepare, production_env
from watching.tokens import unsubscribe_token

pytestmark = pytest.mark.django_db

STOP_ROUTE = "/watches/stop/<str:token>/"
RESET_ROUTE = "/accounts/password/reset/<uidb64>/<token>/"


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """Every captured record as the JSON formatter writes it, the way production logs it."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


def _requests(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [line for line in _lines(caplog) if line.get("event") == "request"]


def test_the_stop_watching_path_is_logged_as_its_route(caplog, alice) -> None:
    token = unsubscribe_token(user_id=alice.pk, company="usmf", number="001001")
    client = Client()
    with caplog.at_level(logging.INFO):
        assert client.get(f"/watches/stop/{token}/").status_code == 200
        assert client.post(f"/watches/stop/{token}/").status_code == 200
        assert client.put(f"/watches/stop/{token}/").status_code == 405  # django.request logs it, path and all
        assert client.get(f"/watches/stop/{token}").status_code == 301  # the slash added: no view ran
    assert [(r["method"], r["path"], r["status"]) for r in _requests(caplog)] == [
        ("GET", STOP_ROUTE, 200), ("POST", STOP_ROUTE, 200), ("PUT", STOP_ROUTE, 405), ("GET", STOP_ROUTE, 301)]
    [refused] = [line for line in _lines(caplog) if line["logger"] == "django.request"]
    assert refused["message"] == f"Method Not Allowed (PUT): {STOP_ROUTE}"
    assert refused["request"] == f"PUT {STOP_ROUTE}"
    assert token not in json.dumps(_lines(caplog))


def test_the_password_reset_path_is_logged_as_its_route(caplog) -> None:
    with caplog.at_level(logging.INFO):
        Client().get("/accounts/password/reset/MQ/cz6n2f-0123456789abcdef0123456789abcdef/")
    [line] = _requests(caplog)
    assert line["path"] == RESET_ROUTE
    assert "cz6n2f" not in json.dumps(_lines(caplog))


def test_the_guest_link_and_the_invitation_link_are_logged_without_their_query(caplog, settings) -> None:
    settings.GUEST_TRACKING = True
    guest = guest_link_token(company="usmf", number="001001")
    invitation = "an-invitation-token-0123456789abcdefghijklmnopqrstu"
    with caplog.at_level(logging.INFO):
        Client().get(f"/track/order/?t={guest}")
        Client().get(f"/accounts/microsoft/invitation/?token={invitation}")
    assert [line["path"] for line in _requests(caplog)] == ["/track/order/", "/accounts/microsoft/invitation/"]
    assert guest not in json.dumps(_lines(caplog))
    assert invitation not in json.dumps(_lines(caplog))


def test_an_ordinary_path_is_logged_as_it_is(caplog, alice_client) -> None:
    with caplog.at_level(logging.INFO):
        alice_client.get("/watches/")
        Client().get("/no/such/page/")
    assert [line["path"] for line in _requests(caplog)] == ["/watches/", "/no/such/page/"]


@pytest.mark.integration
def test_gunicorns_access_log_holds_no_token(tmp_path: Path, simulator: Simulator, settings) -> None:
    env = production_env(tmp_path, simulator.url, GUNICORN_ACCESSLOG="-", GUEST_TRACKING="true")
    prepare(env)
    settings.SECRET_KEY = env["DJANGO_SECRET_KEY"]
    stop = unsubscribe_token(user_id=1, company="usmf", number="001001")
    guest = guest_link_token(company="usmf", number="001001")
    assert signing.loads(stop, salt="watching.unsubscribe.v1", key=env["DJANGO_SECRET_KEY"])
    log = tmp_path / "portal.log"
    with portal_processes(1, env, log=log) as [url]:
        paths = [f"/watches/stop/{stop}/", f"/track/order/?t={guest}", "/accounts/password/reset/MQ/cz6n2f-abc/",
                 "/accounts/login/?next=/orders/"]
        references = []
        for path in paths:
            response = httpx.get(url + path, headers={"Referer": url + path}, follow_redirects=False)
            assert response.status_code < 500
            references.append(response.headers["X-Reference"])
    text = log.read_text()
    for secret in (stop, guest, "cz6n2f", "next="):
        assert secret not in text
    access = [line for line in text.splitlines()
              if '"GET ' in line and not line.startswith("{") and "healthz" not in line]
    assert len(access) == len(paths), text[-3000:]
    for line, path, reference in zip(access, ("/watches/stop/<str:token>/", "/track/order/",
                                              "/accounts/password/reset/<uidb64>/<token>/", "/accounts/login/"),
                                     references, strict=True):
        assert f'"GET {path} HTTP/1.1"' in line
        assert line.endswith(reference)


def test_no_atom_gunicorn_offers_a_custom_access_log_format_holds_a_token(settings) -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from portal.gunicorn_logging import RedactingLogger

    stop = unsubscribe_token(user_id=1, company="usmf", number="001001")
    guest = guest_link_token(company="usmf", number="001001")
    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": f"/track/?t={guest}", "PATH_INFO": f"/watches/stop/{stop}/",
        "QUERY_STRING": f"t={guest}", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.1",
        "HTTP_REFERER": f"https://orders.example.com/track/order/?t={guest}", "HTTP_COOKIE": "sessionid=s3cr3t",
        "HTTP_USER_AGENT": "Mail scanner",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"]), ("COOKIE", "sessionid=s3cr3t")])
    response = SimpleNamespace(status="303 See Other", sent=0, headers=[
        ("Location", f"/track/order/?t={guest}"), ("Set-Cookie", "sessionid=s3cr3t"), ("X-Reference", "ABCD-EFGH")])
    atoms = RedactingLogger(Config()).atoms(response, request, environ, timedelta(milliseconds=5))
    assert atoms["r"] == f"POST {STOP_ROUTE} HTTP/1.1"
    assert atoms["U"] == STOP_ROUTE
    assert (atoms["q"], atoms["f"]) == ("-", "-")
    assert atoms["{x-reference}o"] == "ABCD-EFGH"
    assert atoms["a"] == "Mail scanner"
    for secret in (stop, guest, "s3cr3t"):
        assert secret not in json.dumps(atoms, default=str)
