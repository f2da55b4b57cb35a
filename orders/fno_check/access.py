"""The access steps: one small read per entity set (a 401/403 here means the service user's role lacks it), the
companies the service user sees with cross-company=true, and every account linked to a portal user."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

from orders.fno_check.report import Outcome
from orders.fno_check.state import CheckRun, ms
from orders.fno_reads import EntityRead, portal_reads
from orders.models import CustomerAccountLink
from orders.odata.errors import ODataError
from orders.odata.query import Query, all_of, any_of, eq, ne

MAX_COMPANIES = 40
ACCOUNTS_PER_READ = 15


def read_step(run: CheckRun, read: EntityRead) -> None:
    assert run.client is not None
    entity_set = read.entity_set
    if run.model is not None and run.model.entity_type(entity_set) is None:
        run.skip("read", entity_set, "not in $metadata")
        return
    if run.out_of_time():
        run.skip("read", entity_set, "out of time")
        return
    query = Query(entity_set).selecting(*run.present(read)).page(top=1)
    nav = read.navigation
    if nav is not None and run.model is not None:
        entity = run.model.entity_type(entity_set)
        lines = next((r for r in portal_reads() if r.entity_set == nav.target_set), None)
        if entity is not None and nav.name in entity.navigations and lines is not None:
            query = query.expanding(nav.name, *run.present(lines))
    started = time.monotonic()
    try:
        page = run.client.get_page(query, deadline=run.deadline(), request_id=run.request_id)
    except ODataError as exc:
        run.add("read", entity_set, Outcome.FAIL, _read_failure(exc, read), setting=read.setting,
                latency_ms=ms(started))
        return
    rows = "1 row" if page.rows else "answered, no rows"
    run.add("read", entity_set, Outcome.OK, rows, setting=read.setting, latency_ms=ms(started))


def companies_step(run: CheckRun, customers: EntityRead) -> None:
    assert run.client is not None
    entity_set = customers.entity_set
    if run.model is not None and run.model.entity_type(entity_set) is None:
        run.skip("companies", entity_set, "not in $metadata")
        return
    # One $top=1 read per company, each excluding those already found: exact, and cheap however many
    # customers each company has. cross-company=true shows every company the service user may read (§6).
    found: list[str] = []
    started = time.monotonic()
    try:
        while len(found) < MAX_COMPANIES and not run.out_of_time():
            query = Query(entity_set).selecting("dataAreaId").page(top=1)
            if found:
                query = query.where(all_of(*(ne("dataAreaId", c) for c in found)))
            page = run.client.get_page(query, deadline=run.deadline(), request_id=run.request_id)
            if not page.rows:
                break
            company = str(page.rows[0].get("dataAreaId", "")).lower()
            if not company or company in found:
                break
            found.append(company)
    except ODataError as exc:
        run.add("companies", entity_set, Outcome.FAIL, f"could not list companies: {exc}",
                setting=customers.setting, latency_ms=ms(started))
        return
    run.companies = tuple(sorted(found))
    if not found:
        run.add("companies", "cross-company=true", Outcome.FAIL,
                f"the service user sees no customer in any company through {entity_set}",
                latency_ms=ms(started))
        return
    more = " and more" if len(found) >= MAX_COMPANIES else ""
    run.add("companies", "cross-company=true", Outcome.OK, ", ".join(run.companies) + more,
            latency_ms=ms(started))


def accounts_step(run: CheckRun, customers: EntityRead) -> None:
    assert run.client is not None
    links = Counter(
        (company.lower(), account)
        for company, account in CustomerAccountLink.objects.values_list("company", "account")
    )
    if not links:
        run.add("accounts", "account links", Outcome.OK, "no portal user is linked to an F&O account yet")
        return
    entity_set = customers.entity_set
    if run.model is not None and run.model.entity_type(entity_set) is None:
        run.skip("accounts", entity_set, "not in $metadata")
        return
    by_company: dict[str, list[str]] = {}
    for company, account in sorted(links):
        by_company.setdefault(company, []).append(account)
    missing: list[tuple[str, str]] = []
    checked = 0
    started = time.monotonic()
    for company, accounts in by_company.items():
        if run.companies and company not in run.companies and len(run.companies) < MAX_COMPANIES:
            run.add("accounts", company, Outcome.FAIL,
                    f"{len(accounts)} linked account(s) in company {company}, which the service user cannot "
                    "read: give its role access to that company, or remove the links")
            continue
        for chunk in _chunks(accounts, ACCOUNTS_PER_READ):
            if run.out_of_time():
                run.skip("accounts", company, f"out of time after {checked} of {len(links)} accounts")
                return
            query = (
                Query(entity_set)
                .where(eq("dataAreaId", company) & any_of(*(eq("CustomerAccount", a) for a in chunk)))
                .selecting("dataAreaId", "CustomerAccount")
                .page(top=len(chunk))
            )
            try:
                page = run.client.get_page(query, deadline=run.deadline(), request_id=run.request_id)
            except ODataError as exc:
                run.add("accounts", company, Outcome.FAIL, f"could not check accounts: {exc}",
                        setting=customers.setting)
                return
            present = {str(row.get("CustomerAccount", "")).casefold() for row in page.rows}
            missing.extend((company, a) for a in chunk if a.casefold() not in present)
            checked += len(chunk)
    for company, account in missing:
        users = links[(company, account)]
        run.add("accounts", f"{company}:{account}", Outcome.FAIL,
                f"linked to {users} portal user(s), but F&O has no customer {account} in company {company}")
    if checked and not missing:
        run.add("accounts", "account links", Outcome.OK,
                f"all {checked} linked account(s) exist in F&O", latency_ms=ms(started))


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
