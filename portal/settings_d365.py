"""The F&O settings (D365_*): where the environment is, how the portal signs in to it, timeouts and limits, the entity
sets it reads, and the resilience around every call. Part of portal/settings.py, which imports them all."""

from portal.env import env_bool, env_float, env_int, env_str

# With debug on and no D365_URL, the portal talks to the local simulator that `make run` starts.
D365_URL = env_str("D365_URL", "http://127.0.0.1:8001" if env_bool("DJANGO_DEBUG", False) else "").rstrip("/")
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
