"""Schemathesis against the API over a real socket, with the simulator behind the portal."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from orders.openapi import openapi_document
from orders.services import api_token_create
from tests.factories import make_customer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture
def api_server(live_server, live_fno, settings):
    settings.API_RATE_LIMIT = None
    user = make_customer("mobile@example.com", "usmf:US-001", "demf:DE-001")
    _, raw = api_token_create(user=user, name="schemathesis")
    return live_server.url, raw


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, api_server) -> None:
    base_url, token = api_server
    case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
