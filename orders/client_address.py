"""The client's address, as django-axes sees it: the one the sign-in lock-outs, the request log and the lookup audit
agree on.

Behind DJANGO_TRUSTED_PROXY_COUNT proxies the address is read from X-Forwarded-For, counted from the right (each
trusted proxy appends the address it was connected from; anything further left came from the client and may be
forged). With no trusted proxy it is REMOTE_ADDR only. portal/settings.py turns the count into axes' django-ipware
settings; this module only asks axes, so the two can never disagree.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest

_ATTRIBUTE = "_client_address"
# Every setting axes and django-ipware read to find the address.
_SETTINGS = ("AXES_CLIENT_IP_CALLABLE", "AXES_IPWARE_PROXY_ORDER", "AXES_IPWARE_PROXY_COUNT",
             "AXES_IPWARE_PROXY_TRUSTED_IPS", "AXES_IPWARE_META_PRECEDENCE_ORDER", "IPWARE_ALGORITHM", "IPWARE_STRICT",
             "IPWARE_META_PRECEDENCE_ORDER", "IPWARE_META_PROXY_COUNT")


def client_address(request: HttpRequest) -> str:
    """The client's IP address, or "" when the request carries none (a unix socket, a test without REMOTE_ADDR)."""
    cached = getattr(request, _ATTRIBUTE, None)
    if cached is None:
        headers = _headers()
        if headers is None:
            cached = get_client_ip_address(request) or ""
        else:
            cached = _from_headers(tuple(request.META.get(name) for name in headers))
        setattr(request, _ATTRIBUTE, cached)
    return cached


# An IPv6 customer line or server gets a /64 (often a /56 or /48) to pick addresses from at will.
IPV6_NETWORK_BITS = 64


@lru_cache(maxsize=4096)
def address_network(address: str) -> str:
    """What a limit per client address counts under: an IPv4 address itself, an IPv6 address's /64. Counting each
    IPv6 address alone would give whoever holds one /64 2^64 fresh allowances. Text that is no address stays as it
    is (a test without REMOTE_ADDR: "")."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        host_bits = 128 - IPV6_NETWORK_BITS
        return str(ipaddress.IPv6Network(((int(ip) >> host_bits) << host_bits, IPV6_NETWORK_BITS)))
    return str(ip)


# The address is a function of the headers axes is told to read (and of the settings above), so each process works
# it out once per distinct set of them instead of once per request.
_read: list[tuple[str, ...] | None] = []


def _headers() -> tuple[str, ...] | None:
    """The request headers the address is read from, or None when it is not a function of headers alone."""
    if not _read:
        order = settings.AXES_IPWARE_META_PRECEDENCE_ORDER
        _read.append(None if getattr(settings, "AXES_CLIENT_IP_CALLABLE", None) or not order else tuple(order))
    return _read[0]


@lru_cache(maxsize=4096)
def _from_headers(values: tuple[str | None, ...]) -> str:
    request = HttpRequest()
    request.META = {name: value for name, value in zip(_headers() or (), values, strict=True) if value is not None}
    return get_client_ip_address(request) or ""


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in _SETTINGS or setting == "TRUSTED_PROXY_COUNT":
        _read.clear()
        _from_headers.cache_clear()


setting_changed.connect(_settings_changed, dispatch_uid="orders.client_address.settings_changed")
