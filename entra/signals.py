"""Deactivating a user, or a new password (changed or reset), ends their Microsoft sign-ins; the staff roles get
this app's permissions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save

from orders.revocation import password_replaced

from .services import identities_end, user_entra_end

_DEACTIVATED = "_entra_deactivated"
_NEW_PASSWORD = "_entra_new_password"  # noqa: S105  (the name of a flag on the instance, not a password)


def _user_before_save(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"is_active", "password"} & set(update_fields):
        return  # e.g. last_login on every sign-in: nothing to compare
    old = sender._base_manager.filter(pk=instance.pk).values("is_active", "password").first()
    if old is None:
        return
    setattr(instance, _DEACTIVATED, bool(old["is_active"]) and not instance.is_active)
    # The same rule as the API tokens' revocation (orders.revocation): a password reset is how an account is taken
    # back, so a Microsoft account linked by whoever held it before must not keep signing them in.
    setattr(instance, _NEW_PASSWORD, password_replaced(old_hash=old["password"], user=instance))


def _user_after_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    # QuerySet.update() (the admin's bulk deactivation) sends no signal: the sign-in refuses inactive users anyway
    # (entra.selectors.signin_decision), this removes the links for good.
    if getattr(instance, _DEACTIVATED, False):
        setattr(instance, _DEACTIVATED, False)
        user_entra_end(user_id=instance.pk)
    if getattr(instance, _NEW_PASSWORD, False):
        setattr(instance, _NEW_PASSWORD, False)
        identities_end(user_id=instance.pk, reason="password")


def signals_connect() -> None:
    user_model = get_user_model()
    pre_save.connect(_user_before_save, sender=user_model, dispatch_uid="entra.signals.user_before_save")
    post_save.connect(_user_after_save, sender=user_model, dispatch_uid="entra.signals.user_after_save")


AGENT_PERMISSIONS = ["view_entraidentity", "view_entrainvitation"]
ADMINISTRATOR_PERMISSIONS = [*AGENT_PERMISSIONS, "delete_entraidentity", "add_entrainvitation"]


def roles_extend(**kwargs: Any) -> None:
    """orders.roles sets the two staff roles' permissions on every migrate, before this app's exist; this adds them."""
    from django.contrib.auth.models import Group, Permission

    from orders.roles import ADMINISTRATOR, AGENT

    for name, codenames in ((AGENT, AGENT_PERMISSIONS), (ADMINISTRATOR, ADMINISTRATOR_PERMISSIONS)):
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*Permission.objects.filter(content_type__app_label="entra", codename__in=codenames))
