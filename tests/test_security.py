"""Security headers on every kind of page, cookies, hosts, sessions, and the deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from orders.services import api_token_create
from tests.factories import PASSWORD, order_row

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def pages(alice, fake_fno, settings):
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    _, token = api_token_create(user=alice, name="phone")
    signed_in = Client()
    signed_in.force_login(alice)
    anonymous = Client()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return {
        "home": lambda: anonymous.get("/", secure=True),
        "sign-in": lambda: anonymous.get("/accounts/login/", secure=True),
        "order list": lambda: signed_in.get("/orders/", secure=True),
        "order detail": lambda: signed_in.get("/orders/usmf/000123/", secure=True),
        "not found page": lambda: signed_in.get("/orders/usmf/999/", secure=True),
        "bad request page": lambda: signed_in.get("/orders/?page=abc", secure=True),
        "api json": lambda: api.get("/api/v1/orders", secure=True),
        "api problem": lambda: anonymous.get("/api/v1/orders", secure=True),
        "openapi": lambda: anonymous.get("/api/v1/openapi.json", secure=True),
        "admin": lambda: anonymous.get("/admin/login/", secure=True),
        "staff redirect": lambda: signed_in.get("/staff/orders/", secure=True),
        "tokens page": lambda: signed_in.get("/account/tokens/", secure=True),
        "password change": lambda: signed_in.get("/accounts/password/change/", secure=True),
        "signed-in home": lambda: signed_in.get("/", secure=True),
        "signed-in sign-in page": lambda: signed_in.get("/accounts/login/", secure=True),
        "healthz": lambda: anonymous.get("/healthz", secure=True),
        "metrics refusal": lambda: anonymous.get("/metrics", secure=True),
    }


@pytest.mark.parametrize("kind", [
    "home", "sign-in", "tokens page", "password change", "signed-in home", "signed-in sign-in page",
    "order list", "order detail", "not found page", "bad request page", "api json",
    "api problem", "openapi", "admin", "staff redirect", "healthz", "metrics refusal",
])
def test_every_kind_of_page_carries_the_security_headers(pages, kind: str) -> None:
    response = pages[kind]()
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Reference"]


SIGNED_IN_PAGES = ["order list", "order detail", "not found page", "bad request page", "staff redirect",
                   "tokens page", "password change", "signed-in home", "signed-in sign-in page"]


@pytest.mark.parametrize("kind", SIGNED_IN_PAGES)
def test_every_page_of_a_signed_in_user_is_never_stored(pages, kind: str) -> None:
    response = pages[kind]()
    assert response["Cache-Control"] == "no-store"


def test_the_api_keeps_its_own_freshness_headers(pages) -> None:
    response = pages["api json"]()
    assert response["Cache-Control"].startswith("private, max-age=")
    assert response["ETag"]


def test_session_and_csrf_cookies_are_secure_httponly_samesite(alice, client: Client) -> None:
    client.get("/accounts/login/", secure=True)
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Lax"
    response = client.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD}, secure=True)
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert int(session["max-age"]) == 2 * 60 * 60  # ends after two idle hours, renewed on every request


def test_only_allowed_hosts_answer(client: Client) -> None:
    assert client.get("/healthz", HTTP_HOST="evil.example.com").status_code == 400


def test_the_load_balancer_tells_us_the_request_was_https(client: Client) -> None:
    response = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" in response
    assert "Strict-Transport-Security" not in client.get("/healthz")


def test_admin_path_is_configurable() -> None:
    env = {**os.environ, "DJANGO_ADMIN_PATH": "backoffice-7f3a", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    code = "from django.urls import reverse; import django; django.setup(); print(reverse('admin:index'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "/backoffice-7f3a/"


def _deploy_check(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "D365_", "PORTAL_"))}
    base.update(DJANGO_SETTINGS_MODULE="portal.settings", DJANGO_DEBUG="false",
                DJANGO_SECRET_KEY="x" * 20 + "production-like-secret-key-with-enough-entropy-1234567890",
                DJANGO_ALLOWED_HOSTS="orders.example.com", PORTAL_BASE_URL="https://orders.example.com", **env)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=base, capture_output=True, text=True, check=False)


def test_check_deploy_is_clean_with_a_production_environment() -> None:
    done = _deploy_check(D365_URL="https://contoso.operations.dynamics.com", D365_TENANT_ID="t",
                         D365_CLIENT_ID="c", D365_CLIENT_SECRET="s", REDIS_URL="redis://127.0.0.1:6379/15")
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_deploy_reports_missing_d365_settings() -> None:
    done = _deploy_check()
    assert done.returncode != 0
    assert "orders.E001" in done.stderr + done.stdout
    assert "orders.W002" in done.stderr + done.stdout
    half = _deploy_check(D365_URL="https://contoso.operations.dynamics.com", D365_CLIENT_ID="c")
    assert "orders.E002" in half.stderr + half.stdout
    assert "orders.E003" in half.stderr + half.stdout


def test_sessions_end_after_idle_time_and_are_renewed_by_use(alice, client: Client, fake_fno) -> None:
    client.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD}, secure=True)
    assert "sessionid" not in client.get("/account/tokens/", secure=True).cookies  # no write on every page
    session = client.session
    session["_renewed"] = 0
    session.save()
    again = client.get("/account/tokens/", secure=True)
    assert int(again.cookies["sessionid"]["max-age"]) == 2 * 60 * 60


def test_log_lines_do_not_carry_search_text(alice_client, fake_fno, caplog) -> None:
    import json
    import logging

    from orders.logs import JsonFormatter

    with caplog.at_level(logging.INFO):
        alice_client.get("/orders/", {"q": "secret-project-x", "page": "abc"})
        alice_client.get("/orders/", {"q": "secret-project-x"})
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any(json.loads(line).get("status") == 400 or "Bad Request" in line for line in lines)
    assert not [line for line in lines if "secret-project-x" in line]
