"""What a lookup costs the portal, in work done rather than time: queries, cache clients, middleware, round trips.
(The time itself is measured by `make bench`.)"""

from __future__ import annotations

import contextvars
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from orders.middleware_stack import AuthenticationMiddleware, MessageMiddleware
from orders.parallel import read_alongside
from orders.resilience.rate_limit import counter_add
from orders.services import api_token_create, order_cache_purge
from tests.factories import order_row
from tests.fakes import FakeFnO

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
ORDER = "/api/v1/orders/usmf/000123"


@pytest.fixture
def order(fake_fno: FakeFnO) -> FakeFnO:
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001",
                                                      ConfirmedShippingDate="2026-12-12T12:00:00Z")]
    return fake_fno


def test_a_second_look_at_an_unchanged_order_reads_neither_what_the_user_saw_nor_the_promised_dates(
    alice, order: FakeFnO
) -> None:
    api = Client(HTTP_AUTHORIZATION="Bearer " + api_token_create(user=alice, name="phone")[1])
    first = api.get(ORDER).json()
    assert first["changes_since_last_view"] == []
    with CaptureQueriesContext(connection) as queries:
        again = api.get(ORDER)
    assert again.status_code == 200
    assert again.json()["promise_history"] == first["promise_history"]
    read = [q["sql"] for q in queries.captured_queries if "orderseen" in q["sql"] or "promisedate" in q["sql"]]
    assert read == []


def test_a_changed_order_is_compared_with_what_the_user_saw_at_once(alice, order: FakeFnO) -> None:
    api = Client(HTTP_AUTHORIZATION="Bearer " + api_token_create(user=alice, name="phone")[1])
    api.get(ORDER)
    api.get(ORDER)
    order.rows["SalesOrderHeadersV2"][0]["ConfirmedShippingDate"] = "2026-12-19T12:00:00Z"
    order_cache_purge(company="usmf", account="US-001", number="000123")  # the next look reads F&O
    body = api.get(ORDER).json()
    assert body["changes_since_last_view"] == [
        {"field": "confirmed_ship_date", "from": "2026-12-12", "to": "2026-12-19"}]
    assert [p["date"] for p in body["promise_history"]["confirmed_ship_date"]] == ["2026-12-12", "2026-12-19"]
    assert api.get(ORDER).json()["changes_since_last_view"] == []


@pytest.mark.postgres  # the services configuration: Redis
def test_a_cold_lookup_asks_redis_five_times_and_a_cached_one_once(alice, fake_fno: FakeFnO, monkeypatch) -> None:
    import redis

    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", n, "US-001") for n in ("000123", "000124")]
    api = Client(HTTP_AUTHORIZATION="Bearer " + api_token_create(user=alice, name="phone")[1])
    api.get("/api/v1/orders/usmf/000123")  # the first lookup of the process: the token, the accounts
    round_trips: list[str] = []
    command, execute = redis.Redis.execute_command, redis.client.Pipeline.execute

    def one(self: redis.Redis, *args: object, **options: object) -> object:
        round_trips.append(str(args[0]))
        return command(self, *args, **options)

    def pipelined(self: redis.client.Pipeline, *args: object, **options: object) -> object:
        round_trips.append("+".join(str(c[0][0]) for c in self.command_stack))
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", one)
    monkeypatch.setattr(redis.client.Pipeline, "execute", pipelined)
    assert api.get("/api/v1/orders/usmf/000124").status_code == 200
    # The API's rate limit; the copies (and the budget's counter); the single-flight lock with a look for a copy
    # that landed meanwhile; the budget's charge; the copy stored with the lock's release (if still ours).
    assert round_trips == ["EVALSHA", "MGET", "SET+MGET", "EVALSHA", "SET+EVAL"]
    round_trips.clear()
    assert api.get("/api/v1/orders/usmf/000124").status_code == 200
    assert round_trips == ["EVALSHA"]  # the rate limit; the copy is this process's for a second


@pytest.mark.postgres  # the services configuration: Redis
def test_a_failed_pipeline_answers_as_redis_down_and_the_lookup_reads_f_and_o(alice, fake_fno: FakeFnO, monkeypatch,
                                                                            caplog) -> None:
    import redis

    from orders.resilience import shared_cache

    def broken(self: redis.client.Pipeline, *args: object, **options: object) -> object:
        raise redis.exceptions.ConnectionError("pipeline lost")

    monkeypatch.setattr(redis.client.Pipeline, "execute", broken)
    monkeypatch.setattr(shared_cache, "_warned_at", [0.0])
    cache.set("test:there", "copy")
    # Not tried again call by call (in an outage that doubles the wait): nothing added, nothing found.
    assert shared_cache.add_then_get_many("test:lock", "mine", timeout=5, keys=("test:there",)) == (False, {})
    assert cache.get("test:lock") is None
    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    api = Client(HTTP_AUTHORIZATION="Bearer " + api_token_create(user=alice, name="phone")[1])
    assert api.get(ORDER).status_code == 200  # read without the lock it could not take, not after a wait
    raw = cache.client.get_client(write=True)  # type: ignore[attr-defined]  # django-redis's backend
    assert not list(raw.scan_iter(cache.make_key("sf:*")))
    assert caplog.text.count("cache.pipeline_failed") == 1  # three failures, one traceback a minute


def test_a_pool_thread_keeps_its_cache_client_from_one_read_to_the_next() -> None:
    seen = [read_alongside(lambda: caches["default"]).result() for _ in range(60)]
    # 24 threads at most: a client per thread, not one per read.
    assert len({id(client) for client in seen}) <= 24 < len(seen)


def test_a_read_alongside_sees_the_requests_context_and_leaves_the_thread_as_it_was() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("test_request", default="none")
    var.set("this request")
    assert read_alongside(var.get).result() == "this request"
    var.set("another")
    assert {read_alongside(var.get).result() for _ in range(30)} == {"another"}
    assert read_alongside(lambda: contextvars.copy_context().run(var.get)).result() == "another"


@pytest.mark.parametrize(("path", "runs"), [("/api/v1/orders", False), ("/orders/", True)])
def test_authentication_and_messages_step_aside_for_the_api_only(path: str, runs: bool) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    for middleware, attribute in ((AuthenticationMiddleware, "user"), (MessageMiddleware, "_messages")):
        request = RequestFactory().get(path)
        request.session = {}  # type: ignore[assignment]  # a stand-in: SessionMiddleware runs before both
        middleware(view)(request)
        assert hasattr(request, attribute) is runs


def test_the_content_security_policy_is_built_once_and_follows_its_setting(alice_client: Client, settings) -> None:
    assert "default-src 'none'" in alice_client.get("/account/tokens/")["Content-Security-Policy"]
    assert "default-src 'none'" in Client().get("/api/v1/orders")["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    assert alice_client.get("/account/tokens/")["Content-Security-Policy"] == "default-src 'self'"
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    assert "img-src 'self'" in alice_client.get("/account/tokens/")["Content-Security-Policy-Report-Only"]


@pytest.mark.postgres  # the services configuration: Redis
def test_a_shared_counter_lives_for_its_window_and_the_revocation_generation_forever() -> None:
    raw = cache.client.get_client(write=True)  # type: ignore[attr-defined]  # django-redis's backend
    assert [counter_add("test:window", timeout=7) for _ in range(3)] == [1, 2, 3]
    assert 0 < raw.ttl(cache.make_key("test:window")) <= 7
    assert counter_add("test:window", 5, timeout=7) == 8
    assert cache.get("test:window") == 8  # read back through the cache as an integer
    assert counter_add("test:forever", timeout=None) == 1
    assert raw.ttl(cache.make_key("test:forever")) == -1


def test_loading_the_portal_opens_no_connection_and_starts_no_thread() -> None:
    """What gunicorn's preload_app needs: the master imports the portal, URLconf and views included (so that no
    worker's first request pays for them), then forks workers that must share nothing opened before the fork."""
    script = (
        "import threading\n"
        "import sys\n"
        "import portal.wsgi\n"
        "assert {'portal.urls', 'orders.views.api', 'orders.views.web'} <= set(sys.modules), 'the URLconf, lazily'\n"
        "from django.db import connections\n"
        "from django_redis.pool import ConnectionFactory\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert all(c.connection is None for c in connections.all()), 'a database connection'\n"
        "assert not ConnectionFactory._pools, 'a Redis connection pool'\n"
        "print('ok')\n"
    )
    env = {"DJANGO_SETTINGS_MODULE": "portal.settings", "DJANGO_SECRET_KEY": "x" * 50, "DJANGO_DEBUG": "false",
           "DJANGO_ALLOWED_HOSTS": "localhost", "REDIS_URL": "redis://127.0.0.1:6379/15", "D365_URL": "http://fno.test",
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_cachalot_keys_no_query_on_an_uncachable_table_and_keeps_its_own_key_for_the_rest() -> None:
    from cachalot.utils import UncachableQuery, get_query_cache_key
    from django.contrib.auth.models import User

    from orders.models import OrderSeen
    from portal.query_cache import query_cache_key

    seen = OrderSeen.objects.filter(user_id=1, company="usmf").query.get_compiler("default")
    with pytest.raises(UncachableQuery):
        query_cache_key(seen)
    users = User.objects.filter(pk=1).query.get_compiler("default")
    assert query_cache_key(users) == get_query_cache_key(User.objects.filter(pk=1).query.get_compiler("default"))


def test_an_account_linked_in_this_process_is_seen_at_once(alice) -> None:
    from orders.accounts import AccountRef, customer_accounts_for_id
    from orders.models import CustomerAccountLink

    before = customer_accounts_for_id(user_id=alice.pk)
    link = CustomerAccountLink.objects.create(user=alice, company="demf", account="DE-001")
    assert customer_accounts_for_id(user_id=alice.pk) == tuple(sorted((*before, AccountRef("demf", "DE-001"))))
    link.delete()
    assert customer_accounts_for_id(user_id=alice.pk) == before
