from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EntraIdentity(models.Model):
    """A Microsoft account that signs this user in: the pair (tenant id, object id) from the ID token, never its
    e-mail address, which the account's owner or their administrator can change at will."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entra_identities")
    tenant_id = models.CharField(_("tenant id"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    # What Microsoft called the account when it was linked: for people to recognise it, never to find it.
    username = models.CharField(_("Microsoft account"), max_length=254, blank=True)
    created_at = models.DateTimeField(_("linked"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant_id", "object_id"], name="unique_entra_identity")]
        ordering = ["created_at"]
        verbose_name = _("Microsoft sign-in")
        verbose_name_plural = _("Microsoft sign-ins")

    def __str__(self) -> str:
        return self.username or f"{self.tenant_id}/{self.object_id}"


class EntraInvitation(models.Model):
    """A one-time link that lets whoever holds it link their Microsoft account to this user. Only the token's
    SHA-256 is stored; the link is e-mailed once and never shown again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entra_invitations")
    email = models.EmailField(_("sent to"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Microsoft sign-in invitation")

    def __str__(self) -> str:
        return f"{self.email} ({self.created_at:%Y-%m-%d})"
