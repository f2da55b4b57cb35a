"""Deactivating a user ends their Microsoft sign-ins; the staff roles get this app's permissions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save

from .services import user_entra_end

_FLAG = "_entra_deactivated"


def _user_before_save(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if raw or instance.pk is None or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    was_active = sender._base_manager.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    setattr(instance, _FLAG, bool(was_active))


def _user_after_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    # QuerySet.update() (the admin's bulk deactivation) sends no signal: the sign-in refuses inactive users anyway
    # (entra.selectors.signin_decision), this removes the links for good.
    if getattr(instance, _FLAG, False):
        setattr(instance, _FLAG, False)
        user_entra_end(user_id=instance.pk)


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
