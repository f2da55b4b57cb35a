"""One settings module; the environment decides. See README.md and .env.example for every variable."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
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

if not env_str("DATABASE_URL"):
    (BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A dead database must fail a request (and /readyz) quickly, not hang it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                # A cache outage must not become a portal outage: reads miss, writes are dropped.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"}}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

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

# Security ------------------------------------------------------------------------------------
# The portal normally runs behind a load balancer that ends TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("DJANGO_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # no script reads it: the portal has no JavaScript
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Signed-in sessions end after this many seconds without a request.
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_IDLE_SECONDS", 2 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = False  # renewed every few minutes instead: orders.middleware.SessionIdleMiddleware
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "orders.views.errors.csrf_failure"
SILENCED_SYSTEM_CHECKS = [
    # security.W008 (SECURE_SSL_REDIRECT off): TLS ends at the load balancer, which redirects; health checks
    # and local runs use plain http. Set DJANGO_SECURE_SSL_REDIRECT=true when the portal faces browsers directly.
    "security.W008",
    # security.W021 (HSTS preload off): joining the browsers' preload list commits the whole domain to https for
    # months and is hard to undo; the IT team opts in with DJANGO_HSTS_PRELOAD=true.
    "security.W021",
]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    }
}

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
    # redirects to form-action too.
    _entra_origin = "{0.scheme}://{0.netloc}".format(urlsplit(ENTRA_AUTHORITY))
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(_entra_origin)

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

# Logging: one JSON object per line, secrets never logged.
from portal.settings_logging import LOGGING as LOGGING  # noqa: E402

# A fixed-body view for `make bench` to measure the stack's ceiling; never on in production.
BENCH_CEILING_VIEW = env_bool("PORTAL_BENCH_CEILING", False)

# /metrics answers only to `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers nobody.
METRICS_TOKEN = env_str("METRICS_TOKEN")
