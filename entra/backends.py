"""The authentication backend behind sign-in with Microsoft.

The callback view calls django.contrib.auth.authenticate(request, username=..., entra_identity=...) with an identity
whose ID token is already validated, so the backends before this one apply as they do to passwords: django-axes
refuses a locked-out (user name, address) pair, orders.signin a locked-out address; and a refusal here sends
user_login_failed, which both count. The user name they count is the linked user's, else the identity's label.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import User
from django.http import HttpRequest

from .oidc import Identity
from .selectors import signin_decision


class EntraBackend(BaseBackend):
    def authenticate(
        self, request: HttpRequest | None, entra_identity: Identity | None = None, **kwargs: Any
    ) -> User | None:
        if entra_identity is None:
            return None
        user, _ = signin_decision(identity=entra_identity)
        return user

    def get_user(self, user_id: Any) -> User | None:
        user = get_user_model()._default_manager.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None
