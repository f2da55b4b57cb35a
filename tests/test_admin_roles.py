"""An Administrator (group "Administrator", staff, not superuser) manages customers, links and tokens, but cannot
grant powers or take over an account that holds more than they do. Every attempt below must be refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client

from orders.roles import ADMINISTRATOR, AGENT
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "a-new-long-password-2026"


@pytest.fixture
def boss():
    user = User.objects.create_user(username="boss@example.com", email="boss@example.com",
                                    password="pw-long-enough-1", is_staff=True)
    user.groups.add(Group.objects.get(name=ADMINISTRATOR))
    return user


@pytest.fixture
def boss_client(boss) -> Client:
    client = Client()
    client.force_login(boss)
    return client


@pytest.fixture
def root():
    return User.objects.create_superuser(username="root@example.com", email="root@example.com",
                                         password="pw-long-enough-1")


@pytest.fixture
def customer():
    return make_customer("alice@example.com", "usmf:US-001")


@pytest.fixture
def powerful_staff():
    """Not a superuser, but holds a permission administrators lack."""
    user = User.objects.create_user(username="ops@example.com", email="ops@example.com", password="pw-long-enough-1",
                                    is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="delete_user"))
    return user


def _form(user, **changes) -> dict:
    data = {
        "username": user.username, "email": user.email, "first_name": "", "last_name": "",
        "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "account_links-TOTAL_FORMS": "0", "account_links-INITIAL_FORMS": "0",
        "account_links-MIN_NUM_FORMS": "0", "account_links-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def _change(client: Client, user, **changes):
    return client.post(f"/admin/auth/user/{user.pk}/change/", _form(user, **changes))


def test_an_administrator_still_manages_customers(boss_client, customer) -> None:
    response = _change(boss_client, customer, email="alice.new@example.com",
                       groups=[Group.objects.get(name=AGENT).pk])
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email == "alice.new@example.com"
    assert list(customer.groups.values_list("name", flat=True)) == [AGENT]
    reset = boss_client.post(f"/admin/auth/user/{customer.pk}/password/",
                             {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert reset.status_code == 302
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)


def test_an_administrator_cannot_make_themselves_superuser(boss_client, boss) -> None:
    _change(boss_client, boss, is_superuser="on", is_staff="on")
    boss.refresh_from_db()
    assert not boss.is_superuser


def test_an_administrator_cannot_make_a_customer_staff_or_superuser(boss_client, customer) -> None:
    _change(boss_client, customer, is_staff="on", is_superuser="on")
    customer.refresh_from_db()
    assert not customer.is_staff
    assert not customer.is_superuser


def test_an_administrator_cannot_take_staff_status_away(boss_client) -> None:
    colleague = User.objects.create_user(username="agent@example.com", email="agent@example.com",
                                         password="pw-long-enough-1", is_staff=True)
    colleague.groups.add(Group.objects.get(name=AGENT))
    _change(boss_client, colleague, groups=[Group.objects.get(name=AGENT).pk])  # is_staff not sent: unticked
    colleague.refresh_from_db()
    assert colleague.is_staff


def test_an_administrator_cannot_hand_out_permissions(boss_client, customer) -> None:
    permission = Permission.objects.get(codename="delete_user")
    _change(boss_client, customer, user_permissions=[permission.pk])
    assert not customer.user_permissions.exists()


def test_an_administrator_cannot_give_a_group_other_than_the_portal_roles(boss_client, customer) -> None:
    mighty = Group.objects.create(name="Mighty")
    mighty.permissions.add(Permission.objects.get(codename="delete_user"))
    response = _change(boss_client, customer, groups=[mighty.pk])
    assert response.status_code == 200  # the form says the choice is not available
    assert not customer.groups.exists()


def test_saving_a_user_keeps_groups_only_a_superuser_can_give(boss_client, customer) -> None:
    mighty = Group.objects.create(name="Mighty")
    customer.groups.add(mighty)
    assert _change(boss_client, customer, groups=[Group.objects.get(name=AGENT).pk]).status_code == 302
    assert set(customer.groups.values_list("name", flat=True)) == {"Mighty", AGENT}


def test_an_administrator_cannot_open_a_superusers_account(boss_client, root) -> None:
    page = boss_client.get(f"/admin/auth/user/{root.pk}/change/")
    assert page.status_code == 302  # "does not exist", as for any user not theirs to see
    assert root.username not in boss_client.get("/admin/auth/user/").content.decode()


def test_an_administrator_cannot_change_a_superusers_account(boss_client, root) -> None:
    _change(boss_client, root, email="mine@example.com")
    root.refresh_from_db()
    assert root.email == "root@example.com"


def test_an_administrator_cannot_reset_a_superusers_password(boss_client, root) -> None:
    response = boss_client.post(f"/admin/auth/user/{root.pk}/password/",
                                {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code in (302, 403, 404)
    root.refresh_from_db()
    assert not root.check_password(NEW_PASSWORD)


@pytest.mark.parametrize("action", ["deactivate_users", "revoke_tokens"])
def test_an_administrators_bulk_action_cannot_reach_a_superuser(boss_client, root, customer, action) -> None:
    from orders.services import api_token_create

    token, _ = api_token_create(user=root, name="root's script")
    boss_client.post("/admin/auth/user/", {"action": action, "_selected_action": [root.pk, customer.pk]})
    root.refresh_from_db()
    token.refresh_from_db()
    assert root.is_active
    assert token.revoked_at is None


def test_an_administrator_cannot_delete_a_superuser(boss_client, root) -> None:
    boss_client.post(f"/admin/auth/user/{root.pk}/delete/", {"post": "yes"})
    boss_client.post("/admin/auth/user/", {"action": "delete_selected", "_selected_action": [root.pk],
                                           "post": "yes"})
    assert User.objects.filter(pk=root.pk).exists()


def test_an_administrator_cannot_take_over_an_account_with_more_permissions(boss_client, powerful_staff) -> None:
    reset = boss_client.post(f"/admin/auth/user/{powerful_staff.pk}/password/",
                             {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert reset.status_code == 403
    _change(boss_client, powerful_staff, email="mine@example.com")
    boss_client.post("/admin/auth/user/", {"action": "deactivate_users", "_selected_action": [powerful_staff.pk]})
    powerful_staff.refresh_from_db()
    assert not powerful_staff.check_password(NEW_PASSWORD)
    assert powerful_staff.email == "ops@example.com"
    assert powerful_staff.is_active


def test_an_administrator_cannot_create_a_staff_or_superuser_account(boss_client) -> None:
    response = boss_client.post("/admin/auth/user/add/", {
        "username": "new@example.com", "usable_password": "true", "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD, "is_staff": "on", "is_superuser": "on",
        "groups": [Group.objects.create(name="Mighty").pk],
        "user_permissions": [Permission.objects.get(codename="delete_user").pk],
        "account_links-TOTAL_FORMS": "0", "account_links-INITIAL_FORMS": "0",
        "account_links-MIN_NUM_FORMS": "0", "account_links-MAX_NUM_FORMS": "1000",
    })
    assert response.status_code == 302
    created = User.objects.get(username="new@example.com")
    assert not created.is_staff
    assert not created.is_superuser
    assert not created.groups.exists()
    assert not created.user_permissions.exists()


def test_a_superuser_can_still_do_all_of_it(root, customer) -> None:
    client = Client()
    client.force_login(root)
    permission = Permission.objects.get(codename="delete_user")
    data = _form(customer, is_staff="on", user_permissions=[permission.pk])
    assert client.post(f"/admin/auth/user/{customer.pk}/change/", data).status_code == 302
    customer.refresh_from_db()
    assert customer.is_staff
    assert customer.user_permissions.filter(pk=permission.pk).exists()


def test_an_administrator_cannot_see_or_revoke_a_superusers_tokens(boss_client, root, customer) -> None:
    from orders.models import ApiToken
    from orders.services import api_token_create

    root_token, _ = api_token_create(user=root, name="root laptop")
    customer_token, _ = api_token_create(user=customer, name="phone")
    listing = boss_client.get("/admin/orders/apitoken/")
    assert b"phone" in listing.content
    assert b"root laptop" not in listing.content
    boss_client.post("/admin/orders/apitoken/", {"action": "revoke", "_selected_action": [root_token.pk]})
    assert ApiToken.objects.get(pk=root_token.pk).revoked_at is None
    assert boss_client.get(f"/admin/orders/apitoken/{root_token.pk}/change/").status_code in (302, 404)
    assert ApiToken.objects.get(pk=customer_token.pk).revoked_at is None
