"""The language chosen in this browser session: it wins over the browser's Accept-Language."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from .selectors import language_supported

SESSION_KEY = "portal_language"


def session_language(request: HttpRequest) -> str:
    session = getattr(request, "session", None)
    language = session.get(SESSION_KEY, "") if session is not None else ""
    return language if isinstance(language, str) and language_supported(language) else ""


def session_language_keep(request: HttpRequest, language: str) -> None:
    request.session[SESSION_KEY] = language


def language_cookie_set(response: HttpResponseBase, language: str) -> None:
    """The cookie Django's set_language view sets: after sign-out, the sign-in page keeps the user's language."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language,
        max_age=settings.LANGUAGE_COOKIE_AGE, path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN, secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY, samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
