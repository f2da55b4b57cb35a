from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from orders.models import CustomerAccountLink

pytestmark = pytest.mark.django_db


def _links(email: str) -> set[str]:
    return {str(link) for link in CustomerAccountLink.objects.filter(user__username=email)}


def test_add_customer_user_is_idempotent() -> None:
    out = io.StringIO()
    args = ["--email", "Eve@Example.com", "--password", "pw-long-enough-1", "--account", "usmf:US-001",
            "--account", "DEMF:DE-001"]
    call_command("add_customer_user", *args, stdout=out)
    call_command("add_customer_user", *args, stdout=out)
    assert get_user_model().objects.filter(username="eve@example.com").count() == 1
    assert _links("eve@example.com") == {"usmf:US-001", "demf:DE-001"}
    assert out.getvalue().splitlines()[0].startswith("created")
    assert out.getvalue().splitlines()[1].startswith("updated")
    assert get_user_model().objects.get(username="eve@example.com").check_password("pw-long-enough-1")


def test_replace_accounts_drops_other_links() -> None:
    call_command("add_customer_user", "--email", "e@example.com", "--no-password", "--account", "usmf:US-001",
                 stdout=io.StringIO())
    call_command("add_customer_user", "--email", "e@example.com", "--no-password", "--account", "usmf:US-002",
                 "--replace-accounts",
                 stdout=io.StringIO())
    assert _links("e@example.com") == {"usmf:US-002"}


@pytest.mark.parametrize("account", ["usmf", "usmf:", "us mf:US-1", "usmf:US 1", "usmf:x'y"])
def test_bad_account_is_refused(account: str) -> None:
    with pytest.raises(CommandError):
        call_command("add_customer_user", "--email", "e@example.com", "--account", account)


def test_csv_import_creates_many_and_is_all_or_nothing(tmp_path) -> None:
    good = tmp_path / "users.csv"
    good.write_text("email,password,accounts\na@example.com,pw-long-enough-1,usmf:US-001\n"
                    "b@example.com,,usmf:US-002;demf:DE-002\n")
    out = io.StringIO()
    call_command("import_customer_users", str(good), stdout=out)
    assert "2 created" in out.getvalue()
    assert _links("b@example.com") == {"usmf:US-002", "demf:DE-002"}
    bad = tmp_path / "bad.csv"
    bad.write_text("email,password,accounts\nc@example.com,,usmf:US-003\nd@example.com,,broken\n")
    with pytest.raises(CommandError, match="line 3"):
        call_command("import_customer_users", str(bad))
    assert not get_user_model().objects.filter(username="c@example.com").exists()


def test_prune_audit_forgets_old_lookups_and_orphaned_snapshots(alice_client, fake_fno, settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import LookupAudit, LookupSnapshot
    from tests.factories import order_row

    fake_fno.rows["SalesOrderHeadersV2"] = [order_row("usmf", "000123", "US-001")]
    alice_client.get("/orders/usmf/000123/")
    alice_client.get("/orders/")
    assert LookupAudit.objects.count() == 2
    assert LookupSnapshot.objects.count() == 2
    old = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS + 1)
    LookupAudit.objects.filter(kind="order").update(at=old)
    LookupSnapshot.objects.update(created_at=old)
    out = io.StringIO()
    call_command("prune_audit", stdout=out)
    assert "1 audit records and 1 snapshots deleted" in out.getvalue()
    assert LookupAudit.objects.get().kind == "list"


@pytest.mark.integration
def test_seed_demo_customers_see_the_simulators_orders(live_fno) -> None:
    from django.test import Client

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    client = Client()
    response = client.post("/accounts/login/", {"username": "carla@example.com", "password": "demo-orders-2026"})
    assert response.status_code == 302
    page = client.get("/orders/").content.decode()
    assert "/orders/usmf/" in page
    assert "/orders/demf/" in page


def test_csv_import_reads_standard_input_for_a_dash() -> None:
    out = io.StringIO()
    csv_text = "email,password,accounts\na@example.com,,usmf:US-001\n"
    call_command("import_customer_users", "-", stdin=io.StringIO(csv_text), stdout=out)
    assert "1 created" in out.getvalue()
    assert _links("a@example.com") == {"usmf:US-001"}
