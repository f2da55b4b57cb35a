"""Every fault, switched on in the simulator over a real socket, seen through the web pages and the API.

Each gives its documented status and page or problem body, or the stale copy; never a 500 or a traceback; and the
portal recovers once the fault ends.
"""

from __future__ import annotations

import html
import time

import pytest
from django.test import Client

from orders import d365
from orders.odata.auth import MsalTokenProvider, StaticTokenProvider
from orders.services import api_token_create
from tests.factories import make_customer
from tests.fakes import AUTHORITY, FakeIdentityProvider

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
TIMEOUT = 1.0
ORDER = "/orders/usmf/001001/"
API_ORDER = "/api/v1/orders/usmf/001001"

FAULTS = [
    # (switches, status, retry_after, words on the page, problem code)
    ({"latency": 1.5}, 504, None, "taking too long", "upstream_timeout"),
    ({"hang": True}, 504, None, "taking too long", "upstream_timeout"),
    ({"reset": True}, 503, None, "can't reach", "upstream_unavailable"),
    ({"status": 500}, 503, None, "can't reach", "upstream_unavailable"),
    ({"status": 503, "retry_after": "9"}, 503, "9", "can't reach", "upstream_unavailable"),
    ({"status": 429, "retry_after": "25"}, 503, "25", "busy", "upstream_throttled"),
    ({"status": 401}, 503, None, "can't sign in", "upstream_auth"),
    ({"malformed": True}, 502, None, "couldn't read", "upstream_bad_answer"),
    ({"truncate": True}, 503, None, "can't reach", "upstream_unavailable"),
    ({"slow_body": 0.4}, 504, None, "taking too long", "upstream_timeout"),
]


@pytest.fixture
def portal(live_fno, settings):
    settings.D365_TIMEOUT_SECONDS = TIMEOUT
    settings.D365_BREAKER_FAILURES = 1000  # the breaker has its own tests; here each fault shows itself
    settings.API_RATE_LIMIT = None
    d365.set_odata_client(d365.build_odata_client(tokens=StaticTokenProvider()))
    user = make_customer("alice@example.com", "usmf:US-001")
    web = Client()
    web.force_login(user)
    _, token = api_token_create(user=user, name="phone")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return web, api


def _clear_backoff() -> None:
    from orders.resilience.breaker import breaker_reset

    breaker_reset()


@pytest.mark.parametrize(("switches", "status", "retry_after", "words", "code"), FAULTS)
def test_fault_without_a_copy(portal, live_fno, switches, status, retry_after, words, code) -> None:
    web, api = portal
    live_fno.set_faults(**switches)
    began = time.monotonic()
    page = web.get(ORDER)
    # Bounded by the lookup's deadline, not by a hang: the bound only catches a hang (the tight figures are
    # `make bench`'s); the status and page below prove which fault it was.
    assert time.monotonic() - began < TIMEOUT * 10
    assert page.status_code == status
    assert page.get("Retry-After") == retry_after
    text = html.unescape(page.content.decode())
    assert words in text
    assert page["X-Reference"] in text
    assert "Traceback" not in text
    _clear_backoff()
    problem = api.get(API_ORDER)
    assert problem.status_code == status
    assert problem["Content-Type"] == "application/problem+json"
    assert problem.json()["code"] == code
    assert problem.get("Retry-After") == retry_after

    live_fno.clear_faults()
    _clear_backoff()
    assert web.get(ORDER).status_code == 200
    assert api.get(API_ORDER).status_code == 200


@pytest.mark.parametrize(("switches", "status", "retry_after", "words", "code"), FAULTS)
def test_fault_with_a_stale_copy(portal, live_fno, settings, switches, status, retry_after, words, code) -> None:
    web, api = portal
    settings.ORDERS_CACHE_SECONDS = 0
    assert web.get(ORDER).status_code == 200
    live_fno.set_faults(**switches)
    page = web.get(ORDER)
    assert page.status_code == 200
    assert "This is the status as of" in html.unescape(page.content.decode())
    body = api.get(API_ORDER).json()
    assert body["stale"] is True
    assert body["number"] == "001001"
    live_fno.clear_faults()
    _clear_backoff()
    assert api.get(API_ORDER).json()["stale"] is False


def test_token_endpoint_failing_then_recovering(portal, live_fno, settings) -> None:
    web, api = portal
    idp = FakeIdentityProvider(fail_with={"error": "temporarily_unavailable"}, status_code=503, retry_after="1")
    tokens = MsalTokenProvider(client_id="c", authority=AUTHORITY, scope="s", client_secret="x",
                               http_client=idp.http_client(), instance_discovery=False)
    d365.set_odata_client(d365.build_odata_client(tokens=tokens))
    page = web.get(ORDER)
    assert page.status_code == 503
    assert "can't sign in" in html.unescape(page.content.decode())
    assert api.get(API_ORDER).json()["code"] == "upstream_auth"
    assert live_fno.requests() == []  # no token, no call
    idp.fail_with = None
    time.sleep(1.1)  # MSAL itself holds a failed token request back for the identity provider's Retry-After
    assert web.get(ORDER).status_code == 200
    assert live_fno.requests()[-1]["authorization"] is True


def test_401_then_recovery_refreshes_the_token(portal, live_fno) -> None:
    web, _api = portal
    idp = FakeIdentityProvider()
    tokens = MsalTokenProvider(client_id="c", authority=AUTHORITY, scope="s", client_secret="x",
                               http_client=idp.http_client(), instance_discovery=False)
    d365.set_odata_client(d365.build_odata_client(tokens=tokens))
    live_fno.set_faults(status=401, count=1)
    assert web.get(ORDER).status_code == 200
    assert idp.token_requests == 2
