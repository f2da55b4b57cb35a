from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest

from .selectors import user_language
from .services import user_language_set
from .session import session_language, session_language_keep


def _language_on_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Signing in (password or Microsoft) applies the user's language. A language chosen with the switch in this
    session before signing in is the newer choice: it becomes the user's."""
    if request is None or getattr(request, "session", None) is None:
        return
    chosen = session_language(request)
    stored = user_language(user_id=user.pk)
    if chosen and chosen != stored:
        user_language_set(user_id=user.pk, language=chosen)
    elif stored:
        session_language_keep(request, stored)


def signals_connect() -> None:
    user_logged_in.connect(_language_on_sign_in, dispatch_uid="languages.signals.language_on_sign_in")
