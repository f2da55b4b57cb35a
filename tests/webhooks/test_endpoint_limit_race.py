"""WEBHOOKS_PER_USER holds when requests arrive together: each is counted again, under a lock on the user's row, after
its slow DNS lookup. The lookups here wait for one another, so every request has passed the first count before any
of them registers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from webhooks import guard
from webhooks.models import WebhookEndpoint
from webhooks.services import EndpointLimitReached, endpoint_create

REQUESTS = 4  # at most webhooks.guard's lookups at once


def test_a_user_at_the_limit_is_refused_before_the_dns_lookup(alice, dns, settings) -> None:
    settings.WEBHOOKS_PER_USER = 1
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    dns.answers["hooks.test"] = ["127.0.0.1"]
    endpoint_create(user_id=alice.pk, url="http://hooks.test/1")
    with pytest.raises(EndpointLimitReached):
        endpoint_create(user_id=alice.pk, url="http://hooks.test/2")
    assert dns.asked == ["hooks.test"]


# PostgreSQL only (SQLite lets one writer in at a time: a second registration fails, it never adds one too many).
# Marked, not skipped: `make test` fails on a skipped test.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_stop_at_the_limit(alice, settings) -> None:
    settings.WEBHOOKS_PER_USER = 2
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_DNS_TIMEOUT_SECONDS = 10.0
    all_looking_up = threading.Barrier(REQUESTS, timeout=10)

    def resolve(host: str, port: int) -> list[str]:
        all_looking_up.wait()
        return ["127.0.0.1"]

    results: list[Any] = []

    def register(n: int) -> None:
        try:
            results.append(endpoint_create(user_id=alice.pk, url=f"http://hooks.test/{n}")[0])
        except EndpointLimitReached as exc:
            results.append(exc)
        finally:
            connection.close()

    guard.set_resolver(resolve)
    try:
        threads = [threading.Thread(target=register, args=(n,)) for n in range(REQUESTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        guard.set_resolver(None)

    assert len(results) == REQUESTS
    assert sum(isinstance(r, EndpointLimitReached) for r in results) == REQUESTS - 2
    assert WebhookEndpoint.objects.filter(user=alice).count() == 2
