"""The second sign-in limit: failures per client address across all user names (credential stuffing).

django-axes locks a (user name, address) pair after AXES_FAILURE_LIMIT failures, so an attacker cannot lock a
customer out from everywhere. That alone lets one address try a few passwords on every user name it knows; this
module counts failures per address (shared by all instances through the cache) and, past
AXES_ADDRESS_FAILURE_LIMIT in one cool-off window, refuses every sign-in from that address, right or wrong, with
axes' own lockout page (429) until the window ends.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest

from orders.client_address import address_network, client_address
from orders.resilience.rate_limit import Rate, rate_peek, rate_take

logger = logging.getLogger("orders.signin")


def address_failure_rate() -> Rate | None:
    limit = settings.AXES_ADDRESS_FAILURE_LIMIT
    if limit <= 0:
        return None
    return Rate(limit, max(1, round(settings.AXES_COOLOFF_TIME * 3600)))


def _key(address: str) -> str:
    # An IPv6 address counts by its /64: whoever holds one could otherwise fail from 2^64 fresh addresses.
    return f"signin:address:{address_network(address)}"


def _lockout_page(request: HttpRequest, credentials: dict[str, Any]) -> None:
    """Ask axes' middleware for its lockout page: it reads these two request attributes (axes.middleware)."""
    request.axes_locked_out = True  # type: ignore[attr-defined]  # axes' own request attributes: HttpRequest lacks them
    request.axes_credentials = credentials  # type: ignore[attr-defined]  # read by axes' lockout page; not on HttpRequest


def address_locked_out(*, request: HttpRequest) -> bool:
    address = client_address(request)
    return bool(address) and rate_peek(_key(address), address_failure_rate()) is not None


class AddressLockoutBackend:
    """Sits between axes' backend and ModelBackend: a locked-out address is refused before any password is checked.
    PermissionDenied stops django.contrib.auth.authenticate, which then reports a failed sign-in; axes' middleware
    turns `axes_locked_out` into its lockout page. It has no get_user: it never signs anyone in, and force_login and
    sessions must go on naming ModelBackend."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if request is not None and address_locked_out(request=request):
            # The lockout page needs the user name only; the password stays out of the request.
            _lockout_page(request, {"username": credentials.get("username")})
            raise PermissionDenied("too many failed sign-ins from this address")
        return None


@receiver(user_login_failed, dispatch_uid="orders.signin.count_address_failure")
def address_failure_count(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None:
        return
    address = client_address(request)
    rate = address_failure_rate()
    if not address or rate is None:
        return
    already = getattr(request, "axes_locked_out", False)
    rate_take(_key(address), rate)
    if rate_peek(_key(address), rate) is not None:
        # The failure that reaches the limit already gets the lockout page, as axes does for its own limit.
        _lockout_page(request, credentials)
        if not already:
            logger.warning("signin.address_locked_out", extra={"event": "signin.address_locked_out",
                                                                "client": address})
