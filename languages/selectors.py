from __future__ import annotations

from django.conf import settings

from .models import LanguagePreference


def language_supported(language: str) -> bool:
    return language in {code for code, _name in settings.LANGUAGES}


def user_language(*, user_id: int) -> str:
    """The user's chosen language, or "" when they never chose one."""
    language = LanguagePreference.objects.filter(user_id=user_id).values_list("language", flat=True).first()
    return language if language and language_supported(language) else ""
