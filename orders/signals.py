"""Signals orders sends to the apps built on it, which orders never imports (webhooks, watching, ...)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once by orders.services.api_token_revoke for a token it revokes, inside the revocation's transaction (a
# rolled-back revocation rolls back what a receiver did too), with token_id=<ApiToken pk> and user_id=<its user>.
# Every revocation path goes through api_token_revoke: the App access page, the admin, and orders.revocation (a
# deactivated user, a new password, an account link removed or changed). Receivers end what the token created.
api_token_revoked = Signal()
