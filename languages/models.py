"""The language a user chose with the switch on every page: applied when they sign in, used for their e-mails."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LanguagePreference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="language_preference")
    language = models.CharField(_("language"), max_length=8)  # one of settings.LANGUAGES: services checks
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("language preference")

    def __str__(self) -> str:
        return f"{self.user_id} {self.language}"
