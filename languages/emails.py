"""E-mails written in the reader's language: the user's choice, or the site's default when they made none."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from .selectors import user_language


def email_in_language(*, user_id: int, templates: str, context: dict[str, Any], to: str) -> EmailMultiAlternatives:
    """A text and HTML e-mail from `<templates>_subject.txt`, `<templates>.txt` and `<templates>.html`, rendered in
    the user's language, not in the language of whoever caused it (a staff member, another session)."""
    with translation.override(user_language(user_id=user_id) or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{templates}_subject.txt", context).split())
        text = render_to_string(f"{templates}.txt", context)
        html = render_to_string(f"{templates}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(html, "text/html")
    return message
