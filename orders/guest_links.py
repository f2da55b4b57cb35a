"""The link a guest bookmarks after finding an order: signed (django.core.signing, with a salt of its own, so no
other signed value of the portal can stand in for it) and expiring after GUEST_LINK_DAYS.

It carries the company and the order number, nothing more: whoever opens it sees the order as the guest who proved
it did, read again through the normal path, and it grants nothing else.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing

from orders.exceptions import GuestLinkExpired, GuestLinkInvalid
from orders.filters import company_valid, order_number_valid

SALT = "orders.guest.link"
TOKEN_MAX = 300  # far longer than any token this module makes; anything longer is not worth checking


def guest_link_token(*, company: str, number: str) -> str:
    return signing.dumps([company, number], salt=SALT, compress=True)


def guest_link_read(token: str) -> tuple[str, str]:
    """The (company, number) a link names. GuestLinkExpired when older than GUEST_LINK_DAYS, GuestLinkInvalid when
    it was not made here or was changed."""
    if not token or len(token) > TOKEN_MAX:
        raise GuestLinkInvalid("no link")
    try:
        value = signing.loads(token, salt=SALT, max_age=timedelta(days=settings.GUEST_LINK_DAYS))
    except signing.SignatureExpired as exc:
        raise GuestLinkExpired("link expired") from exc
    except (signing.BadSignature, ValueError) as exc:
        raise GuestLinkInvalid("bad signature") from exc
    match value:
        case [str(company), str(number)] if company_valid(company) and order_number_valid(number):
            return company, number
    raise GuestLinkInvalid("unexpected content")
