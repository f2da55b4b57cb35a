"""Is this F&O environment ready for the portal? For the IT team's first day and after every F&O update.

`fno_check_run()` gets a token and shows its claims, checks `$metadata` against what the portal reads
(orders/fno_reads.py), runs one small read per entity set, lists the companies the service user can see, and checks
that every account linked to a portal user exists in F&O. `python manage.py fno_check` and the staff health page's
"Test connection" both show its report. `fno_probe()` is the one cheap read behind `/readyz?deep=1`.

The check calls F&O without the circuit breaker: it is the diagnosis people run when F&O misbehaves, and a
missing field (400) must not count against the breaker anyway.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from io import BytesIO
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orders import d365
from orders.fno_reads import EntityRead, Kind, portal_reads
from orders.models import CustomerAccountLink
from orders.odata.auth import TokenProvider
from orders.odata.client import Deadline, ODataClient, build_http_client
from orders.odata.errors import MalformedResponse, ODataError, TransportFailed
from orders.odata.query import Query, all_of, any_of, eq, ne

logger = logging.getLogger("orders.fno_check")

# F&O's full $metadata is several MB (reference §1); the portal's 8 MB cap for data pages does not fit it.
METADATA_MAX_BYTES = 64 * 1024 * 1024
MAX_COMPANIES = 40
ACCOUNTS_PER_READ = 15

_NUMBER_TYPES = frozenset({"Edm.Decimal", "Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Byte", "Edm.Double",
                           "Edm.Single"})


class Outcome(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckLine:
    section: str  # "token", "metadata", "read", "companies", "accounts"
    subject: str
    outcome: Outcome
    detail: str
    setting: str = ""  # the setting that would fix a failure
    latency_ms: int | None = None


@dataclass(frozen=True)
class TokenClaims:
    """What the IT team needs to see of the token: never the token itself."""

    audience: str
    tenant: str
    roles: tuple[str, ...]
    app_id: str


@dataclass(frozen=True)
class FnoCheckReport:
    started_at: datetime
    elapsed_ms: int
    environment: str
    lines: tuple[CheckLine, ...]
    token: TokenClaims | None = None
    companies: tuple[str, ...] = ()

    @property
    def problems(self) -> tuple[CheckLine, ...]:
        return tuple(line for line in self.lines if line.outcome is Outcome.FAIL)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "started_at": self.started_at.isoformat(),
            "elapsed_ms": self.elapsed_ms,
            "environment": self.environment,
            "token": asdict(self.token) if self.token else None,
            "companies": list(self.companies),
            "problems": len(self.problems),
            "lines": [{**asdict(line), "outcome": str(line.outcome)} for line in self.lines],
        }


# $metadata ------------------------------------------------------------------------------------------------------


@dataclass
class EntityTypeModel:
    properties: dict[str, str] = field(default_factory=dict)
    navigations: dict[str, str] = field(default_factory=dict)  # name -> target entity type, qualified


@dataclass(frozen=True)
class ServiceModel:
    sets: dict[str, str]  # entity set -> its entity type, qualified
    types: dict[str, EntityTypeModel]
    enums: frozenset[str]

    def entity_type(self, entity_set: str) -> EntityTypeModel | None:
        type_name = self.sets.get(entity_set)
        return self.types.get(type_name) if type_name else None


def service_model_parse(body: bytes) -> ServiceModel:
    """The parts of an EDMX 4.0 document the check needs, read as a stream: F&O's is several MB."""
    sets: dict[str, str] = {}
    types: dict[str, EntityTypeModel] = {}
    enums: set[str] = set()
    namespace = ""
    current: EntityTypeModel | None = None
    # EDMX never declares a DTD; refusing one rules out entity-expansion bombs, and expat fetches no external
    # entities, so the standard library parser is safe here without defusedxml.
    if b"<!doctype" in body.lower():
        raise MalformedResponse("$metadata declares a DTD")
    try:
        for event, element in ET.iterparse(BytesIO(body), events=("start", "end")):  # noqa: S314
            local = element.tag.rsplit("}", 1)[-1]
            if event == "end":
                if local in ("EntityType", "ComplexType", "EnumType"):
                    current = None
                    element.clear()
                continue
            name = element.get("Name", "")
            if local == "Schema":
                namespace = element.get("Namespace", "")
            elif local == "EntityType":
                current = types.setdefault(f"{namespace}.{name}", EntityTypeModel())
            elif local == "ComplexType":
                current = None
            elif local == "EnumType":
                enums.add(f"{namespace}.{name}")
            elif local == "Property" and current is not None:
                current.properties[name] = element.get("Type", "")
            elif local == "NavigationProperty" and current is not None:
                target = element.get("Type", "")
                if target.startswith("Collection(") and target.endswith(")"):
                    target = target[len("Collection("):-1]
                current.navigations[name] = target
            elif local == "EntitySet":
                sets[name] = element.get("EntityType", "")
    except ET.ParseError as exc:
        raise MalformedResponse(f"$metadata is not XML: {exc}") from exc
    if not sets:
        raise MalformedResponse("$metadata names no entity set")
    return ServiceModel(sets=sets, types=types, enums=frozenset(enums))


def _type_fits(kind: Kind, edm_type: str, enums: frozenset[str]) -> bool:
    if kind is Kind.TEXT:
        return edm_type == "Edm.String"
    if kind is Kind.NUMBER:
        return edm_type in _NUMBER_TYPES
    if kind is Kind.ID:
        return edm_type in ("Edm.Int64", "Edm.Int32")
    if kind is Kind.DATE:
        return edm_type in ("Edm.DateTimeOffset", "Edm.Date")
    if kind is Kind.DATETIME:
        return edm_type == "Edm.DateTimeOffset"
    enum_name = str(kind).removeprefix("enum ")
    return edm_type in enums and edm_type.rsplit(".", 1)[-1] == enum_name


# Tokens ---------------------------------------------------------------------------------------------------------


def token_claims(token: str) -> dict[str, Any] | None:
    """The JWT's payload, decoded without verifying: only to show who the token says we are."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


def audience_normalised(value: str) -> str:
    """F&O accepts a token only for the environment URL exactly: lower case, no trailing slash (reference §8)."""
    return value.strip().rstrip("/").lower()


# The check ------------------------------------------------------------------------------------------------------


class _Check:
    def __init__(self, *, budget_seconds: float | None, tokens: TokenProvider | None,
                 transport: httpx.BaseTransport | None, request_id: str) -> None:
        self.lines: list[CheckLine] = []
        self.claims: TokenClaims | None = None
        self.companies: tuple[str, ...] = ()
        self.request_id = request_id
        self.budget = Deadline(budget_seconds) if budget_seconds else None
        self.tokens = tokens
        self.transport = transport
        self.model: ServiceModel | None = None
        self.client: ODataClient | None = None
        self.http: httpx.Client | None = None

    # helpers
    def add(self, section: str, subject: str, outcome: Outcome, detail: str, *, setting: str = "",
            latency_ms: int | None = None) -> None:
        self.lines.append(CheckLine(section, subject, outcome, detail, setting, latency_ms))

    def deadline(self) -> Deadline:
        seconds = settings.D365_TIMEOUT_SECONDS
        if self.budget is not None:
            seconds = min(seconds, self.budget.remaining())
        return Deadline(max(0.0, seconds))

    def out_of_time(self) -> bool:
        return self.budget is not None and self.budget.remaining() < 0.1

    def skip(self, section: str, subject: str, why: str) -> None:
        self.add(section, subject, Outcome.SKIPPED, why)

    # steps
    def run(self) -> None:
        if not settings.D365_URL:
            self.add("config", "D365_URL", Outcome.FAIL, "D365_URL is not set: there is no F&O environment to check",
                     setting="D365_URL")
            return
        try:
            tokens = self.tokens or d365.get_odata_client().tokens
        except ImproperlyConfigured as exc:
            self.add("config", "settings", Outcome.FAIL, str(exc))
            return
        if not self.token_step(tokens):
            self.skip("metadata", "$metadata", "no token")
            return
        self.http = build_http_client(
            connect_timeout=settings.D365_CONNECT_TIMEOUT_SECONDS,
            read_timeout=settings.D365_TIMEOUT_SECONDS,
            user_agent=f"fno-order-portal/{settings.VERSION} fno_check",
            transport=self.transport,
        )
        try:
            self.client = ODataClient(service_root=settings.D365_URL + "/data/", http=self.http, tokens=tokens,
                                      max_pages=1, max_response_bytes=METADATA_MAX_BYTES)
            self.metadata_step()
            reads = portal_reads()
            for read in reads:
                self.read_step(read)
            customers = next(r for r in reads if r.setting == "D365_ENTITY_CUSTOMERS")
            self.companies_step(customers)
            self.accounts_step(customers)
        finally:
            self.http.close()

    def token_step(self, tokens: TokenProvider) -> bool:
        if not settings.D365_CLIENT_ID:
            self.add("token", "token", Outcome.WARN,
                     "no D365_CLIENT_ID configured: no token is sent, which only the local simulator accepts",
                     setting="D365_CLIENT_ID")
            return True
        started = time.monotonic()
        try:
            token = tokens.token(timeout=self.deadline().remaining())
        except ODataError as exc:
            self.add("token", "token", Outcome.FAIL, f"no token from the identity provider: {exc}",
                     setting="D365_TENANT_ID / D365_CLIENT_ID / D365_CLIENT_SECRET", latency_ms=_ms(started))
            return False
        latency = _ms(started)
        claims = token_claims(token)
        if claims is None:
            self.add("token", "token", Outcome.WARN, "a token was issued, but it is not a JWT: its claims cannot be "
                     "shown", latency_ms=latency)
            return True
        roles = claims.get("roles") or ()
        self.claims = TokenClaims(
            audience=str(claims.get("aud", "")),
            tenant=str(claims.get("tid", "")),
            roles=tuple(str(r) for r in roles) if isinstance(roles, list) else (),
            app_id=str(claims.get("appid") or claims.get("azp") or ""),
        )
        self.add("token", "token", Outcome.OK,
                 f"audience {self.claims.audience or '(none)'}, tenant {self.claims.tenant or '(none)'}, "
                 f"roles {', '.join(self.claims.roles) or '(none)'}", latency_ms=latency)
        if audience_normalised(self.claims.audience) != audience_normalised(settings.D365_URL):
            self.add("token", "audience", Outcome.FAIL,
                     f"the token is for {self.claims.audience!r}, but F&O at {settings.D365_URL} accepts only "
                     f"{audience_normalised(settings.D365_URL)!r} (lower case, no trailing slash)",
                     setting="D365_SCOPE")
        if settings.D365_TENANT_ID and self.claims.tenant.lower() != settings.D365_TENANT_ID.lower():
            self.add("token", "tenant", Outcome.FAIL,
                     f"the token's tenant {self.claims.tenant!r} is not D365_TENANT_ID {settings.D365_TENANT_ID!r}",
                     setting="D365_TENANT_ID")
        return True

    def metadata_step(self) -> None:
        assert self.client is not None
        started = time.monotonic()
        try:
            body = self.client.get_metadata(deadline=self.deadline(), request_id=self.request_id)
            self.model = service_model_parse(body)
        except ODataError as exc:
            why = "timed out waiting for $metadata" if getattr(exc, "timed_out", False) else str(exc)
            self.add("metadata", "$metadata", Outcome.FAIL, f"F&O did not give its $metadata: {why}",
                     latency_ms=_ms(started))
            return
        self.add("metadata", "$metadata", Outcome.OK,
                 f"{len(self.model.sets)} entity sets, {len(body) // 1024} KiB", latency_ms=_ms(started))
        for read in portal_reads():
            self.entity_step(read)

    def entity_step(self, read: EntityRead) -> None:
        assert self.model is not None
        entity_set = read.entity_set
        entity = self.model.entity_type(entity_set)
        if entity is None:
            self.add("metadata", entity_set, Outcome.FAIL,
                     f"F&O has no entity set {entity_set} (set by {read.setting})", setting=read.setting)
            return
        failures = 0
        for name in read.fields:
            edm_type = entity.properties.get(name)
            kind = read.kind_of(name)
            if edm_type is None:
                failures += 1
                self.add("metadata", f"{entity_set}.{name}", Outcome.FAIL,
                         f"{entity_set} has no field {name} (set by {read.setting})", setting=read.setting)
            elif kind is not None and not _type_fits(kind, edm_type, self.model.enums):
                failures += 1
                self.add("metadata", f"{entity_set}.{name}", Outcome.FAIL,
                         f"{entity_set}.{name} is {edm_type}, but the portal reads it as {kind} "
                         f"(set by {read.setting})", setting=read.setting)
        nav = read.navigation
        nav_note = ""
        if nav is not None:
            target = self.model.sets.get(nav.target_set)
            found = entity.navigations.get(nav.name)
            if found is None:
                failures += 1
                self.add("metadata", f"{entity_set}/{nav.name}", Outcome.FAIL,
                         f"{entity_set} has no navigation {nav.name} (set by {nav.setting})", setting=nav.setting)
            elif target is not None and found != target:
                failures += 1
                self.add("metadata", f"{entity_set}/{nav.name}", Outcome.FAIL,
                         f"{entity_set}/{nav.name} leads to {found}, not to {nav.target_set} ({target}) "
                         f"(set by {nav.setting} or {nav.target_setting})", setting=nav.setting)
            else:
                nav_note = f"; navigation {nav.name} to {nav.target_set}"
        if not failures:
            self.add("metadata", entity_set, Outcome.OK,
                     f"{read.purpose}: {len(read.fields)} fields as expected{nav_note}", setting=read.setting)

    def _present(self, read: EntityRead) -> tuple[str, ...]:
        """The fields to select: all the portal's, less those $metadata already reported missing (the read then
        still tests access and latency)."""
        entity = self.model.entity_type(read.entity_set) if self.model else None
        if entity is None:
            return read.fields
        return tuple(f for f in read.fields if f in entity.properties)

    def read_step(self, read: EntityRead) -> None:
        assert self.client is not None
        entity_set = read.entity_set
        if self.model is not None and self.model.entity_type(entity_set) is None:
            self.skip("read", entity_set, "not in $metadata")
            return
        if self.out_of_time():
            self.skip("read", entity_set, "out of time")
            return
        query = Query(entity_set).selecting(*self._present(read)).page(top=1)
        nav = read.navigation
        if nav is not None and self.model is not None:
            entity = self.model.entity_type(entity_set)
            lines = next((r for r in portal_reads() if r.entity_set == nav.target_set), None)
            if entity is not None and nav.name in entity.navigations and lines is not None:
                query = query.expanding(nav.name, *self._present(lines))
        started = time.monotonic()
        try:
            page = self.client.get_page(query, deadline=self.deadline(), request_id=self.request_id)
        except ODataError as exc:
            self.add("read", entity_set, Outcome.FAIL, _read_failure(exc, read), setting=read.setting,
                     latency_ms=_ms(started))
            return
        rows = "1 row" if page.rows else "answered, no rows"
        self.add("read", entity_set, Outcome.OK, rows, setting=read.setting, latency_ms=_ms(started))

    def companies_step(self, customers: EntityRead) -> None:
        assert self.client is not None
        entity_set = customers.entity_set
        if self.model is not None and self.model.entity_type(entity_set) is None:
            self.skip("companies", entity_set, "not in $metadata")
            return
        # One $top=1 read per company, each excluding those already found: exact, and cheap however many
        # customers each company has. cross-company=true shows every company the service user may read (§6).
        found: list[str] = []
        started = time.monotonic()
        try:
            while len(found) < MAX_COMPANIES and not self.out_of_time():
                query = Query(entity_set).selecting("dataAreaId").page(top=1)
                if found:
                    query = query.where(all_of(*(ne("dataAreaId", c) for c in found)))
                page = self.client.get_page(query, deadline=self.deadline(), request_id=self.request_id)
                if not page.rows:
                    break
                company = str(page.rows[0].get("dataAreaId", "")).lower()
                if not company or company in found:
                    break
                found.append(company)
        except ODataError as exc:
            self.add("companies", entity_set, Outcome.FAIL, f"could not list companies: {exc}",
                     setting=customers.setting, latency_ms=_ms(started))
            return
        self.companies = tuple(sorted(found))
        if not found:
            self.add("companies", "cross-company=true", Outcome.FAIL,
                     f"the service user sees no customer in any company through {entity_set}",
                     latency_ms=_ms(started))
            return
        more = " and more" if len(found) >= MAX_COMPANIES else ""
        self.add("companies", "cross-company=true", Outcome.OK, ", ".join(self.companies) + more,
                 latency_ms=_ms(started))

    def accounts_step(self, customers: EntityRead) -> None:
        assert self.client is not None
        links = Counter(
            (company.lower(), account)
            for company, account in CustomerAccountLink.objects.values_list("company", "account")
        )
        if not links:
            self.add("accounts", "account links", Outcome.OK, "no portal user is linked to an F&O account yet")
            return
        entity_set = customers.entity_set
        if self.model is not None and self.model.entity_type(entity_set) is None:
            self.skip("accounts", entity_set, "not in $metadata")
            return
        by_company: dict[str, list[str]] = {}
        for company, account in sorted(links):
            by_company.setdefault(company, []).append(account)
        missing: list[tuple[str, str]] = []
        checked = 0
        started = time.monotonic()
        for company, accounts in by_company.items():
            if self.companies and company not in self.companies and len(self.companies) < MAX_COMPANIES:
                self.add("accounts", company, Outcome.FAIL,
                         f"{len(accounts)} linked account(s) in company {company}, which the service user cannot "
                         "read: give its role access to that company, or remove the links")
                continue
            for chunk in _chunks(accounts, ACCOUNTS_PER_READ):
                if self.out_of_time():
                    self.skip("accounts", company, f"out of time after {checked} of {len(links)} accounts")
                    return
                query = (
                    Query(entity_set)
                    .where(eq("dataAreaId", company) & any_of(*(eq("CustomerAccount", a) for a in chunk)))
                    .selecting("dataAreaId", "CustomerAccount")
                    .page(top=len(chunk))
                )
                try:
                    page = self.client.get_page(query, deadline=self.deadline(), request_id=self.request_id)
                except ODataError as exc:
                    self.add("accounts", company, Outcome.FAIL, f"could not check accounts: {exc}",
                             setting=customers.setting)
                    return
                present = {str(row.get("CustomerAccount", "")).casefold() for row in page.rows}
                missing.extend((company, a) for a in chunk if a.casefold() not in present)
                checked += len(chunk)
        for company, account in missing:
            users = links[(company, account)]
            self.add("accounts", f"{company}:{account}", Outcome.FAIL,
                     f"linked to {users} portal user(s), but F&O has no customer {account} in company {company}")
        if checked and not missing:
            self.add("accounts", "account links", Outcome.OK,
                     f"all {checked} linked account(s) exist in F&O", latency_ms=_ms(started))


def _read_failure(exc: ODataError, read: EntityRead) -> str:
    if exc.status_code in (401, 403):
        return (f"refused ({exc.status_code}): the service user's role may not read {read.entity_set} "
                f"({read.purpose})")
    if exc.status_code == 404:
        return f"F&O does not know {read.entity_set} (set by {read.setting})"
    return f"{type(exc).__name__}: {exc}"


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def fno_check_run(
    *,
    budget_seconds: float | None = None,
    request_id: str = "FNO-CHECK",
    tokens: TokenProvider | None = None,
    transport: httpx.BaseTransport | None = None,
) -> FnoCheckReport:
    """Run every check. `budget_seconds` bounds the whole run (the staff page); each call is also bounded by
    D365_TIMEOUT_SECONDS. Never raises for what F&O does: every failure is a line of the report."""
    started_at = datetime.now(UTC)
    started = time.monotonic()
    check = _Check(budget_seconds=budget_seconds, tokens=tokens, transport=transport, request_id=request_id)
    check.run()
    report = FnoCheckReport(
        started_at=started_at,
        elapsed_ms=_ms(started),
        environment=settings.D365_URL,
        lines=tuple(check.lines),
        token=check.claims,
        companies=check.companies,
    )
    logger.info("fno_check.done", extra={"event": "fno_check", "ref": request_id, "ok": report.ok,
                                         "problems": len(report.problems), "elapsed_ms": report.elapsed_ms})
    return report


# Readiness ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FnoProbe:
    state: str  # "ok", "timeout" or "fail: <error>"
    latency_ms: int


def fno_probe(*, timeout: float, request_id: str = "READYZ") -> FnoProbe:
    """One cheap read through the portal's own client (breaker included): what a customer's lookup would meet."""
    started = time.monotonic()
    try:
        query = Query(settings.D365_ENTITY_SALES_ORDERS).selecting("dataAreaId").page(top=1)
        d365.get_odata_client().get_page(query, deadline=Deadline(timeout), request_id=request_id)
    except TransportFailed as exc:
        return FnoProbe("timeout" if exc.timed_out else f"fail: {type(exc).__name__}", _ms(started))
    except (ODataError, ImproperlyConfigured) as exc:
        return FnoProbe(f"fail: {type(exc).__name__}", _ms(started))
    return FnoProbe("ok", _ms(started))
