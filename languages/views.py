from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from .selectors import language_supported
from .services import user_language_set
from .session import session_language_keep


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's set_language (the cookie, the redirect back to a safe `next`), and the choice kept in the session and,
    for a signed-in user, on the user: their next sign-in, on any device, and their e-mails use it."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if language_supported(language):
        session_language_keep(request, language)
        if request.user.is_authenticated:
            user_language_set(user_id=request.user.pk, language=language)
    return response
