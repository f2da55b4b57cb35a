"""The path a log line may record. Some paths are credentials: the one-click "stop watching" link
(/watches/stop/<token>/, which never expires) and Django's password reset link (/accounts/password/reset/<uidb64>/
<token>/). Whoever reads the logs must not be able to use them, so for a route with a URL parameter named `token`
the logs get the route itself (`/watches/stop/<str:token>/`), which names the view as well as the path did.

Query strings are never logged (the guest tracking link's `?t=`, the invitation's `?token=`, search text): the
request log, the JSON formatter and gunicorn's access log (gunicorn.conf.py) all go through `path_for_log`.
"""

from __future__ import annotations

from django.urls import Resolver404, ResolverMatch, resolve

# A URL parameter with one of these names is a secret, whatever view it belongs to.
SECRET_PARAMETERS = frozenset({"token"})
# Where the request log leaves the path it logged, in the WSGI environ, for gunicorn's access log to log the same.
LOG_PATH_KEY = "portal.log_path"


def _route(path: str) -> ResolverMatch | None:
    """The route a path that was not dispatched would have reached: a 404, or a redirect that adds the slash."""
    candidates = (path,) if path.endswith("/") else (path, f"{path}/")
    for candidate in candidates:
        try:
            return resolve(candidate)
        except Resolver404:
            continue
    return None


def path_for_log(path: str, match: ResolverMatch | None = None) -> str:
    """`path` (without its query string), or its route when the path carries a secret. `match` is the request's
    resolver_match when it has one (no second resolve on the request path); without it the path is resolved here."""
    path = path.split("?", 1)[0]
    if match is None:
        try:
            match = _route(path)
        except Exception:  # a path the URLconf cannot even parse: keep nothing of it rather than fail
            return "-"
    if match is not None and not SECRET_PARAMETERS.isdisjoint(match.kwargs):
        return f"/{match.route}"
    return path
