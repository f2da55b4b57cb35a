"""Endpoints end with what let them in: a revoked API token deletes the endpoints it added, and a new password
(changed or reset) deletes all the user's endpoints.

A password is how an account is taken back: whoever held it (or a session, or a token) may have added an endpoint
that sends them every change of the user's watched orders, on the web page as well as through the API, and a
webhook looks the same whoever added it. So all go, as the API tokens, the sessions and the Microsoft sign-ins do;
the user adds their own again, with a new secret. Deactivating a user deletes nothing: their deliveries stop
(webhooks.delivery) and resume if they are reactivated; the tokens revoked with it take their endpoints along.

orders never imports this app: it announces revocations with orders.signals.api_token_revoked, and the password rule
is orders.revocation's, applied to the same pre_save/post_save pair it uses.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save

from orders.revocation import password_replaced
from orders.signals import api_token_revoked
from webhooks.services import endpoints_end

_FLAG = "_webhooks_end_all"


def _token_revoked(sender: Any, token_id: int, user_id: int, **kwargs: Any) -> None:
    endpoints_end(user_id=user_id, token_id=token_id, reason="token revoked")


def _user_before_save(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return  # e.g. last_login on every sign-in
    old_hash = sender._base_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    setattr(instance, _FLAG, old_hash is not None and password_replaced(old_hash=old_hash, user=instance))


def _user_after_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if getattr(instance, _FLAG, False):
        setattr(instance, _FLAG, False)
        endpoints_end(user_id=instance.pk, reason="new password")


def signals_connect() -> None:
    user_model = get_user_model()
    api_token_revoked.connect(_token_revoked, dispatch_uid="webhooks.signals.token_revoked")
    pre_save.connect(_user_before_save, sender=user_model, dispatch_uid="webhooks.signals.user_before_save")
    post_save.connect(_user_after_save, sender=user_model, dispatch_uid="webhooks.signals.user_after_save")
