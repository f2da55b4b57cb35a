"""What the portal adds to Django's request, declared so the type checker sees it.

`RequestContextMiddleware`, the outermost middleware, sets `reference` and `started_at` on every request before any
view runs: views and the helpers they call take a `PortalRequest`. Views behind `login_required` take a
`SignedInRequest`, whose user is an account, never `AnonymousUser`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class PortalRequest(HttpRequest):
    reference: str
    started_at: float


class SignedInRequest(PortalRequest):
    user: User
