"""`python manage.py fno_check`, the staff page's "Test connection", and the simulator's `hide` switch behind them."""

from __future__ import annotations

import ast
import base64
import html
import io
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.test import Client

from orders import d365
from orders.checks import d365_scope_check
from orders.fno_check import fno_check_run, service_model_parse
from orders.fno_reads import portal_reads
from orders.odata.auth import MsalTokenProvider
from orders.odata.errors import MalformedResponse
from orders.roles import AGENT
from simulator.schema import SETS
from simulator.server import Simulator
from tests.factories import make_customer, staff_client
from tests.fakes import AUTHORITY, TENANT, TOKEN_ENDPOINT, FakeIdentityProvider

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("fno_check", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def _not_served_yet() -> set[str]:
    """Entity sets the portal reads that the simulator does not serve yet (the packing slip journal sets, until
    they land there). Everything else must pass."""
    from django.conf import settings

    return {getattr(settings, r.setting) for r in portal_reads()} - set(SETS)


def test_fno_check_passes_against_the_simulator(live_fno: Simulator) -> None:
    make_customer("alice@example.com", "usmf:US-001")
    make_customer("carla@example.com", "usmf:US-003", "demf:US-003")
    status, text = _run("--json")
    report = json.loads(text)
    missing = _not_served_yet()
    failures = [line for line in report["lines"] if line["outcome"] == "fail"]
    assert [f for f in failures if not any(name in f["subject"] for name in missing)] == []
    assert status == (1 if missing else 0)
    ok = {(line["section"], line["subject"]) for line in report["lines"] if line["outcome"] == "ok"}
    for entity_set in ("SalesOrderHeadersV2", "SalesOrderLines", "PackingSlipTrackingInformation",
                       "SalesInvoiceHeadersV2", "CustomersV3"):
        assert ("metadata", entity_set) in ok
        assert ("read", entity_set) in ok
    assert {"demf", "usmf"} <= set(report["companies"])
    accounts = next(line for line in report["lines"] if line["section"] == "accounts")
    assert accounts["detail"] == "all 3 linked account(s) exist in F&O"
    headers = next(line for line in report["lines"] if line["subject"] == "SalesOrderHeadersV2"
                   and line["section"] == "metadata")
    assert "navigation SalesOrderLines to SalesOrderLines" in headers["detail"]


def test_fno_check_prints_a_table_and_says_when_no_client_id_is_configured(live_fno: Simulator) -> None:
    _, text = _run()
    assert text.splitlines()[2].split() == ["CHECK", "SUBJECT", "RESULT", "MS", "DETAIL"]
    assert "no D365_CLIENT_ID configured" in text
    companies = next(line for line in text.splitlines() if line.startswith("companies"))
    assert "demf, " in companies
    assert "usmf" in companies


@pytest.mark.parametrize(
    ("hide", "expected"),
    [
        (["SalesOrderHeadersV2.CustomersOrderReference"],
         "SalesOrderHeadersV2 has no field CustomersOrderReference (set by D365_ENTITY_SALES_ORDERS)"),
        (["CustomersV3"], "F&O has no entity set CustomersV3 (set by D365_ENTITY_CUSTOMERS)"),
        (["SalesOrderHeadersV2.SalesOrderLines"],
         "SalesOrderHeadersV2 has no navigation SalesOrderLines (set by D365_NAV_SALES_ORDER_LINES)"),
        (["SalesOrderLines.LineNumber"],
         "SalesOrderLines has no field LineNumber (set by D365_ENTITY_SALES_ORDER_LINES)"),
    ],
)
def test_fno_check_fails_naming_what_is_missing_and_its_setting(live_fno: Simulator, hide, expected) -> None:
    live_fno.set_faults(hide=hide)
    status, text = _run("--json")
    report = json.loads(text)
    assert status == 1
    assert report["ok"] is False
    assert expected in [line["detail"] for line in report["lines"] if line["outcome"] == "fail"]


def test_a_hidden_field_fails_the_metadata_check_but_the_read_still_tests_access(live_fno: Simulator) -> None:
    live_fno.set_faults(hide=["SalesInvoiceHeadersV2.TotalTaxAmount"])
    report = fno_check_run()
    read = next(line for line in report.lines if line.section == "read" and line.subject == "SalesInvoiceHeadersV2")
    assert read.outcome == "ok"
    invoice_reads = [r for r in live_fno.requests() if r["entity_set"] == "SalesInvoiceHeadersV2"]
    assert "TotalTaxAmount" not in invoice_reads[0]["params"]["$select"]


def test_an_account_linked_in_the_portal_but_missing_in_f_and_o_fails(live_fno: Simulator) -> None:
    make_customer("alice@example.com", "usmf:US-001")
    make_customer("ghost@example.com", "usmf:US-999")
    make_customer("elsewhere@example.com", "zz99:US-001")
    status, text = _run("--json")
    problems = {line["subject"]: line["detail"] for line in json.loads(text)["lines"] if line["outcome"] == "fail"}
    assert status == 1
    assert problems["usmf:US-999"] == "linked to 1 portal user(s), but F&O has no customer US-999 in company usmf"
    assert "which the service user cannot read" in problems["zz99"]
    assert "usmf:US-001" not in problems


def test_a_wrong_type_is_named_with_the_type_found(live_fno: Simulator, monkeypatch) -> None:
    from simulator import schema

    headers = schema.SETS["SalesOrderHeadersV2"]
    monkeypatch.setitem(schema.SETS, "SalesOrderHeadersV2", schema.EntitySet(
        headers.name, headers.type_name, headers.keys, {**headers.properties, "OrderTotalAmount": "String"},
        headers.navigation))
    report = fno_check_run()
    assert [line.detail for line in report.problems if line.subject == "SalesOrderHeadersV2.OrderTotalAmount"] == [
        "SalesOrderHeadersV2.OrderTotalAmount is Edm.String, but the portal reads it as number "
        "(set by D365_ENTITY_SALES_ORDERS)"
    ]


# The token ------------------------------------------------------------------------------------------------------


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class _JwtIdentityProvider(FakeIdentityProvider):
    audience: str = ""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(TOKEN_ENDPOINT) and self.fail_with is None:
            self.token_requests += 1
            token = _jwt({"aud": self.audience, "tid": TENANT, "roles": ["Dynamics.Read"], "appid": "app-1"})
            self.issued.append(token)
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "expires_in": 3600})
        return super().__call__(request)


def _with_msal(settings, simulator: Simulator, audience: str) -> _JwtIdentityProvider:
    idp = _JwtIdentityProvider()
    idp.audience = audience
    settings.D365_CLIENT_ID = "app-1"
    settings.D365_TENANT_ID = TENANT
    tokens = MsalTokenProvider(client_id="app-1", authority=AUTHORITY, scope=f"{simulator.url}/.default",
                               client_secret="not-a-real-secret", http_client=idp.http_client(),
                               instance_discovery=False)
    d365.set_odata_client(d365.build_odata_client(tokens=tokens))
    return idp


def test_the_token_is_described_by_its_claims_and_never_printed(live_fno: Simulator, settings, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # the table wraps to the terminal (a pytest-xdist worker says 80 columns)
    idp = _with_msal(settings, live_fno, live_fno.url.upper() + "/")
    _, text = _run()
    token_line = next(line for line in text.splitlines() if line.startswith("token"))
    assert f"audience {live_fno.url.upper()}/" in token_line
    assert TENANT in text
    assert "Dynamics.Read" in text
    assert idp.issued
    assert all(token not in text for token in idp.issued)
    assert all(token.split(".")[1] not in text for token in idp.issued)
    assert not [line for line in text.splitlines() if line.startswith("token") and "FAIL" in line]
    assert all(r["authorization"] for r in live_fno.requests())


def test_a_token_for_another_environment_fails_naming_d365_scope(live_fno: Simulator, settings) -> None:
    _with_msal(settings, live_fno, "https://other.operations.dynamics.com")
    report = fno_check_run()
    assert [(line.subject, line.setting) for line in report.problems] == [("audience", "D365_SCOPE")]


def test_a_refused_token_request_fails_and_stops_there(live_fno: Simulator, settings) -> None:
    idp = _with_msal(settings, live_fno, live_fno.url)
    idp.fail_with = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."}
    idp.status_code = 401
    report = fno_check_run()
    assert [line.subject for line in report.problems] == ["token"]
    assert "invalid_client" in report.problems[0].detail
    assert live_fno.requests() == []


# Scope normalisation and its deploy check --------------------------------------------------------------------------


def _settings_value(name: str, **env: str) -> str:
    import os

    environment = {**os.environ, "DJANGO_SECRET_KEY": "x" * 50, **env}
    done = subprocess.run([sys.executable, "-c", f"import portal.settings as s; print(s.{name})"], cwd=ROOT,
                          env=environment, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip()


def test_the_scope_is_normalised_to_what_f_and_o_accepts() -> None:
    url = "https://contoso.operations.dynamics.com"
    assert _settings_value("D365_SCOPE", D365_URL=url, D365_SCOPE="") == f"{url}/.default"
    assert _settings_value("D365_SCOPE", D365_URL=url,
                           D365_SCOPE="https://Contoso.Operations.Dynamics.com//.default") == f"{url}/.default"
    assert _settings_value("D365_SCOPE", D365_URL=url, D365_SCOPE="https://contoso.operations.dynamics.com/") == (
        f"{url}/.default")


def test_the_deploy_check_warns_about_an_unnormalised_or_foreign_scope(settings) -> None:
    settings.D365_URL = "https://contoso.operations.dynamics.com"
    settings.D365_SCOPE_CONFIGURED = ""
    settings.D365_SCOPE = "https://contoso.operations.dynamics.com/.default"
    assert d365_scope_check() == []
    settings.D365_SCOPE_CONFIGURED = "https://Contoso.operations.dynamics.com/.default"
    assert [m.id for m in d365_scope_check()] == ["orders.W020"]
    settings.D365_SCOPE_CONFIGURED = "https://fabrikam.operations.dynamics.com/.default"
    settings.D365_SCOPE = settings.D365_SCOPE_CONFIGURED
    assert [m.id for m in d365_scope_check()] == ["orders.W021"]


# The staff page -------------------------------------------------------------------------------------------------


@pytest.fixture
def agent() -> Client:
    return staff_client("agent@example.com", AGENT)


def test_test_connection_shows_the_same_result_table(agent: Client, live_fno: Simulator) -> None:
    page = html.unescape(agent.post("/staff/health/test/", follow=True).content.decode())
    assert "Last connection test" in page
    for entity_set in ("SalesOrderHeadersV2", "SalesOrderLines", "PackingSlipTrackingInformation",
                       "SalesInvoiceHeadersV2", "CustomersV3"):
        assert f'<th scope="row">{entity_set}</th>' in page
    assert "demf, " in page
    if not _not_served_yet():
        assert "every check passed" in page
        assert "check-fail" not in page


def test_test_connection_names_a_hidden_field_and_its_setting(agent: Client, live_fno: Simulator) -> None:
    live_fno.set_faults(hide=["SalesOrderHeadersV2.CustomersOrderReference"])
    page = html.unescape(agent.post("/staff/health/test/", follow=True).content.decode())
    assert "F&O did not answer properly" in page
    assert "SalesOrderHeadersV2 has no field CustomersOrderReference (set by D365_ENTITY_SALES_ORDERS)" in page
    # The table stays on the health page for this agent, not for anyone else.
    assert "CustomersOrderReference (set by" in html.unescape(agent.get("/staff/health/").content.decode())


def test_test_connection_is_bounded_while_f_and_o_hangs(agent: Client, live_fno: Simulator, settings) -> None:
    from orders.views import staff

    settings.D365_TIMEOUT_SECONDS = 0.5
    live_fno.set_faults(hide=[], hang=True)
    staff.HEALTH_CHECK_BUDGET_SECONDS, budget = 1.0, staff.HEALTH_CHECK_BUDGET_SECONDS
    try:
        page = html.unescape(agent.post("/staff/health/test/", follow=True).content.decode())
    finally:
        staff.HEALTH_CHECK_BUDGET_SECONDS = budget
    assert "F&O did not answer properly" in page
    assert "timed out waiting for $metadata" in page
    assert "out of time" in page


def test_the_health_views_do_not_import_the_odata_client() -> None:
    for module in ("orders/views/health.py", "orders/views/staff.py"):
        tree = ast.parse((ROOT / module).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        if module.endswith("health.py"):
            assert not {m for m in imported if m.startswith("orders.odata")}
        for name in ("health", "health_test"):
            if name in functions:
                names = {n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name)}
                assert not names & {"Query", "Deadline", "ODataError"}


# The simulator's hide switch ------------------------------------------------------------------------------------


def test_the_simulator_hides_sets_and_fields_until_cleared(simulator: Simulator) -> None:
    data = simulator.url + "/data/"
    posted = httpx.post(simulator.url + "/_sim/faults",
                        json={"hide": ["CustomersV3", "SalesOrderHeadersV2.CustomersOrderReference"]})
    assert posted.status_code == 200
    metadata = httpx.get(data + "$metadata").text
    assert 'EntitySet Name="CustomersV3"' not in metadata
    assert 'Name="CustomersOrderReference"' not in metadata.split('EntityType Name="SalesOrderHeaderV2"')[1].split(
        "</EntityType>")[0]
    assert "CustomersV3" not in [s["name"] for s in httpx.get(data).json()["value"]]
    assert httpx.get(data + "CustomersV3?$top=1").status_code == 404
    for query in ("$select=CustomersOrderReference", "$filter=CustomersOrderReference%20eq%20'x'",
                  "$orderby=CustomersOrderReference"):
        assert httpx.get(data + "SalesOrderHeadersV2?cross-company=true&$top=1&" + query).status_code == 400
    row = httpx.get(data + "SalesOrderHeadersV2?cross-company=true&$top=1").json()["value"][0]
    assert "CustomersOrderReference" not in row
    assert httpx.get(data + "SalesOrderHeadersV2?cross-company=true&$top=1&$select=SalesOrderNumber").status_code == 200
    assert httpx.post(simulator.url + "/_sim/faults", json={"hide": "CustomersV3"}).status_code == 400
    httpx.delete(simulator.url + "/_sim/faults")
    assert httpx.get(data + "CustomersV3?$top=1").status_code == 200
    assert 'EntitySet Name="CustomersV3"' in httpx.get(data + "$metadata").text


def test_hiding_the_lines_set_removes_the_navigation_to_it(simulator: Simulator) -> None:
    simulator.set_faults(hide=["SalesOrderLines"])
    url = simulator.url + "/data/SalesOrderHeadersV2?cross-company=true&$top=1&$expand=SalesOrderLines"
    assert httpx.get(url).status_code == 400
    assert 'NavigationProperty Name="SalesOrderLines"' not in httpx.get(simulator.url + "/data/$metadata").text


def test_metadata_with_a_dtd_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(MalformedResponse):
        service_model_parse(bomb)


def test_every_call_of_the_check_carries_its_own_guid_request_id(live_fno: Simulator) -> None:
    import uuid

    live_fno.reset_log()
    _run("--json")
    ids = [r["request_id"] for r in live_fno.requests()]
    assert any(r["entity_set"] == "$metadata" for r in live_fno.requests())
    assert all(uuid.UUID(i) for i in ids)
    assert len(set(ids)) == len(ids)
