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
