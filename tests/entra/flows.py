"""A browser's part in the flow: press the button, sign in at the identity provider, come back."""

from __future__ import annotations

from django.test import Client

from tests.entra.fake_idp import Account, FakeIdP


def start(client: Client, path: str = "/accounts/microsoft/", **data: str) -> str:
    """Press a "Sign in with Microsoft" button: the portal keeps the flow and sends the browser to authorize."""
    response = client.post(path, data)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def sign_in(client: Client, idp: FakeIdP, account: Account | None = None, *, path: str = "/accounts/microsoft/",
            **data: str):
    """The whole round trip. Returns the callback's response and the callback URL (to replay it)."""
    callback = idp.authorize(start(client, path, **data), account=account)
    return client.get(callback), callback


def signed_in_as(client: Client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id is not None else None
