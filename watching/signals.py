"""Access ends, watches end: removing (or changing) an account link ends the user's watches of that account's
orders; deactivating the user ends all of theirs. Deleting a user takes their watches with them (CASCADE).

Signals cover every path that saves through the ORM; `QuerySet.update` sends none, so the watcher checks again
before it notifies anyone (watching.watcher: the user must be active and still linked to the order's account).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_save

from orders.models import CustomerAccountLink
from watching.services import watches_end


def _user_after_save(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if raw or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    # Inactive now; whether it was active before does not matter: an inactive user watches nothing.
    watches_end(user_id=instance.pk)


def _link_before_save(sender: Any, instance: CustomerAccountLink, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        return
    old = CustomerAccountLink.objects.filter(pk=instance.pk).values("company", "account", "user_id").first()
    if old is not None and old != {"company": instance.company, "account": instance.account,
                                   "user_id": instance.user_id}:
        watches_end(user_id=old["user_id"], company=old["company"], account=old["account"])


def _link_after_delete(sender: Any, instance: CustomerAccountLink, **kwargs: Any) -> None:
    watches_end(user_id=instance.user_id, company=instance.company, account=instance.account)


def watches_connect() -> None:
    post_save.connect(_user_after_save, sender=get_user_model(), dispatch_uid="watching.user_after_save")
    pre_save.connect(_link_before_save, sender=CustomerAccountLink, dispatch_uid="watching.link_before_save")
    post_delete.connect(_link_after_delete, sender=CustomerAccountLink, dispatch_uid="watching.link_after_delete")

