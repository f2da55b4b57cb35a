"""The e-mail that tells a user a webhook was added: whoever added it (a leaked API token, a stolen session or
password) now receives every change of their watched orders, and the mailbox is how the user finds out."""

from __future__ import annotations

import logging
import smtplib
import uuid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from languages.emails import email_in_language
from webhooks.models import WebhookEndpoint

logger = logging.getLogger(__name__)


def endpoint_added_message(endpoint: WebhookEndpoint) -> EmailMultiAlternatives:
    """Text and HTML, in the user's chosen language (else the portal's)."""
    user = endpoint.user
    token = endpoint.created_by_token
    base_url = settings.PORTAL_BASE_URL
    context = {
        "email": user.email, "url": endpoint.url, "added_at": endpoint.created_at,
        "token_name": token.name if token is not None else "",
        "webhooks_link": f"{base_url}{reverse('webhooks:list')}",
        "reset_link": f"{base_url}{reverse('password_reset')}",
    }
    return email_in_language(user_id=user.pk, templates="webhooks/email/added", context=context, to=user.email)


def endpoint_added_notify(*, endpoint_id: uuid.UUID) -> bool:
    """Send the notice; run after the endpoint's transaction commits. A mail server that fails is logged, not raised:
    the endpoint exists, and the answer that carries its secret must not say otherwise."""
    endpoint = (WebhookEndpoint.objects.select_related("user", "created_by_token").filter(pk=endpoint_id).first())
    if endpoint is None or not endpoint.user.email:
        return False
    try:
        endpoint_added_message(endpoint).send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.error("webhooks.endpoint.notice_failed", extra={
            "event": "webhooks.endpoint.notice_failed", "user_id": endpoint.user_id, "error": type(exc).__name__})
        return False
    return True
