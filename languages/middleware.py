from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from .session import language_cookie_set, session_language


class SessionLanguageMiddleware:
    """Right after LocaleMiddleware, which follows the language cookie, then Accept-Language: a language chosen with
    the switch, or the signed-in user's own (copied into the session at sign-in), wins over both. The API keeps to
    Accept-Language: its caller is an app with a token, not this browser session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = "" if request.path.startswith("/api/") else session_language(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            language_cookie_set(response, language)
        return response
