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
