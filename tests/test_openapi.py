"""The API description is put together from each app's part (portal/openapi.py): every part is in the served
document, and two apps describing the same path or schema is refused rather than one silently replacing the other."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from orders import openapi as orders_part
from portal import openapi
from watching import openapi as watching_part
from webhooks import openapi as webhooks_part


def test_the_served_document_holds_every_apps_paths_and_schemas() -> None:
    served = Client().get("/api/v1/openapi.json").json()
    parts = (orders_part, webhooks_part, watching_part)
    assert list(served["paths"]) == [path for part in parts for path in part.PATHS]
    assert list(served["components"]["schemas"]) == [name for part in parts for name in part.SCHEMAS]


def test_two_apps_describing_one_path_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watching_part, "PATHS", {**watching_part.PATHS, "/api/v1/webhooks": {}})
    with pytest.raises(ImproperlyConfigured, match="/api/v1/webhooks"):
        openapi.openapi_document()


def test_two_apps_describing_one_schema_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks_part, "SCHEMAS", {**webhooks_part.SCHEMAS, "Problem": {}})
    with pytest.raises(ImproperlyConfigured, match="Problem"):
        openapi.openapi_document()
