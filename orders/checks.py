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


@register(Tags.security, deploy=True)
def d365_scope_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A token whose audience is not the environment URL exactly (lower case, no trailing slash) gets 401."""
    from urllib.parse import urlsplit

    problems: list[CheckMessage] = []
    configured = getattr(settings, "D365_SCOPE_CONFIGURED", "")
    if configured and configured != settings.D365_SCOPE:
        problems.append(Warning(
            f"D365_SCOPE {configured!r} is used as {settings.D365_SCOPE!r}: F&O accepts a token only for the "
            "environment URL in lower case without a trailing slash, followed by /.default.",
            hint=f"Set D365_SCOPE={settings.D365_SCOPE} (or leave it unset to derive it from D365_URL).",
            id="orders.W020",
        ))
    if settings.D365_SCOPE and settings.D365_URL:
        scope_host = urlsplit(settings.D365_SCOPE).hostname
        url_host = urlsplit(settings.D365_URL).hostname
        if scope_host != url_host:
            problems.append(Warning(
                f"D365_SCOPE is for {scope_host or '(no host)'} but D365_URL is {url_host or '(no host)'}: F&O "
                "refuses tokens issued for another environment with 401.",
                hint="Leave D365_SCOPE unset, or set it to D365_URL followed by /.default.",
                id="orders.W021",
            ))
    return problems


@register(Tags.caches, deploy=True)
def shared_cache_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or settings.REDIS_URL:
        return []
    return [
        Error(
            "REDIS_URL is not set: sessions, rate limits, sign-in lock-outs, revocations, back-off and cachalot's "
            "query cache would each live in one process, so gunicorn's workers and other instances would disagree "
            "(a revoked token or session could keep working elsewhere).",
            hint="Set REDIS_URL, e.g. redis://redis.internal:6379/0.",
            id="orders.E030",
        )
    ]
