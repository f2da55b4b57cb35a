"""Deploy check: the links in watch e-mails (and webhook payloads) must lead to the portal customers reach."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def portal_base_url_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    url = urlsplit(settings.PORTAL_BASE_URL)
    if url.scheme != "https" or url.hostname in (None, "localhost", "127.0.0.1", "::1"):
        return [Warning(f"PORTAL_BASE_URL is {settings.PORTAL_BASE_URL!r}: the links in e-mails about watched orders "
                        "and in webhook payloads lead there. Set it to the portal's https address.",
                        id="watching.W001")]
    return []
