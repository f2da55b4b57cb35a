"""gunicorn's access log (off unless GUNICORN_ACCESSLOG is set) without secrets.

gunicorn offers every request line, query string, header and WSGI variable to the access log format, and its
default format logs the request line with its query string and the Referer: the guest tracking link's `?t=`, the
invitation's `?token=`, the one-click "stop watching" path, cookies. This logger offers the format only what is
safe: the path as the portal's own request log records it (orders.log_paths: no query string, and a path that holds
a token replaced by its route), the method, status, sizes, times, user agent, and the response's X-Reference, which
finds the portal's own log line. Any other atom is '-'.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

_KEPT = ("h", "l", "u", "t", "s", "m", "H", "b", "B", "a", "T", "D", "M", "L", "p", "{x-reference}o")


def _path(environ: dict[str, Any]) -> str:
    """The path the portal's request log recorded (left in the environ: no second look at the URLconf), else this
    request's, worked out the same way: one that never reached the portal's middleware."""
    try:
        from orders.log_paths import LOG_PATH_KEY, path_for_log

        return str(environ.get(LOG_PATH_KEY) or path_for_log(str(environ.get("PATH_INFO") or "")))
    except Exception:  # the URLconf not loaded yet, or broken: log no path rather than a secret, or nothing
        return "-"


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type information: Logger is Any here
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        offered: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms = {name: offered[name] for name in _KEPT if name in offered}
        path = _path(environ)
        atoms.update(U=path, q="-", f="-",
                     r=f"{environ.get('REQUEST_METHOD', '-')} {path} {environ.get('SERVER_PROTOCOL', '-')}")
        return atoms
