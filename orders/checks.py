"""Deploy checks: what production still lacks (python manage.py check --deploy)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def d365_settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if not settings.D365_URL:
        problems.append(Error("D365_URL is not set: the portal has no F&O environment to read.", id="orders.E001"))
    elif not settings.D365_URL.startswith("https://"):
        problems.append(
            Warning("D365_URL is not https: only a local simulator should be reached over plain http.",
                    id="orders.W001")
        )
    if not settings.D365_CLIENT_ID:
        problems.append(
            Warning(
                "D365_CLIENT_ID is not set: no token is sent to F&O. That only suits the local simulator.",
                id="orders.W002",
            )
        )
    else:
        if not (settings.D365_TENANT_ID or settings.D365_AUTHORITY):
            problems.append(Error("D365_TENANT_ID (or D365_AUTHORITY) is not set.", id="orders.E002"))
        has_cert = settings.D365_CLIENT_CERTIFICATE_PATH and settings.D365_CLIENT_CERTIFICATE_THUMBPRINT
        if not (settings.D365_CLIENT_SECRET or has_cert):
            problems.append(
                Error(
                    "Neither D365_CLIENT_SECRET nor D365_CLIENT_CERTIFICATE_PATH with "
                    "D365_CLIENT_CERTIFICATE_THUMBPRINT is set.",
                    id="orders.E003",
                )
            )
    return problems
