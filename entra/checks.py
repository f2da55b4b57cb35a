"""What `check --deploy` says about sign-in with Microsoft."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .provider import entra_configured


@register(Tags.security, deploy=True)
def entra_deploy_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.ENTRA_CLIENT_ID:
        return []
    problems: list[CheckMessage] = []
    if not entra_configured():
        problems.append(Error(
            "ENTRA_CLIENT_ID is set, but neither ENTRA_CLIENT_SECRET nor ENTRA_CLIENT_CERTIFICATE_PATH with "
            "ENTRA_CLIENT_CERTIFICATE_THUMBPRINT: sign-in with Microsoft stays off.", id="entra.E001"))
    if urlsplit(settings.ENTRA_AUTHORITY).scheme != "https":
        problems.append(Error("ENTRA_AUTHORITY must be an https URL.", id="entra.E002"))
    if settings.ENTRA_REDIRECT_URI and urlsplit(settings.ENTRA_REDIRECT_URI).scheme != "https":
        problems.append(Warning("ENTRA_REDIRECT_URI is not https: Microsoft accepts plain http for localhost only.",
                                id="entra.W001"))
    if not settings.PORTAL_BASE_URL.startswith("https://"):
        problems.append(Warning("PORTAL_BASE_URL is not https: invitation e-mails would carry a link customers "
                                "cannot use safely.", id="entra.W002"))
    return problems
