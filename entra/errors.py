"""What can go wrong between the portal and the identity provider.

    EntraError
    ├── EntraNotConfigured            no ENTRA_CLIENT_ID, or neither a secret nor a certificate
    ├── IdentityProviderUnavailable   discovery, keys or token endpoint: unreachable, timed out, 5xx, unreadable
    └── SignInRejected                the answer proves no identity; .reason is for the log, never for the page
        ├── FlowRejected              no sign-in in progress (replayed, another tab), state mismatch, or the
        │                             identity provider's own error (the user cancelled: .code access_denied)
        └── TokenRejected             the ID token: nonce, signature, issuer, audience, lifetime, no tid or oid

Decisions about a valid identity (unknown, tenant not allowed, deactivated user) are not errors here: they are the
sign-in's answers, made in entra.backends and entra.services.
"""

from __future__ import annotations


class EntraError(Exception):
    pass


class EntraNotConfigured(EntraError):
    pass


class IdentityProviderUnavailable(EntraError):
    pass


class SignInRejected(EntraError):
    def __init__(self, reason: str, *, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class FlowRejected(SignInRejected):
    pass


class TokenRejected(SignInRejected):
    pass
