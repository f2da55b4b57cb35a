"""The signed one-click "stop watching" link in every e-mail: no sign-in needed, nothing to guess.

The token names the user and the order and is signed with the site's secret (django.core.signing, its own salt).
It does not expire: an old e-mail's link must still work. It can only ever stop that user's watch of that order.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

_SALT = "watching.unsubscribe.v1"


@dataclass(frozen=True)
class Unsubscribe:
    user_id: int
    company: str
    number: str


def unsubscribe_token(*, user_id: int, company: str, number: str) -> str:
    return signing.dumps([user_id, company, number], salt=_SALT, compress=True)


def unsubscribe_parse(token: str) -> Unsubscribe | None:
    if len(token) > 400:
        return None
    try:
        value = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    match value:
        case [int() as user_id, str() as company, str() as number]:
            return Unsubscribe(user_id, company, number)
    return None
