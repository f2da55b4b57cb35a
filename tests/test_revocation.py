"""Revocation that sticks, across two portal instances (gunicorn, production settings) sharing Redis: each path is
taken on instance A, and instance B, which has just checked the user's API token and serves another of their
sessions, must refuse both."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from simulator.server import Simulator
from tests.processes import manage, portal_processes, prepare, production_env

pytestmark = pytest.mark.integration

PASSWORD = "an-old-password-2026"
NEW_PASSWORD = "a-brand-new-password-2026"
PATHS = ["form", "bulk", "change", "reset", "link"]
# B looks at the shared revocation counter at most every half second; its token checks live five seconds. A test
# waits for B to notice until CHECK_LIVES_SECONDS after B's check (so only the counter can make it pass), or, when
# the action itself took that long on a loaded machine, for NOTICE_SECONDS after the action.
NOTICE_SECONDS = 0.8
CHECK_LIVES_SECONDS = 4.5

SETUP = """
import json
from django.contrib.auth import get_user_model
from orders.models import CustomerAccountLink
from orders.services import api_token_create
User = get_user_model()
User.objects.create_superuser(username="root@example.com", email="root@example.com", password=%(password)r)
out = {}
for path in %(paths)r:
    email = f"{path}@example.com"
    user = User.objects.create_user(username=email, email=email, password=%(password)r)
    link = CustomerAccountLink.objects.create(user=user, company="usmf", account="US-001")
    out[path] = {"id": user.pk, "link": link.pk, "token": api_token_create(user=user, name="phone")[1]}
print(json.dumps(out))
"""


class Browser:
    """Keeps cookies by hand: production cookies are Secure, and httpx won't send those over plain http."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=10)
        self.cookies: dict[str, str] = {}

    def _remember(self, response: httpx.Response) -> httpx.Response:
        self.cookies.update({cookie.name: cookie.value for cookie in response.cookies.jar})
        return response

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def get(self, path: str) -> httpx.Response:
        return self._remember(self.client.get(path, headers=self._headers()))

    def post(self, path: str, data: dict) -> httpx.Response:
        return self._remember(self.client.post(path, data=data, headers=self._headers()))

    def submit(self, path: str, data: dict) -> httpx.Response:
        """GET the form for its CSRF token, then POST it."""
        page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return self.post(path, {**data, "csrfmiddlewaretoken": token})

    def sign_in(self, email: str, password: str) -> None:
        done = self.submit("/accounts/login/", {"username": email, "password": password})
        assert done.status_code == 302, done.text[:300]

    def on(self, base_url: str) -> Browser:
        """The same session (cookies) against another instance."""
        other = Browser(base_url)
        other.cookies = self.cookies
        return other

    @property
    def session_key(self) -> str:
        return self.cookies["sessionid"]

    def signed_in(self) -> bool:
        return self.get("/accounts/password/change/").status_code == 200


def _api(url: str, token: str) -> int:
    return httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def _session_rows(db: Path, key: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM django_session WHERE session_key = ?", (key,)).fetchone()[0]


def _user_form(email: str, user_id: int, link_id: int, *, active: bool = True, delete_link: bool = False) -> dict:
    data = {
        "username": email, "email": email, "first_name": "", "last_name": "",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "account_links-TOTAL_FORMS": "1", "account_links-INITIAL_FORMS": "1",
        "account_links-MIN_NUM_FORMS": "0", "account_links-MAX_NUM_FORMS": "1000",
        "account_links-0-id": str(link_id), "account_links-0-user": str(user_id),
        "account_links-0-company": "usmf", "account_links-0-account": "US-001",
    }
    if active:
        data["is_active"] = "on"
    if delete_link:
        data["account_links-0-DELETE"] = "on"
    return data


@pytest.mark.processes
def test_every_revocation_path_ends_tokens_and_other_sessions_on_every_instance(tmp_path, simulator: Simulator):
    env = production_env(tmp_path, simulator.url)
    prepare(env)
    output = manage(env, "shell", "-c", SETUP % {"password": PASSWORD, "paths": PATHS})
    users = json.loads(output.strip().splitlines()[-1])
    db = tmp_path / "portal.sqlite3"
    log = tmp_path / "portal.log"
    with portal_processes(2, env, log=log) as (a, b):
        root = Browser(a)
        root.sign_in("root@example.com", PASSWORD)

        def admin_form(path: str, **kwargs: bool) -> None:
            user = users[path]
            url = f"/admin/auth/user/{user['id']}/change/"
            done = root.submit(url, _user_form(f"{path}@example.com", user["id"], user["link"], **kwargs))
            assert done.status_code == 302, done.text[:500]

        def bulk_deactivate_on_filtered_list(path: str) -> None:
            done = root.submit("/admin/auth/user/?is_active__exact=1",
                               {"action": "deactivate_users", "_selected_action": [str(users[path]["id"])]})
            assert done.status_code == 302

        def change_own_password(path: str) -> Browser:
            own = Browser(a)
            own.sign_in(f"{path}@example.com", PASSWORD)
            done = own.submit("/accounts/password/change/", {
                "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
            assert done.status_code == 302
            return own

        def reset_password(path: str) -> None:
            stranger = Browser(a)
            assert stranger.submit("/accounts/password/reset/", {"email": f"{path}@example.com"}).status_code == 302
            link = _reset_link(log, timeout=10)
            form_page = stranger.get(link)
            assert form_page.status_code == 302
            done = stranger.submit(form_page.headers["location"],
                                   {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
            assert done.status_code == 302, done.text[:500]

        actions = {
            "form": lambda p: admin_form(p, active=False),
            "bulk": bulk_deactivate_on_filtered_list,
            "change": change_own_password,
            "reset": reset_password,
            "link": lambda p: admin_form(p, delete_link=True),
        }
        for path in PATHS:
            user = users[path]
            other = Browser(b)
            other.sign_in(f"{path}@example.com", PASSWORD)
            assert other.signed_in()
            assert _api(b, user["token"]) == 200  # B now holds the token check in memory
            checked = time.monotonic()
            kept = actions[path](path)
            until = max(checked + CHECK_LIVES_SECONDS, time.monotonic() + NOTICE_SECONDS)
            assert _eventually(lambda token=user["token"]: _api(b, token) == 401, until=until), path
            assert _api(a, user["token"]) == 401, path
            assert not other.signed_in(), path
            assert _session_rows(db, other.session_key) == 0, path
            if kept is not None:
                # The user who changed their own password stays signed in where they did it, on either instance.
                assert kept.signed_in()
                assert kept.on(b).signed_in()


def _eventually(condition, *, until: float) -> bool:
    """Poll `condition` until it holds; False once the monotonic clock has passed `until`."""
    while not condition():
        if time.monotonic() >= until:
            return False
        time.sleep(0.05)
    return True


def _reset_link(log: Path, *, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)", log.read_text())
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError("no password reset e-mail in the portal's output")


def test_check_deploy_requires_redis_outside_debug(settings) -> None:
    from orders.checks import shared_cache_check

    settings.DEBUG = False
    settings.REDIS_URL = ""
    assert [problem.id for problem in shared_cache_check()] == ["orders.E030"]
    settings.REDIS_URL = "redis://redis.internal:6379/0"
    assert shared_cache_check() == []


@pytest.mark.django_db
def test_a_session_is_recorded_at_sign_in_and_forgotten_at_sign_out() -> None:
    from django.test import Client

    from orders.models import UserSession
    from tests.factories import PASSWORD as CUSTOMER_PASSWORD
    from tests.factories import make_customer

    alice = make_customer("alice@example.com", "usmf:US-001")
    client = Client()
    assert client.post("/accounts/login/", {"username": "alice@example.com", "password": CUSTOMER_PASSWORD}
                       ).status_code == 302
    key = client.cookies["sessionid"].value
    assert list(UserSession.objects.values_list("session_id", "user_id")) == [(key, alice.pk)]
    client.post("/accounts/logout/")
    assert not UserSession.objects.exists()


@pytest.mark.django_db
def test_provisioning_the_same_password_again_or_a_rehash_revokes_nothing(django_capture_on_commit_callbacks) -> None:
    from orders.services import api_token_create, customer_user_upsert
    from tests.factories import PASSWORD as CUSTOMER_PASSWORD
    from tests.factories import make_customer

    alice = make_customer("alice@example.com", "usmf:US-001")
    token, _ = api_token_create(user=alice, name="phone")
    with django_capture_on_commit_callbacks(execute=True):
        customer_user_upsert(email="alice@example.com", password=CUSTOMER_PASSWORD, accounts=[])
        alice.refresh_from_db()
        alice.password = alice.password + "x"  # a rehash: a new hash without set_password
        alice.save(update_fields=["password"])
    token.refresh_from_db()
    assert token.revoked_at is None
    with django_capture_on_commit_callbacks(execute=True):
        alice.set_password("another-password-2026")
        alice.save()
    token.refresh_from_db()
    assert token.revoked_at is not None
