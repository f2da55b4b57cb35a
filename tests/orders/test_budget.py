"""A budget of F&O reads per user, remembered "not found" answers, and a cap on API tokens."""

from __future__ import annotations

import pytest
from django.test import Client

from orders import cached_reads
from orders.accounts import AccountRef
from orders.resilience.rate_limit import Rate, rate_take
from orders.selectors import order_cache_key, order_get_for_customer
from orders.services import TokenLimitReached, api_token_create, order_cache_purge
from tests.factories import make_customer, order_row, staff_client
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db

BUDGET = 10


@pytest.fixture
def small_budget(settings):
    settings.ORDERS_USER_BUDGET = (BUDGET, 60)
    return BUDGET


def _header_requests(requests: list[dict], entity_set: str = "SalesOrderHeadersV2") -> list[dict]:
    return [r for r in requests if r["entity_set"] == entity_set]


@pytest.mark.integration
def test_one_user_asking_for_80_missing_orders_is_stopped_at_the_budget(live_fno, small_budget) -> None:
    mallory = make_customer("mallory@example.com", "usmf:US-001")
    make_customer("bob@example.com", "usmf:US-002")
    web = Client()
    web.force_login(mallory)
    statuses = [web.get(f"/orders/usmf/NOPE-{n:03d}/").status_code for n in range(80)]
    assert statuses.count(404) == BUDGET
    assert statuses.count(429) == 80 - BUDGET
    assert set(statuses) == {404, 429}
    # F&O saw at most the budget's worth of lookups: one header read (plus its documents) per lookup.
    assert len(_header_requests(live_fno.requests())) == BUDGET
    refused = web.get("/orders/usmf/NOPE-999/")
    assert int(refused["Retry-After"]) >= 1
    assert b"many orders in a short time" in refused.content

    # Another user in the same seconds is answered normally.
    bob = Client()
    bob.force_login(make_customer("bob@example.com", "usmf:US-002"))
    listing = bob.get("/orders/")
    assert listing.status_code == 200
    number = listing.content.decode().split('href="/orders/usmf/', 1)[1].split("/", 1)[0]
    assert bob.get(f"/orders/usmf/{number}/").status_code == 200


def test_the_budget_is_shared_by_the_web_and_the_api(alice, alice_client, fake_fno: FakeFnO, small_budget) -> None:
    for n in range(BUDGET):
        assert alice_client.get(f"/orders/usmf/MISSING-{n}/").status_code == 404
    _, token = api_token_create(user=alice, name="phone")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.get("/api/v1/orders/usmf/MISSING-X")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1


def test_copies_in_the_cache_cost_nothing_from_the_budget(alice_client, fake_fno: FakeFnO, small_budget) -> None:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    for _ in range(BUDGET * 3):
        assert alice_client.get("/orders/usmf/000123/").status_code == 200
        assert alice_client.get("/orders/").status_code == 200


def test_a_missing_order_asked_again_costs_f_and_o_nothing(alice_client, fake_fno: FakeFnO, settings) -> None:
    settings.D365_DOCUMENTS_IN_PARALLEL = False
    assert alice_client.get("/orders/usmf/000999/").status_code == 404
    assert len(fake_fno.requests) == 1
    for _ in range(5):
        assert alice_client.get("/orders/usmf/000999/").status_code == 404
    assert len(fake_fno.requests) == 1


def test_a_remembered_not_found_is_per_user(alice_client, bob_client, fake_fno: FakeFnO, settings) -> None:
    settings.D365_DOCUMENTS_IN_PARALLEL = False
    assert alice_client.get("/orders/usmf/000123/").status_code == 404
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-002")]
    assert bob_client.get("/orders/usmf/000123/").status_code == 200


def test_a_user_holds_at_most_the_configured_number_of_live_tokens(alice, alice_client, settings) -> None:
    settings.API_TOKENS_PER_USER = 3
    tokens = [api_token_create(user=alice, name=f"device {n}")[0] for n in range(3)]
    with pytest.raises(TokenLimitReached):
        api_token_create(user=alice, name="one too many")
    response = alice_client.post("/account/tokens/", {"name": "tablet", "expires_in_days": ""})
    assert response.status_code == 400
    assert b"You already have 3 tokens" in response.content
    alice_client.post(f"/account/tokens/{tokens[0].pk}/revoke/")
    assert alice_client.post("/account/tokens/", {"name": "tablet", "expires_in_days": ""}).status_code == 200


def test_the_hot_copy_is_kept_under_the_key_it_was_found_under(fake_fno: FakeFnO, db) -> None:
    # A user with two accounts in one company; the order belongs to the second.
    accounts = (AccountRef("usmf", "US-001"), AccountRef("usmf", "US-002"))
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-002")]
    order_get_for_customer(accounts=accounts, company="usmf", number="000123", request_id="T")
    cached_reads.local_cache_clear()  # as in another worker: only the shared copy is there
    order_get_for_customer(accounts=accounts, company="usmf", number="000123", request_id="T")
    reads = len(fake_fno.requests)
    order_cache_purge(company="usmf", account="US-002", number="000123")
    # After a purge this process must read F&O again, not serve a hot copy parked under the wrong key.
    lookup = order_get_for_customer(accounts=accounts, company="usmf", number="000123", request_id="T")
    assert lookup.source == "live"
    assert len(fake_fno.requests) > reads
    assert order_cache_key(company="usmf", account="US-001", number="000123") not in cached_reads._local._data


def test_a_staff_member_without_accounts_lands_on_the_staff_lookup(db) -> None:
    from orders.roles import AGENT, roles_sync

    roles_sync()
    client = staff_client("agent@example.com", AGENT)
    response = client.get("/orders/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/orders/"
    assert client.get("/").url == "/orders/"


def test_a_user_over_budget_does_not_refuse_another_user_waiting_on_the_same_read(fake_fno: FakeFnO, settings,
                                                                                  db) -> None:
    import threading

    import httpx

    settings.ORDERS_USER_BUDGET = (1, 60)
    accounts = (AccountRef("usmf", "US-001"),)
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    rate_take("budget:user:1", Rate(1, 60))  # user:1 has spent their one read
    entered, release = threading.Event(), threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(5)
        return httpx.Response(200, json={"value": fake_fno.rows["SalesOrderHeadersV2"]})

    results: dict[str, object] = {}

    def ask(who: str) -> None:
        try:
            results[who] = order_get_for_customer(accounts=accounts, company="usmf", number="000123",
                                                  request_id=who, budget=who).source
        except Exception as exc:
            results[who] = type(exc).__name__

    # user:2 asks first and waits inside the read; user:1 (over budget) is refused; both stay separate.
    fake_fno.script = [slow]
    second = threading.Thread(target=ask, args=("user:2",))
    second.start()
    assert entered.wait(5)
    ask("user:1")
    release.set()
    second.join(10)
    assert results == {"user:1": "LookupBudgetExceeded", "user:2": "live"}
