"""Revocation that sticks: deactivating a user, changing or resetting their password, and removing (or changing) one
of their account links revoke their API tokens and end their sessions, on every instance.

Signals cover every path that saves through the ORM (admin forms, password change and reset views, management
commands, link deletes, cascades); `QuerySet.update` sends none, so those callers call `user_access_revoke`
themselves. The work runs after the transaction commits: a revocation announced before its rows are visible would
let another instance re-read and re-cache the old state.

Sessions are ended through the session store, so the shared cache forgets them too. The user who changes their
own password stays signed in: update_session_auth_hash moves their session to a new key after this has run.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import is_password_usable
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from orders.models import CustomerAccountLink, UserSession
from orders.services import api_tokens_revoke_for_users

_FLAG = "_orders_revoke_access"


def user_sessions_end(*, user_ids: Iterable[int]) -> int:
    keys = list(UserSession.objects.filter(user_id__in=list(user_ids)).values_list("session_id", flat=True))
    _sessions_end(keys)
    return len(keys)


def _sessions_end(keys: Iterable[str]) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(key).delete()  # the database row (and its UserSession, by cascade) and the shared cache's copy


def user_access_revoke(*, user_ids: Iterable[int]) -> tuple[int, int]:
    """Revoke every API token and end every session of these users. Returns (tokens, sessions)."""
    ids = list(user_ids)
    return api_tokens_revoke_for_users(user_ids=ids), user_sessions_end(user_ids=ids)


def _after_commit(user_id: int) -> None:
    transaction.on_commit(partial(user_access_revoke, user_ids=[user_id]))


def _user_before_save(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"is_active", "password"} & set(update_fields):
        return  # e.g. last_login on every sign-in: nothing to compare
    old = sender._base_manager.filter(pk=instance.pk).values("is_active", "password").first()
    if old is None:
        return
    deactivated = old["is_active"] and not instance.is_active
    setattr(instance, _FLAG, deactivated or password_replaced(old_hash=old["password"], user=instance))


def password_replaced(*, old_hash: str, user: AbstractBaseUser) -> bool:
    """Whether the user about to be saved has a new password (changed, reset, or made unusable) compared with the
    hash stored before. A new hash is a new password only when set_password ran (or the password was made
    unusable): Django rehashes on sign-in when its hasher's work factor grows, and that must revoke nothing."""
    return old_hash != user.password and (
        getattr(user, "_password", None) is not None or not is_password_usable(user.password)
    )


def _user_after_save(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if getattr(instance, _FLAG, False):
        setattr(instance, _FLAG, False)
        _after_commit(instance.pk)


def _user_before_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    # The user's UserSession rows go with the user; the sessions themselves must be ended explicitly.
    keys = list(UserSession.objects.filter(user_id=instance.pk).values_list("session_id", flat=True))
    if keys:
        transaction.on_commit(partial(_sessions_end, keys))


def _link_before_save(sender: Any, instance: CustomerAccountLink, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        return
    old = CustomerAccountLink.objects.filter(pk=instance.pk).values("company", "account", "user_id").first()
    # Changing a link's account or company takes the old one away, as removing it does.
    setattr(instance, _FLAG, old is not None and old != {"company": instance.company, "account": instance.account,
                                                          "user_id": instance.user_id})
    if old is not None and old["user_id"] != instance.user_id:
        _after_commit(old["user_id"])


def _link_after_save(sender: Any, instance: CustomerAccountLink, **kwargs: Any) -> None:
    if getattr(instance, _FLAG, False):
        setattr(instance, _FLAG, False)
        _after_commit(instance.user_id)


def _link_after_delete(sender: Any, instance: CustomerAccountLink, **kwargs: Any) -> None:
    _after_commit(instance.user_id)


def revocation_connect() -> None:
    user_model = get_user_model()
    pre_save.connect(_user_before_save, sender=user_model, dispatch_uid="orders.revocation.user_before_save")
    post_save.connect(_user_after_save, sender=user_model, dispatch_uid="orders.revocation.user_after_save")
    pre_delete.connect(_user_before_delete, sender=user_model, dispatch_uid="orders.revocation.user_before_delete")
    pre_save.connect(_link_before_save, sender=CustomerAccountLink, dispatch_uid="orders.revocation.link_before_save")
    post_save.connect(_link_after_save, sender=CustomerAccountLink, dispatch_uid="orders.revocation.link_after_save")
    post_delete.connect(_link_after_delete, sender=CustomerAccountLink,
                        dispatch_uid="orders.revocation.link_after_delete")
