"""Watching an order: who watches what, what the watcher last saw of it, and the outbox of changes it found.

Watch is a user's subscription; WatchedOrder is the order as the watcher last saw it (one row per order, however many
users watch it), with the time it is due to be read again. ChangeEvent is the outbox: the watcher writes one per
change set per watching user, in the same transaction as the fan-out hooks (watching.outbox) that queue its e-mail
and webhook deliveries.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WatchedOrder(models.Model):
    """An order the watcher re-reads: its customer-visible state when last read, and when it is due again."""

    company = models.CharField(max_length=8)
    number = models.CharField(max_length=40)  # as F&O spells it
    account = models.CharField(max_length=40)  # the order's customer account: every re-read is scoped by it
    state = models.JSONField()  # orders.changes.order_state
    next_check_at = models.DateTimeField(db_index=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="unique_watched_order")]

    def __str__(self) -> str:
        return f"{self.company}/{self.number}"


class Watch(models.Model):
    """A user asked to be told when this order changes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="order_watches")
    # PROTECT: an order is forgotten only once nobody watches it; the database refuses to drop one a watch still
    # names, even one created a moment ago by another request.
    order = models.ForeignKey(WatchedOrder, on_delete=models.PROTECT, related_name="watches")
    language = models.CharField(max_length=16, blank=True)  # the language the user watched in: e-mails use it
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "order"], name="unique_watch")]
        ordering = ["-created_at"]
        verbose_name = _("watched order")

    def __str__(self) -> str:
        return f"{self.user_id} {self.order}"


class ChangeEvent(models.Model):
    """One detected change set of one order for one watching user: what e-mail and webhooks send."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # the webhook payload's "id"
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="order_changes")
    company = models.CharField(max_length=8)
    number = models.CharField(max_length=40)
    changes = models.JSONField()  # [{"field": str, "from": str|None, "to": str|None}, ...] JSON-safe values
    occurred_at = models.DateTimeField()  # when the watcher saw it

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["user", "company", "number"])]

    def __str__(self) -> str:
        return f"{self.company}/{self.number} {self.occurred_at:%Y-%m-%d %H:%M}"


class EmailNotification(models.Model):
    """The e-mail owed for one ChangeEvent. Pending until sent; next_attempt_at doubles as the sender's lease."""

    event = models.OneToOneField(ChangeEvent, primary_key=True, on_delete=models.CASCADE, related_name="email")
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)  # None once sent or given up
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.event_id} {'sent' if self.sent_at else 'pending'}"
