from __future__ import annotations

from .models import LanguagePreference
from .selectors import language_supported


def user_language_set(*, user_id: int, language: str) -> None:
    if not language_supported(language):
        raise ValueError(f"unsupported language {language!r}")
    LanguagePreference.objects.update_or_create(user_id=user_id, defaults={"language": language})
