"""Django's cached_db sessions, recording which user each signed-in session belongs to (orders.models.UserSession).

A session gets a new key whenever someone signs in and whenever update_session_auth_hash runs (password change), so
the record is written when a key created in this request is first saved with a signed-in user in it. It goes away
with its session (sign-out, expiry clean-up, revocation), by cascade.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore
from django.db import IntegrityError, transaction


class SessionStore(CachedDbStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._created_key: str | None = None
        self._recorded_key: str | None = None

    def create(self) -> None:
        super().create()
        self._created_key = self.session_key

    def save(self, must_create: bool = False) -> None:
        super().save(must_create)
        key = self.session_key
        if must_create or key is None or key != self._created_key or key == self._recorded_key:
            return
        user_id = self.get(SESSION_KEY)
        if user_id is None:
            return
        self._record(key, user_id)

    def _record(self, key: str, user_id: Any) -> None:
        from orders.models import UserSession

        try:
            with transaction.atomic():
                UserSession.objects.get_or_create(session_id=key, defaults={"user_id": int(user_id)})
        except (IntegrityError, ValueError):
            # The session or the user went away in the meantime: there is nothing left to revoke.
            return
        self._recorded_key = key
