"""The client's address, as django-axes sees it: the one the sign-in lock-outs, the request log and the lookup audit
agree on.

Behind DJANGO_TRUSTED_PROXY_COUNT proxies the address is read from X-Forwarded-For, counted from the right (each
trusted proxy appends the address it was connected from; anything further left came from the client and may be
forged). With no trusted proxy it is REMOTE_ADDR only. portal/settings.py turns the count into axes' django-ipware
settings; this module only asks axes, so the two can never disagree.
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.http import HttpRequest

_ATTRIBUTE = "_client_address"


def client_address(request: HttpRequest) -> str:
    """The client's IP address, or "" when the request carries none (a unix socket, a test without REMOTE_ADDR)."""
    cached = getattr(request, _ATTRIBUTE, None)
    if cached is None:
        cached = get_client_ip_address(request) or ""
        setattr(request, _ATTRIBUTE, cached)
    return cached
