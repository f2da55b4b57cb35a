"""Reads: which user an identity signs in, a user's identities, usable invitations."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from orders.api_tokens import hash_token

from .models import EntraIdentity, EntraInvitation
from .oidc import Identity

REFUSED_TENANT = "tenant"
REFUSED_UNKNOWN = "unknown"


def tenant_allowed(*, tenant_id: str) -> bool:
    allowed = settings.ENTRA_ALLOWED_TENANTS
    return not allowed or tenant_id.lower() in allowed


def identity_user(*, identity: Identity) -> User | None:
    """The user this identity is linked to, active or not."""
    link = (
        EntraIdentity.objects.select_related("user")
        .filter(tenant_id=identity.tenant_id, object_id=identity.object_id)
        .first()
    )
    return link.user if link is not None else None


def signin_decision(*, identity: Identity) -> tuple[User | None, str]:
    """The user this identity signs in, or None and why: REFUSED_TENANT, or REFUSED_UNKNOWN (not linked, or linked to
    a deactivated user: to its holder both mean "ask us")."""
    if not tenant_allowed(tenant_id=identity.tenant_id):
        return None, REFUSED_TENANT
    user = identity_user(identity=identity)
    if user is None or not user.is_active:
        return None, REFUSED_UNKNOWN
    return user, ""


def identities_for_user(*, user: User) -> QuerySet[EntraIdentity]:
    return EntraIdentity.objects.filter(user=user)


def invitation_usable(*, token: str = "", invitation_id: int | None = None) -> EntraInvitation | None:
    """The invitation behind this link (or id) if it can still be accepted: unused, unexpired, its user active."""
    invitations = EntraInvitation.objects.select_related("user").filter(
        used_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True
    )
    if token:
        return invitations.filter(token_hash=hash_token(token)).first()
    if invitation_id is not None:
        return invitations.filter(pk=invitation_id).first()
    return None
