"""Logging: one JSON object per line. Part of portal/settings.py, which imports it."""

from portal.env import env_str

# One JSON object per line (LOG_FORMAT=plain for reading in a terminal). Tokens, passwords and secrets are never
# logged: the loggers that could see them (httpx, msal) are held at WARNING.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "orders.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": env_str("LOG_FORMAT", "json")}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "msal": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
