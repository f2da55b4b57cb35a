"""Two staff roles as Django groups: support agents look up, replay and purge; administrators also manage users,
account links and tokens. Kept in step on every migrate."""

from __future__ import annotations

from typing import Any

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
