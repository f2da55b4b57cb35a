"""Two staff roles as Django groups: support agents look up, replay and purge; administrators also manage users,
account links and tokens. Kept in step on every migrate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

AGENT = "Support agent"
ADMINISTRATOR = "Administrator"

AGENT_PERMISSIONS = [
    ("orders", "lookup_any_order"),
    ("orders", "purge_order_cache"),
    ("orders", "view_fno_health"),
    ("orders", "view_lookupaudit"),
    ("orders", "view_customeraccountlink"),
    ("orders", "view_apitoken"),
    ("auth", "view_user"),
]
ADMINISTRATOR_PERMISSIONS = [
    *AGENT_PERMISSIONS,
    ("auth", "add_user"),
    ("auth", "change_user"),
    ("orders", "add_customeraccountlink"),
    ("orders", "change_customeraccountlink"),
    ("orders", "delete_customeraccountlink"),
    ("orders", "change_apitoken"),
]


def roles_sync(**kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    for name, wanted in ((AGENT, AGENT_PERMISSIONS), (ADMINISTRATOR, ADMINISTRATOR_PERMISSIONS)):
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in wanted
        ]
        group.permissions.set(permissions)


PORTAL_ROLES = (AGENT, ADMINISTRATOR)


def user_permission_names(*, user: User) -> set[str]:
    """Every permission the user holds, directly or through groups, whether or not the account is active (an inactive
    account's permissions come back when someone reactivates it)."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    rows = (
        Permission.objects.filter(Q(user=user) | Q(group__user=user))
        .values_list("content_type__app_label", "codename")
        .distinct()
    )
    return {f"{app}.{codename}" for app, codename in rows}


def user_manageable_by(*, actor: User | AnonymousUser, target: User) -> bool:
    """Whether `actor` may change `target`'s account (details, password, activity, links, tokens). Superusers may
    change anyone. Others never a superuser, nor anyone holding a permission they lack themselves: taking over such an
    account (a password reset, a reactivation) would be an escalation."""
    if actor.is_superuser:
        return True
    if target.is_superuser:
        return False
    if target.pk is None or target.pk == actor.pk:
        return True
    return user_permission_names(user=target) <= actor.get_all_permissions()
