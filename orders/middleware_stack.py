"""Django's and django-csp's middleware as the portal runs them, each doing only the work its request needs.

The API (`/api/`) answers bearer-token requests from apps: no signed-in user, no messages. The authentication and
messages middleware therefore step aside for it, and an API request pays for neither; the browser's pages get both
as before. (Sessions and CSRF stay Django's own classes, which Django's deploy checks look for by name; for a request
without cookies both cost next to nothing.)

The Content-Security-Policy is the same for every response (no nonces, no per-view changes), so it is built once
per process rather than twice per response; a request or response that carries parts of its own gets django-csp's
own work.
"""

from __future__ import annotations

from typing import Any

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.http.response import HttpResponseBase

API_PREFIX = "/api/"


def _for_browsers(request: HttpRequest) -> bool:
    return not request.path_info.startswith(API_PREFIX)


class AuthenticationMiddleware(auth.AuthenticationMiddleware):
    def __call__(self, request: HttpRequest) -> Any:
        return super().__call__(request) if _for_browsers(request) else self.get_response(request)


class MessageMiddleware(messages.MessageMiddleware):
    def __call__(self, request: HttpRequest) -> Any:
        return super().__call__(request) if _for_browsers(request) else self.get_response(request)


# Parts a view or decorator may attach to a response for django-csp (none of the portal's do).
_RESPONSE_PARTS = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
# (header, policy, excluded path prefixes, the response attribute that exempts it), built from the settings once.
_Policy = tuple[str, str, tuple[str, ...], str]
_policies: list[_Policy] = []


def _built() -> list[_Policy]:
    if not _policies:
        for header, name, exempt, report_only in ((HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
                                                  (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY",
                                                   "_csp_exempt_ro", True)):
            policy = build_policy(report_only=report_only)
            prefixes = tuple((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
            _policies.append((header, policy, prefixes, exempt))
    return _policies


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policies.clear()


setting_changed.connect(_settings_changed, dispatch_uid="orders.middleware_stack.settings_changed")


class CSPMiddleware(csp.middleware.CSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, a) for a in _RESPONSE_PARTS):
            return super().process_response(request, response)
        if response.status_code in (404, 500) and settings.DEBUG:
            return response  # Django's debug pages, as django-csp leaves them
        for header, policy, prefixes, exempt in _built():
            if policy and header not in response and getattr(response, exempt, False) is False and not (
                prefixes and request.path_info.startswith(prefixes)
            ):
                response[header] = policy
        # As django-csp: a nonce asked for after the header was written raises rather than being silently left out.
        nonce_too_late = csp.middleware.CheckableLazyObject(self._csp_nonce_post_response)
        setattr(request, "csp_nonce", nonce_too_late)  # noqa: B010  (django-csp's attribute: HttpRequest declares none)
        return response
