"""Deploy check: the SSRF rules must be on in production (python manage.py check --deploy)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def webhooks_private_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return [Warning("WEBHOOKS_ALLOW_PRIVATE is true: webhooks may be sent over plain http and to private and "
                        "loopback addresses, including this network's own services. Development and tests only.",
                        id="webhooks.W001")]
    return []
