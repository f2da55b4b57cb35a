"""One settings module; the environment decides. See README.md and .env.example for every variable."""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from portal import __version__
from portal.env import env_bool, env_float, env_int, env_list, env_rate, env_str

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
]

MIDDLEWARE = [
    "orders.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "orders.middleware.SessionIdleMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "orders.middleware.PrivatePagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
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
})

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "orders.signin.AddressLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
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
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT: int | None = TRUSTED_PROXY_COUNT - 1
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
    AXES_IPWARE_PROXY_COUNT = None
AXES_IPWARE_PROXY_ORDER = "left-most"
IPWARE_STRICT = False

EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
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

# F&O -----------------------------------------------------------------------------------------
# With debug on and no D365_URL, the portal talks to the local simulator that `make run` starts.
D365_URL = env_str("D365_URL", "http://127.0.0.1:8001" if DEBUG else "").rstrip("/")
D365_TENANT_ID = env_str("D365_TENANT_ID")
D365_CLIENT_ID = env_str("D365_CLIENT_ID")
D365_CLIENT_SECRET = env_str("D365_CLIENT_SECRET")
D365_CLIENT_CERTIFICATE_PATH = env_str("D365_CLIENT_CERTIFICATE_PATH")
D365_CLIENT_CERTIFICATE_THUMBPRINT = env_str("D365_CLIENT_CERTIFICATE_THUMBPRINT")
D365_AUTHORITY = env_str("D365_AUTHORITY") or (
    f"https://login.microsoftonline.com/{D365_TENANT_ID}" if D365_TENANT_ID else ""
)
# F&O accepts a token only when its audience is the environment URL exactly: lower case, no trailing slash. The
# scope (audience + /.default) is normalised here; the deploy check warns when the configured value needed it.
D365_SCOPE_CONFIGURED = env_str("D365_SCOPE").strip()
_d365_audience = (D365_SCOPE_CONFIGURED or D365_URL).lower().removesuffix("/.default").rstrip("/")
D365_SCOPE = f"{_d365_audience}/.default" if _d365_audience else ""
D365_TIMEOUT_SECONDS = env_float("D365_TIMEOUT_SECONDS", 8.0)
D365_CONNECT_TIMEOUT_SECONDS = env_float("D365_CONNECT_TIMEOUT_SECONDS", 3.0)
D365_MAX_CONNECTIONS = env_int("D365_MAX_CONNECTIONS", 50)
D365_MAX_RESPONSE_BYTES = env_int("D365_MAX_RESPONSE_BYTES", 8 * 1024 * 1024)
D365_MAX_PAGES = env_int("D365_MAX_PAGES", 10)
# No request to F&O is longer than this (path and query): IIS refuses query strings over 2,048 characters by default.
D365_MAX_URL_LENGTH = env_int("D365_MAX_URL_LENGTH", 2048)
# Many F&O sites use newer or extended entities; the portal reads the sets named here.
D365_ENTITY_SALES_ORDERS = env_str("D365_ENTITY_SALES_ORDERS", "SalesOrderHeadersV2")
D365_ENTITY_SALES_ORDER_LINES = env_str("D365_ENTITY_SALES_ORDER_LINES", "SalesOrderLines")
# The header's navigation to its lines: its name and the lines' entity set name differ between entity versions.
D365_NAV_SALES_ORDER_LINES = env_str("D365_NAV_SALES_ORDER_LINES", "SalesOrderLines")
D365_ENTITY_PACKING_SLIPS = env_str("D365_ENTITY_PACKING_SLIPS", "PackingSlipTrackingInformation")
# The packing slip journal (one row per posted slip) and its lines: what was in which delivery.
D365_ENTITY_PACKING_SLIP_JOURNAL = env_str("D365_ENTITY_PACKING_SLIP_JOURNAL", "CustPackingSlipJourBiEntities")
D365_ENTITY_PACKING_SLIP_LINES = env_str("D365_ENTITY_PACKING_SLIP_LINES", "CustPackingSlipTransBiEntities")
D365_ENTITY_INVOICES = env_str("D365_ENTITY_INVOICES", "SalesInvoiceHeadersV2")
D365_ENTITY_CUSTOMERS = env_str("D365_ENTITY_CUSTOMERS", "CustomersV3")

# Resilience: shared back-off after a 429, and a circuit breaker after repeated timeouts or 5xx.
D365_THROTTLE_DEFAULT_SECONDS = env_float("D365_THROTTLE_DEFAULT_SECONDS", 10.0)  # 429 without Retry-After
D365_THROTTLE_MAX_SECONDS = env_float("D365_THROTTLE_MAX_SECONDS", 300.0)
D365_BREAKER_FAILURES = env_int("D365_BREAKER_FAILURES", 5)
D365_BREAKER_WINDOW_SECONDS = env_int("D365_BREAKER_WINDOW_SECONDS", 30)
D365_BREAKER_COOLDOWN_SECONDS = env_float("D365_BREAKER_COOLDOWN_SECONDS", 15.0)

# true: an order's packing slips and invoices are read alongside its header (one round trip per cold lookup) and
# dropped unless the header, filtered by the customer's accounts, proves the order is theirs. false: read only
# after that proof (two round trips; no document query for an order that turns out not to be theirs).
D365_DOCUMENTS_IN_PARALLEL = env_bool("D365_DOCUMENTS_IN_PARALLEL", True)

ORDERS_CACHE_SECONDS = env_int("ORDERS_CACHE_SECONDS", 30)
ORDERS_STALE_SECONDS = env_int("ORDERS_STALE_SECONDS", 900)
# F&O reads the cache could not answer, per signed-in user and per API token (web and API together, all instances).
ORDERS_USER_BUDGET = env_rate("ORDERS_USER_BUDGET", "30/m")
# A lookup that found nothing is remembered per user this long, so asking again costs F&O nothing.
ORDERS_NOT_FOUND_SECONDS = env_int("ORDERS_NOT_FOUND_SECONDS", 30)
# Forced live re-reads ("Refresh") per user.
ORDERS_REFRESH_RATE = env_rate("ORDERS_REFRESH_RATE", "6/m")

# The lookup audit behind reference-code replay: kept this many days. "async" writes in a background thread.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 30)
AUDIT_WRITE_MODE = env_str("AUDIT_WRITE_MODE", "async")

# Requests per API token, shared by every instance through the cache. `off` for load tests.
API_RATE_LIMIT = env_rate("API_RATE_LIMIT", "120/m")
# Live (unrevoked, unexpired) API tokens one user may hold.
API_TOKENS_PER_USER = env_int("API_TOKENS_PER_USER", 10)

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

# A fixed-body view for `make bench` to measure the stack's ceiling; never on in production.
BENCH_CEILING_VIEW = env_bool("PORTAL_BENCH_CEILING", False)

# /metrics answers only to `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers nobody.
METRICS_TOKEN = env_str("METRICS_TOKEN")
