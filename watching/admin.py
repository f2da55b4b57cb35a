"""Support can see who watches what and what the watcher found; changes are the watcher's to make."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from watching.models import ChangeEvent, EmailNotification, Watch, WatchedOrder


class _ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Watch)
class WatchAdmin(_ReadOnly):
    list_display = ("user", "order", "language", "created_at")
    search_fields = ("user__email", "order__number", "order__account")
    list_select_related = ("user", "order")


@admin.register(WatchedOrder)
class WatchedOrderAdmin(_ReadOnly):
    list_display = ("company", "number", "account", "checked_at", "next_check_at")
    search_fields = ("number", "account")
    list_filter = ("company",)


@admin.register(ChangeEvent)
class ChangeEventAdmin(_ReadOnly):
    list_display = ("occurred_at", "user", "company", "number")
    search_fields = ("user__email", "number")
    list_select_related = ("user",)


@admin.register(EmailNotification)
class EmailNotificationAdmin(_ReadOnly):
    list_display = ("event", "attempts", "sent_at", "next_attempt_at", "error")
    list_select_related = ("event",)
