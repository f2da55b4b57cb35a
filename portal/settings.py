"""One settings module; the environment decides. See README.md and .env.example for every variable."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import django_stubs_ext

from portal import __version__
from portal.env import env_bool, env_float, env_int, env_list, env_rate, env_str

# Django's generic classes (ModelAdmin, ModelForm, ...) accept the type parameters the type checker reads.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = __version__

DEBUG = env_bool("DJANGO_DEBUG", False)
# Django raises ImproperlyConfigured on first use when this is empty, which it is outside debug
# unless DJANGO_SECRET_KEY is set.
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or ("insecure-development-key-never-use-in-production" if DEBUG else "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "cachalot",
    "axes",
    "csp",
    "orders",
    "watching",
    "webhooks",
    # After orders: its admin extends the user admin that orders registers.
    "entra",
    "languages",
]

# Authentication and messages are Django's own, stepping aside for the API's bearer requests; the CSP is
# django-csp's, its policy built once (orders.middleware_stack).
MIDDLEWARE = [
    "orders.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "orders.middleware.SessionIdleMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A language chosen with the switch (kept in the session, copied from the user at sign-in) beats the browser's.
    "languages.middleware.SessionLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "orders.middleware_stack.AuthenticationMiddleware",
    "orders.middleware_stack.MessageMiddleware",
    "orders.middleware.PrivatePagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "orders.middleware_stack.CSPMiddleware",
    "orders.middleware.PermissionsPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orders.middleware.reference_context",
            ],
        },
    },
]

# The database and the cache ---------------------------------------------------------------------
from portal.settings_stores import *  # noqa: E402, F403

# cached_db, plus a record of which user holds which session, so that revoking a user ends every session of theirs.
SESSION_ENGINE = "orders.session_store"
# Tables written on most requests gain nothing from cachalot and would churn its invalidation.
CACHALOT_UNCACHABLE_TABLES = frozenset({
    "django_migrations", "django_session", "axes_accessattempt", "axes_accesslog", "axes_accessfailurelog",
    "orders_lookupaudit", "orders_lookupsnapshot", "orders_fnocall", "orders_apitoken", "orders_usersession",
    # Written by the watcher process and read by the portal (or the other way round): with the local-memory cache
    # one process's cachalot would never hear of the other's writes.
    "orders_promisedate", "orders_orderseen", "watching_watch", "watching_watchedorder", "watching_changeevent",
    "watching_emailnotification",
    "webhooks_webhookendpoint", "webhooks_webhookdelivery", "webhooks_webhookattempt",
    "languages_languagepreference",
})
# A query on those tables is refused before cachalot compiles it for a key it would never use.
CACHALOT_QUERY_KEYGEN = "portal.query_cache.query_cache_key"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "orders.signin.AddressLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Sign in with Microsoft: reached through django.contrib.auth.authenticate, so both lock-outs above apply.
    "entra.backends.EntraBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "orders:list"
LOGOUT_REDIRECT_URL = "login"
ADMIN_PATH = env_str("DJANGO_ADMIN_PATH", "admin/").strip("/") + "/"

# Failed sign-ins: after AXES_FAILURE_LIMIT failures for one user name from one address, that pair is
# locked out for AXES_COOLOFF_MINUTES. Locking per pair keeps an attacker from locking a customer out.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# A refused Microsoft sign-in is recorded like a failed one, with its query string: keep the authorization response
# (already redeemed, but a credential for its few minutes) out of the record.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "state", "session_state", "client_info"]
# ...and one address may fail this many sign-ins, across all user names, per cool-off window before every sign-in
# from it is refused for the rest of the window (credential stuffing). orders.signin keeps this count; axes can hold
# one limit only. 0 turns it off.
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 30)

# The client's address (orders.client_address, axes, the request log, the audit). Behind N trusted proxies it is the
# N-th address from the right of X-Forwarded-For: each proxy appends the address it was connected from, and what
# stands further left came from the client, forgeable. django-ipware counts only the proxies *listed* in the header
# (the nearest one is REMOTE_ADDR, not listed), so it is given N - 1, and not strict, so a forged or malformed
# left part cannot make it fall back to the balancer's address. With no proxy, X-Forwarded-For is never read.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT > 0:
    AXES_IPWARE_META_PRECEDENCE_ORDER: tuple[str, ...] = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT: int | None = TRUSTED_PROXY_COUNT - 1
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
    AXES_IPWARE_PROXY_COUNT = None
AXES_IPWARE_PROXY_ORDER = "left-most"
IPWARE_STRICT = False

EMAIL_HOST = env_str("EMAIL_HOST")
# SMTP when EMAIL_HOST is set, else the console; EMAIL_BACKEND names any backend (the file backend writes each
# message under EMAIL_FILE_PATH).
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or str(BASE_DIR / "var" / "mail")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "orders@localhost")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
# The German catalogue: `python manage.py catalogue` extracts and compiles it (README, Languages).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security: HSTS, cookies, sessions, CSRF, headers and the Content-Security-Policy ----------------
from portal.settings_security import *  # noqa: E402, F403

# Sign in with Microsoft (entra/) -------------------------------------------------------------
# On when a client id and a secret or certificate are set. The authority's host decides how MSAL reaches it: a
# Microsoft login host as an Entra authority, any other (an External ID custom domain) as a generic OpenID Connect
# authority. ENTRA_ALLOWED_TENANTS, when set, is the only tenants whose accounts may sign in.
ENTRA_CLIENT_ID = env_str("ENTRA_CLIENT_ID")
ENTRA_CLIENT_SECRET = env_str("ENTRA_CLIENT_SECRET")
ENTRA_CLIENT_CERTIFICATE_PATH = env_str("ENTRA_CLIENT_CERTIFICATE_PATH")
ENTRA_CLIENT_CERTIFICATE_THUMBPRINT = env_str("ENTRA_CLIENT_CERTIFICATE_THUMBPRINT")
ENTRA_AUTHORITY = env_str("ENTRA_AUTHORITY", "https://login.microsoftonline.com/organizations").rstrip("/")
ENTRA_ALLOWED_TENANTS = [tenant.lower() for tenant in env_list("ENTRA_ALLOWED_TENANTS")]
# The redirect URI registered for the app; empty: this portal's /accounts/microsoft/callback/ as the request names it.
ENTRA_REDIRECT_URI = env_str("ENTRA_REDIRECT_URI")
ENTRA_TIMEOUT_SECONDS = env_float("ENTRA_TIMEOUT_SECONDS", 10.0)
ENTRA_INVITATION_DAYS = env_int("ENTRA_INVITATION_DAYS", 7)
# TLS to the identity provider: the system trust store, or the bundle named the way requests and OpenSSL name it.
ENTRA_CA_BUNDLE = env_str("REQUESTS_CA_BUNDLE") or env_str("SSL_CERT_FILE")
if ENTRA_CLIENT_ID:
    # The sign-in forms post to this portal, which redirects to the identity provider: browsers hold a form's
    # redirects to form-action too. A new policy, not the imported one changed: that one is shared by every import.
    _entra_origin = "{0.scheme}://{0.netloc}".format(urlsplit(ENTRA_AUTHORITY))
    from portal.settings_security import CONTENT_SECURITY_POLICY as _security_policy

    _directives = _security_policy["DIRECTIVES"]
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**_directives, "form-action": [*_directives["form-action"],
                                                                             _entra_origin]}}

# F&O: every D365_* setting ---------------------------------------------------------------------
from portal.settings_d365 import *  # noqa: E402, F403

ORDERS_CACHE_SECONDS = env_int("ORDERS_CACHE_SECONDS", 30)
ORDERS_STALE_SECONDS = env_int("ORDERS_STALE_SECONDS", 900)
# F&O reads the cache could not answer, per signed-in user and per API token (web and API together, all instances).
ORDERS_USER_BUDGET = env_rate("ORDERS_USER_BUDGET", "30/m")
# A lookup that found nothing is remembered per user this long, so asking again costs F&O nothing.
ORDERS_NOT_FOUND_SECONDS = env_int("ORDERS_NOT_FOUND_SECONDS", 30)
# Forced live re-reads ("Refresh") per user.
ORDERS_REFRESH_RATE = env_rate("ORDERS_REFRESH_RATE", "6/m")

# Guest order tracking (/track/): an order number and one fact only its customer has, no account. Off: /track/ is a
# 404. Tries are counted per client address and per order number (right or wrong); a bookmarked link lasts this long.
GUEST_TRACKING = env_bool("GUEST_TRACKING", False)
GUEST_TRACKING_TRIES_PER_ADDRESS = env_rate("GUEST_TRACKING_TRIES_PER_ADDRESS", "5/h")
GUEST_TRACKING_TRIES_PER_ORDER = env_rate("GUEST_TRACKING_TRIES_PER_ORDER", "5/h")
# ...per postal code or reference typed, across all order numbers: one known postal code cannot walk the numbers.
GUEST_TRACKING_TRIES_PER_FACT = env_rate("GUEST_TRACKING_TRIES_PER_FACT", "20/h")
# F&O reads for guests, all of them together, per minute (0: no cap): F&O's patience is kept for customers.
GUEST_TRACKING_READS_PER_MINUTE = env_int("GUEST_TRACKING_READS_PER_MINUTE", 60)
GUEST_LINK_DAYS = env_int("GUEST_LINK_DAYS", 30)

# Watched orders (python manage.py watch_orders): each is re-read from F&O at most this often.
ORDERS_WATCH_INTERVAL_SECONDS = env_int("ORDERS_WATCH_INTERVAL_SECONDS", 900)
# The portal's address as customers reach it: links in e-mails and webhook payloads are built on it.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://localhost:8000").rstrip("/")

# The lookup audit behind reference-code replay: kept this many days. "async" writes in a background thread.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 30)
AUDIT_WRITE_MODE = env_str("AUDIT_WRITE_MODE", "async")

# Requests per API token, shared by every instance through the cache. `off` for load tests.
API_RATE_LIMIT = env_rate("API_RATE_LIMIT", "120/m")
# Live (unrevoked, unexpired) API tokens one user may hold.
API_TOKENS_PER_USER = env_int("API_TOKENS_PER_USER", 10)

# Webhook endpoints one user may register. WEBHOOKS_ALLOW_PRIVATE=true (development and tests only) also accepts plain
# http and private, loopback and link-local addresses, which are otherwise refused (no SSRF).
WEBHOOKS_PER_USER = env_int("WEBHOOKS_PER_USER", 5)
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
# A webhook's host name must resolve within this, at registration and before each delivery (the system resolver's own
# wait is far longer): otherwise registering answers "try again" and the delivery is retried later.
WEBHOOKS_DNS_TIMEOUT_SECONDS = env_float("WEBHOOKS_DNS_TIMEOUT_SECONDS", 3.0)
# A slow receiver must not hold up the watcher: each pass sends from WEBHOOKS_SENDERS threads, starts no send after
# WEBHOOKS_PASS_SECONDS, and skips an endpoint for the rest of the pass once its sends took longer than
# WEBHOOKS_ENDPOINT_PASS_SECONDS in all.
WEBHOOKS_SENDERS = env_int("WEBHOOKS_SENDERS", 4)
WEBHOOKS_PASS_SECONDS = env_float("WEBHOOKS_PASS_SECONDS", 30.0)
WEBHOOKS_ENDPOINT_PASS_SECONDS = env_float("WEBHOOKS_ENDPOINT_PASS_SECONDS", 10.0)

# Logging: one JSON object per line, secrets never logged.
from portal.settings_logging import LOGGING as LOGGING  # noqa: E402

# /metrics answers only to `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers nobody.
METRICS_TOKEN = env_str("METRICS_TOKEN")
