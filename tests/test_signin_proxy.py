"""Sign-in behind the load balancer: the client's address comes from X-Forwarded-For only through trusted proxies,
lock-outs are per (user name, address), and one address failing across many user names is locked out too."""

from __future__ import annotations

import logging
import runpy
from pathlib import Path

import pytest
from django.test import Client, RequestFactory

from orders.client_address import client_address
from orders.models import LookupAudit
from tests.factories import PASSWORD, make_customer, order_row

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
ATTACKER = "203.0.113.66"
ELSEWHERE = "198.51.100.7"
_ADDRESS_SETTINGS = ("AXES_IPWARE_PROXY_COUNT", "AXES_IPWARE_META_PRECEDENCE_ORDER", "AXES_IPWARE_PROXY_ORDER",
                     "IPWARE_STRICT", "TRUSTED_PROXY_COUNT")


def _portal_settings(monkeypatch, proxies: int) -> dict:
    """What portal/settings.py makes of DJANGO_TRUSTED_PROXY_COUNT, read from the module itself."""
    monkeypatch.setenv("DJANGO_TRUSTED_PROXY_COUNT", str(proxies))
    return runpy.run_path(str(ROOT / "portal" / "settings.py"))


@pytest.fixture
def behind_one_proxy(settings, monkeypatch):
    computed = _portal_settings(monkeypatch, 1)
    for name in _ADDRESS_SETTINGS:
        setattr(settings, name, computed[name])
    return settings


@pytest.fixture
def no_proxy(settings, monkeypatch):
    computed = _portal_settings(monkeypatch, 0)
    for name in _ADDRESS_SETTINGS:
        setattr(settings, name, computed[name])
    return settings


def _sign_in(username: str, password: str, forwarded_for: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return Client().post("/accounts/login/", {"username": username, "password": password}, **extra)


def _request(**meta: str):
    return RequestFactory().get("/", **meta)


def test_behind_one_proxy_the_address_the_balancer_appended_is_the_client(behind_one_proxy) -> None:
    assert client_address(_request(REMOTE_ADDR="10.0.0.10", HTTP_X_FORWARDED_FOR=ATTACKER)) == ATTACKER


def test_behind_one_proxy_what_the_client_wrote_before_the_balancers_entry_is_ignored(behind_one_proxy) -> None:
    forged = f"6.6.6.6, {ATTACKER}"
    assert client_address(_request(REMOTE_ADDR="10.0.0.10", HTTP_X_FORWARDED_FOR=forged)) == ATTACKER
    garbage = f"not-an-address, {ATTACKER}"
    assert client_address(_request(REMOTE_ADDR="10.0.0.10", HTTP_X_FORWARDED_FOR=garbage)) == ATTACKER


def test_behind_two_proxies_the_second_address_from_the_right_is_the_client(settings, monkeypatch) -> None:
    computed = _portal_settings(monkeypatch, 2)
    for name in _ADDRESS_SETTINGS:
        setattr(settings, name, computed[name])
    chain = f"6.6.6.6, {ATTACKER}, 192.0.2.50"
    assert client_address(_request(REMOTE_ADDR="10.0.0.10", HTTP_X_FORWARDED_FOR=chain)) == ATTACKER


def test_without_a_trusted_proxy_x_forwarded_for_is_never_read(no_proxy) -> None:
    assert client_address(_request(REMOTE_ADDR="10.0.0.10", HTTP_X_FORWARDED_FOR=ATTACKER)) == "10.0.0.10"


def test_behind_one_proxy_a_lock_out_holds_for_that_address_only(behind_one_proxy) -> None:
    make_customer("alice@example.com", "usmf:US-001")
    for _ in range(7):
        assert _sign_in("alice@example.com", "wrong-password", ATTACKER).status_code in (200, 429)
    locked = _sign_in("alice@example.com", PASSWORD, ATTACKER)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert _sign_in("alice@example.com", PASSWORD, ELSEWHERE).status_code == 302


def test_behind_one_proxy_one_address_failing_across_many_user_names_is_locked_out(behind_one_proxy) -> None:
    behind_one_proxy.AXES_ADDRESS_FAILURE_LIMIT = 8
    make_customer("alice@example.com", "usmf:US-001")
    for n in range(8):
        # Under the per-user limit for every name: only the count per address can stop this.
        assert _sign_in(f"victim{n}@example.com", "guess-1", ATTACKER).status_code in (200, 429)
    refused = _sign_in("alice@example.com", PASSWORD, ATTACKER)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    assert _sign_in("alice@example.com", PASSWORD, ELSEWHERE).status_code == 302


def test_the_failure_that_reaches_the_address_limit_already_gets_the_lockout_page(behind_one_proxy) -> None:
    behind_one_proxy.AXES_ADDRESS_FAILURE_LIMIT = 3
    statuses = [_sign_in(f"user{n}@example.com", "guess-1", ATTACKER).status_code for n in range(3)]
    assert statuses == [200, 200, 429]


def test_failures_from_one_ipv6_64_count_as_one_address(behind_one_proxy) -> None:
    behind_one_proxy.AXES_ADDRESS_FAILURE_LIMIT = 3
    make_customer("alice@example.com", "usmf:US-001")
    for n in range(3):
        _sign_in(f"user{n}@example.com", "guess-1", f"2001:db8:1:2::{n + 1}")
    assert _sign_in("alice@example.com", PASSWORD, "2001:db8:1:2:ffff::1").status_code == 429
    assert _sign_in("alice@example.com", PASSWORD, "2001:db8:1:3::1").status_code == 302


def test_without_a_trusted_proxy_a_forged_x_forwarded_for_changes_nothing(no_proxy) -> None:
    make_customer("alice@example.com", "usmf:US-001")
    for n in range(7):
        _sign_in("alice@example.com", "wrong-password", f"192.0.2.{n + 1}")
    # Every attempt came from 127.0.0.1 whatever the header said: the pair is locked, a new forged address or none.
    assert _sign_in("alice@example.com", PASSWORD, ELSEWHERE).status_code == 429
    assert _sign_in("alice@example.com", PASSWORD).status_code == 429


def test_the_lookup_audit_and_the_request_log_carry_the_client_address(behind_one_proxy, fake_fno, caplog) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    client = Client()
    client.force_login(make_customer("alice@example.com", "usmf:US-001"))
    with caplog.at_level(logging.INFO, logger="portal.request"):
        response = client.get("/orders/usmf/000123/", HTTP_X_FORWARDED_FOR=f"6.6.6.6, {ATTACKER}")
    assert response.status_code == 200
    audit = LookupAudit.objects.get(reference=response["X-Reference"])
    assert audit.client_address == ATTACKER
    lines = [r for r in caplog.records if getattr(r, "event", "") == "request"]
    assert [r.client for r in lines] == [ATTACKER]
