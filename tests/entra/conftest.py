from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from entra.provider import build_entra_client, set_entra_client
from tests.entra.fake_idp import CLIENT_ID, CLIENT_SECRET, MICROSOFT, FakeIdP


@pytest.fixture
def entra_settings(settings):
    settings.ENTRA_CLIENT_ID = CLIENT_ID
    settings.ENTRA_CLIENT_SECRET = CLIENT_SECRET
    settings.ENTRA_AUTHORITY = MICROSOFT
    settings.ENTRA_ALLOWED_TENANTS = []
    settings.ENTRA_REDIRECT_URI = ""
    settings.PORTAL_BASE_URL = "https://orders.example.com"
    return settings


@pytest.fixture
def idp(entra_settings, db) -> Iterator[FakeIdP]:
    """Microsoft, as MSAL sees it through its http_client: the fake identity provider behind MockTransport."""
    fake = FakeIdP(authority=entra_settings.ENTRA_AUTHORITY)
    set_entra_client(build_entra_client(transport=httpx.MockTransport(fake)))
    yield fake
    set_entra_client(None)
