"""Guest tracking's limits against enumeration: per network (an IPv6 /64 as one address), per postal code or
reference across order numbers, one budget of F&O reads for all guests, and no limit lifted by a cache outage."""

from __future__ import annotations

import html

import pytest
from django.core.cache import cache
from django.test import Client

from orders import cached_reads
from orders.exceptions import LimitsUnavailable
from orders.models import LookupAudit
from orders.resilience import rate_limit
from tests.factories import PASSWORD, order_row
from tests.fakes import CacheDown, FakeFnO

pytestmark = pytest.mark.django_db

HEADERS = "SalesOrderHeadersV2"


@pytest.fixture(autouse=True)
def _guest_tracking_on(settings) -> None:
    settings.GUEST_TRACKING = True


def _post(client: Client, number: str, verification: str, address: str = "203.0.113.7"):
    return client.post("/track/", {"order_number": number, "verification": verification}, REMOTE_ADDR=address)


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_every_address_of_one_ipv6_64_shares_one_allowance(client: Client, fake_fno: FakeFnO) -> None:
    for n in range(5):
        assert _post(client, f"00{n}999", "00000", address=f"2001:db8:1:2::{n + 1}").status_code == 200
    refused = _post(client, "001001", "00000", address="2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert refused.status_code == 429
    assert len(fake_fno.requests) == 5
    assert _post(client, "001001", "00000", address="2001:db8:1:3::1").status_code == 200  # the next /64


def test_the_f_and_o_budget_of_a_guest_is_one_per_ipv6_64_too(client: Client, fake_fno: FakeFnO, settings) -> None:
    settings.ORDERS_USER_BUDGET = (2, 60)
    assert _post(client, "001001", "11111", address="2001:db8:9:9::1").status_code == 200
    assert _post(client, "001002", "11111", address="2001:db8:9:9::2").status_code == 200
    over = _post(client, "001003", "11111", address="2001:db8:9:9::3")
    assert over.status_code == 429
    assert "Too many tries" in _text(over)
    assert len(fake_fno.requests) == 2


def test_one_postal_code_cannot_walk_the_order_numbers(client: Client, fake_fno: FakeFnO, settings) -> None:
    assert settings.GUEST_TRACKING_TRIES_PER_FACT == (20, 3600)
    # A business's warehouse postal code is public; its order numbers are sequential. Each number is tried once,
    # from a new address every time, so neither of the other limits ever triggers.
    for n in range(20):
        spelled = ("QX7 5ZZ", "qx7 5zz", " Qx7 5zZ ")[n % 3]  # as F&O compares: one postal code
        assert _post(client, f"{1000 + n:06d}", spelled, address=f"198.51.100.{n + 1}").status_code == 200
    assert len(fake_fno.requests) == 20
    for spelled in ("QX7 5ZZ", "QX75ZZ", "\uff51\uff58\uff17 \uff15\uff5a\uff5a"):
        refused = _post(client, "002000", spelled, address="192.0.2.77")
        assert refused.status_code == 429
        assert refused["Retry-After"]
        assert "each postal code or reference" in _text(refused)
    assert len(fake_fno.requests) == 20
    assert _post(client, "002000", "10115", address="192.0.2.77").status_code == 200  # another fact


def test_a_refused_fact_does_not_use_up_the_order_numbers_tries(client: Client, fake_fno: FakeFnO, settings) -> None:
    settings.GUEST_TRACKING_TRIES_PER_FACT = (1, 3600)
    assert _post(client, "001001", "92101", address="198.51.100.1").status_code == 200
    for n in range(6):
        assert _post(client, "001001", "92101", address=f"198.51.100.{n + 2}").status_code == 429
    assert _post(client, "001001", "10115", address="198.51.100.20").status_code == 200


def test_guests_share_one_budget_of_f_and_o_reads(client: Client, fake_fno: FakeFnO, settings, alice) -> None:
    settings.GUEST_TRACKING_READS_PER_MINUTE = 3
    fake_fno.rows[HEADERS] = [order_row("usmf", "001001", "US-001", DeliveryAddressZipCode="92101")]
    for n in range(3):
        assert _post(client, f"00{n}999", "00000", address=f"198.51.100.{n + 1}").status_code == 200
    busy = _post(client, "001001", "92101", address="192.0.2.1")  # a new guest, with the right postal code
    assert busy.status_code == 429
    assert 0 < int(busy["Retry-After"]) <= 60
    page = _text(busy)
    assert "Tracking is busy" in page
    assert "Too many tries" not in page
    assert len(fake_fno.requests) == 3
    assert LookupAudit.objects.filter(problem="guests_over_budget").count() == 1
    # A try F&O already answered costs no read: the cached answer still comes.
    assert _post(client, "000999", "00000", address="198.51.100.1").status_code == 200
    assert len(fake_fno.requests) == 3
    # Customers are not guests: their reads are theirs.
    customer = Client()
    assert customer.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD}
                         ).status_code == 302
    assert customer.get("/orders/usmf/001001/").status_code == 200


def test_the_bookmarked_link_waits_too_when_guests_reads_are_used_up(
    client: Client, fake_fno: FakeFnO, settings
) -> None:
    fake_fno.rows[HEADERS] = [order_row("usmf", "001001", "US-001", DeliveryAddressZipCode="92101")]
    response = _post(client, "001001", "92101")
    assert response.status_code == 303
    link = response["Location"]
    cache.clear()
    cached_reads.local_cache_clear()
    settings.GUEST_TRACKING_READS_PER_MINUTE = 1
    assert _post(client, "009999", "00000", address="198.51.100.9").status_code == 200
    before = len(fake_fno.requests)
    busy = Client().get(link, REMOTE_ADDR="192.0.2.1")
    assert busy.status_code == 429
    assert "Tracking is busy" in _text(busy)
    assert len(fake_fno.requests) == before


# Each of the guest's own budget and the one all guests share holds on its own when the other is turned off.
@pytest.mark.parametrize("turned_off", [{"GUEST_TRACKING_READS_PER_MINUTE": 0}, {"ORDERS_USER_BUDGET": None}, {}])
def test_a_cache_outage_pauses_guest_tracking_instead_of_lifting_its_limits(
    client: Client, fake_fno: FakeFnO, monkeypatch, settings, turned_off: dict[str, object]
) -> None:
    for name, value in turned_off.items():
        setattr(settings, name, value)
    fake_fno.rows[HEADERS] = [order_row("usmf", "001001", "US-001", DeliveryAddressZipCode="92101")]
    link = _post(client, "001001", "92101")["Location"]
    cache.clear()
    cached_reads.local_cache_clear()
    fake_fno.requests.clear()
    monkeypatch.setattr(rate_limit, "cache", CacheDown())
    for response in (_post(client, "001001", "92101"), client.get(link)):
        assert response.status_code == 503
        assert response["Retry-After"] == "60"
        page = _text(response)
        assert "Tracking is paused for a moment" in page
        assert "We could not find" not in page
    assert fake_fno.requests == []
    assert list(LookupAudit.objects.filter(problem="limits_unavailable").values_list("outcome", flat=True)) == [
        "unavailable", "unavailable"]


def test_a_cache_outage_still_lets_limits_of_signed_in_customers_through(monkeypatch) -> None:
    monkeypatch.setattr(rate_limit, "cache", CacheDown())
    assert rate_limit.rate_take("refresh:1", rate_limit.Rate(1, 60)) is None
    with pytest.raises(LimitsUnavailable):
        rate_limit.rate_take("guest:address:x", rate_limit.Rate(1, 60), fail_closed=True)
