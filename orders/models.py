from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

COMPANY_PATTERN = r"^[a-z0-9]{1,8}$"
ACCOUNT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,39}$"


class CustomerAccountLink(models.Model):
    """A portal user may see the orders of this F&O customer account in this company (dataAreaId)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_links")
    company = models.CharField(
        _("company"), max_length=8, validators=[RegexValidator(COMPANY_PATTERN, _("Lower-case letters and digits."))]
    )
    account = models.CharField(
        _("customer account"),
        max_length=40,
        validators=[RegexValidator(ACCOUNT_PATTERN, _("Letters, digits, dot, dash and underscore."))],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company", "account"], name="unique_account_link"),
        ]
        ordering = ["company", "account"]
        verbose_name = _("customer account link")

    def __str__(self) -> str:
        return f"{self.company}:{self.account}"


class ApiToken(models.Model):
    """A bearer token for the JSON API, one per user and device. Only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("device or app"), max_length=80)
    prefix = models.CharField(_("starts with"), max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class LookupSnapshot(models.Model):
    """What a lookup showed, as F&O's rows, stored once per distinct content (hash-addressed) for replay."""

    digest = models.CharField(max_length=64, primary_key=True)
    kind = models.CharField(max_length=16)  # "order" or "list"
    rows = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:12]}"


class LookupAudit(models.Model):
    """One customer, API or staff lookup: who, what, when, how it went. No passwords, tokens or cookies."""

    class Outcome(models.TextChoices):
        OK = "ok", _("answered")
        STALE = "stale", _("stale copy shown")
        NOT_FOUND = "not_found", _("not found")
        INVALID = "invalid", _("invalid input")
        UNAVAILABLE = "unavailable", _("F&O unavailable")
        LIMITED = "limited", _("refused: too many lookups")

    reference = models.CharField(max_length=9, db_index=True)
    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    client_address = models.GenericIPAddressField(null=True, blank=True)  # see orders.client_address
    channel = models.CharField(max_length=8)  # "web", "api", "staff" or "guest" (no account: /track/)
    kind = models.CharField(max_length=8)  # "list" or "order"
    path = models.CharField(max_length=300)
    company = models.CharField(max_length=8, blank=True)
    order_number = models.CharField(max_length=40, blank=True, db_index=True)
    query = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    problem = models.CharField(max_length=20, blank=True)
    status_code = models.PositiveSmallIntegerField()
    latency_ms = models.PositiveIntegerField()
    cache = models.CharField(max_length=8, blank=True)  # "live", "cache", "stale" or "" (no lookup)
    as_of = models.DateTimeField(null=True, blank=True)
    fno_status = models.PositiveSmallIntegerField(null=True, blank=True)
    fno_calls = models.JSONField(default=list, blank=True)
    snapshot = models.ForeignKey(LookupSnapshot, null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("lookup")
        permissions = [
            ("lookup_any_order", _("Can look up any order and replay reference codes")),
            ("purge_order_cache", _("Can purge an order's cached copy")),
            ("view_fno_health", _("Can see the health of the link to F&O")),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.channel} {self.kind} {self.outcome}"


class FnoCall(models.Model):
    """One HTTP exchange with F&O, for the health page. Kept for a short time only."""

    at = models.DateTimeField(db_index=True)
    entity_set = models.CharField(max_length=80)
    status = models.PositiveSmallIntegerField(null=True)
    outcome = models.CharField(max_length=24)
    latency_ms = models.PositiveIntegerField()
    reference = models.CharField(max_length=9, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["entity_set", "at"])]

    def __str__(self) -> str:
        return f"{self.entity_set} {self.outcome} {self.latency_ms} ms"


class UserSession(models.Model):
    """Which user a signed-in session belongs to: Django keeps no index of sessions by user, and revoking a user
    must end all of theirs (orders.revocation). Written by orders.session_store; goes with its session."""

    session = models.OneToOneField("sessions.Session", primary_key=True, on_delete=models.CASCADE,
                                   related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("signed-in session")

    def __str__(self) -> str:
        return f"{self.user_id} {self.session_id[:6]}…"


class PromiseDate(models.Model):
    """A confirmed date the portal saw on an order, once per distinct value, with when it was first seen.

    Recorded on every read that went to F&O (customers', staff's and the watcher's), never on cached copies. A date
    that moves back to an earlier value keeps its first sighting: the history lists each promise once.
    """

    class Kind(models.TextChoices):
        SHIP = "ship", _("confirmed ship date")
        RECEIPT = "receipt", _("confirmed delivery date")

    company = models.CharField(max_length=8)
    number = models.CharField(max_length=40)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.DateField()
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "number", "kind", "value"], name="unique_promise_date"),
        ]
        ordering = ["company", "number", "first_seen_at", "value"]
        verbose_name = _("promised date")

    def __str__(self) -> str:
        return f"{self.company}/{self.number} {self.kind} {self.value}"


class OrderSeen(models.Model):
    """What one user was last shown of one order (the customer-visible fields), for "what changed since"."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    company = models.CharField(max_length=8)
    number = models.CharField(max_length=40)
    state = models.JSONField()
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "company", "number"], name="unique_order_seen")]
        verbose_name = _("order last seen")

    def __str__(self) -> str:
        return f"{self.user_id} {self.company}/{self.number}"
