"""Writes: linking and removing identities, invitations (created, e-mailed, accepted), the end of a user's links."""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from languages.emails import email_in_language
from languages.services import user_language_set
from orders.api_tokens import hash_token
from orders.models import CustomerAccountLink
from orders.services import account_ref_parse, customer_user_upsert

from .models import EntraIdentity, EntraInvitation
from .oidc import Identity
from .selectors import tenant_allowed

logger = logging.getLogger("entra")


class TenantNotAllowed(Exception):
    """The identity's tenant is not in ENTRA_ALLOWED_TENANTS."""


class IdentityTaken(Exception):
    """The identity is already linked to another portal user."""


class StaffNotAllowed(Exception):
    """Staff and superuser accounts sign in with their password only: no Microsoft account is linked to them."""


class InvitationUnusable(Exception):
    """The invitation was used, has expired, was replaced by a newer one, or its user is deactivated."""


class InvitationRefused(ValueError):
    """No invitation can be made for this e-mail address (a staff or deactivated account, no account to link)."""


def identity_link(*, user: User, identity: Identity) -> EntraIdentity:
    """Link the identity to the user, and e-mail them that it now signs them in; linking it again to the same user
    changes nothing. Never for staff: a link outlives a stolen session and is lasting access to the admin."""
    if user.is_staff or user.is_superuser:
        raise StaffNotAllowed(user.get_username())
    if not tenant_allowed(tenant_id=identity.tenant_id):
        raise TenantNotAllowed(identity.tenant_id)
    try:
        with transaction.atomic():
            link, created = EntraIdentity.objects.get_or_create(
                tenant_id=identity.tenant_id, object_id=identity.object_id,
                defaults={"user": user, "username": identity.username},
            )
    except IntegrityError:  # linked by a concurrent request in the meantime
        link, created = EntraIdentity.objects.get(tenant_id=identity.tenant_id, object_id=identity.object_id), False
    if link.user_id != user.pk:
        raise IdentityTaken(identity.label)
    if created:
        logger.info("entra.identity.linked", extra={"event": "entra.identity.linked", "user_id": user.pk,
                                                    "tenant": identity.tenant_id})
        # After the commit: a link rolled back (an invitation spent twice) was never made.
        transaction.on_commit(partial(identity_linked_notify, identity_id=link.pk))
    return link


def identity_linked_notify(*, identity_id: int) -> bool:
    """E-mail the user (text and HTML, in their language) that this Microsoft account now signs them in, and what to
    do if it was not them. Whoever linked it may hold their session or password: the mailbox is how they find out.
    A mail server that fails is logged, not raised: the link is made, and the page must not say otherwise."""
    link = EntraIdentity.objects.select_related("user").filter(pk=identity_id).first()
    if link is None or not link.user.email:
        return False
    base_url = settings.PORTAL_BASE_URL
    context = {
        "user": link.user, "account": str(link), "linked_at": link.created_at,
        "identities_link": f"{base_url}{reverse('entra:identities')}",
        "reset_link": f"{base_url}{reverse('password_reset')}",
    }
    message = email_in_language(user_id=link.user_id, templates="entra/email/linked", context=context,
                                to=link.user.email)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.error("entra.identity.notice_failed", extra={"event": "entra.identity.notice_failed",
                                                            "user_id": link.user_id, "error": type(exc).__name__})
        return False
    logger.info("entra.identity.notice_sent", extra={"event": "entra.identity.notice_sent", "user_id": link.user_id})
    return True


def identity_remove(*, user: User, identity_id: int) -> bool:
    deleted, _ = EntraIdentity.objects.filter(user=user, pk=identity_id).delete()
    return bool(deleted)


def identity_used(*, identity: Identity) -> None:
    EntraIdentity.objects.filter(tenant_id=identity.tenant_id, object_id=identity.object_id).update(
        last_used_at=timezone.now()
    )


def identities_end(*, user_id: int, reason: str) -> int:
    """Remove every Microsoft account linked to the user (a new password: the account may have been taken back)."""
    removed, _ = EntraIdentity.objects.filter(user_id=user_id).delete()
    if removed:
        logger.info("entra.identities.removed", extra={"event": "entra.identities.removed", "user_id": user_id,
                                                       "reason": reason, "count": removed})
    return removed


def user_entra_end(*, user_id: int) -> None:
    """A deactivated user's Microsoft sign-ins end: links removed, open invitations void."""
    identities_end(user_id=user_id, reason="deactivated")
    EntraInvitation.objects.filter(user_id=user_id, used_at__isnull=True, expires_at__gt=timezone.now()).update(
        expires_at=timezone.now()
    )


def invitation_create(*, user: User, created_by: User | None = None) -> tuple[EntraInvitation, str]:
    """A new invitation for the user's e-mail address, replacing any still open. The clear token is returned once."""
    if not user.is_active or not user.email:
        raise InvitationRefused(f"{user.get_username()} is deactivated or has no e-mail address")
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        EntraInvitation.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        invitation = EntraInvitation.objects.create(
            user=user, email=user.email, token_hash=hash_token(token), created_by=created_by,
            expires_at=now + timedelta(days=settings.ENTRA_INVITATION_DAYS),
        )
    return invitation, token


def invitation_link(*, token: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}{reverse('entra:invitation')}?token={token}"


def invitation_send(*, invitation: EntraInvitation, token: str, base_url: str) -> None:
    """E-mail the link (text and HTML), in the user's language, not the inviting staff member's. It is the only place
    the clear token ever goes."""
    context = {
        "user": invitation.user, "link": invitation_link(token=token, base_url=base_url),
        "expires_at": invitation.expires_at, "days": settings.ENTRA_INVITATION_DAYS,
    }
    email_in_language(user_id=invitation.user_id, templates="entra/email/invitation", context=context,
                      to=invitation.email).send()
    logger.info("entra.invitation.sent", extra={"event": "entra.invitation.sent", "user_id": invitation.user_id,
                                                "invitation_id": invitation.pk})


def invitation_create_and_send(*, user: User, base_url: str, created_by: User | None = None) -> EntraInvitation:
    invitation, token = invitation_create(user=user, created_by=created_by)
    try:
        invitation_send(invitation=invitation, token=token, base_url=base_url)
    except Exception:
        invitation.delete()  # a link nobody received must not stay valid
        raise
    return invitation


def customer_invite(
    *, email: str, accounts: Iterable[str], base_url: str, created_by: User | None = None, language: str = ""
) -> tuple[User, EntraInvitation]:
    """Create (or update) the customer user, without a usable password, linked to the accounts (`usmf:US-001`), and
    e-mail them an invitation to sign in with Microsoft; `language` (`de`), when given, becomes the user's."""
    try:
        refs = [account_ref_parse(text) for text in accounts]
    except ValueError as exc:
        raise InvitationRefused(str(exc)) from exc
    existing = get_user_model().objects.filter(username__iexact=email.strip()).first()
    if existing is not None and (existing.is_staff or existing.is_superuser):
        raise InvitationRefused(f"{existing.get_username()} is a staff account: invite customers only")
    if existing is not None and not existing.is_active:
        raise InvitationRefused(f"{existing.get_username()} is deactivated: reactivate the user first")
    if not refs and (existing is None or not CustomerAccountLink.objects.filter(user=existing).exists()):
        raise InvitationRefused("give at least one --account: a customer without an account would see nothing")
    user, _ = customer_user_upsert(email=email, password=None, accounts=refs)
    if language:
        user_language_set(user_id=user.pk, language=language)
    return user, invitation_create_and_send(user=user, base_url=base_url, created_by=created_by)


@transaction.atomic
def invitation_accept(*, invitation_id: int, identity: Identity) -> User:
    """Spend the invitation and link the identity to its user, or neither."""
    now = timezone.now()
    spent = EntraInvitation.objects.filter(
        pk=invitation_id, used_at__isnull=True, expires_at__gt=now, user__is_active=True
    ).update(used_at=now)
    if spent != 1:
        raise InvitationUnusable(str(invitation_id))
    invitation = EntraInvitation.objects.select_related("user").get(pk=invitation_id)
    identity_link(user=invitation.user, identity=identity)  # raising rolls the spending back
    logger.info("entra.invitation.accepted", extra={"event": "entra.invitation.accepted",
                                                    "user_id": invitation.user_id, "invitation_id": invitation_id})
    return invitation.user
