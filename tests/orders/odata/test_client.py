from __future__ import annotations

import uuid

import httpx
import pytest

from orders.odata.auth import MsalTokenProvider, StaticTokenProvider
from orders.odata.client import REQUEST_ID_HEADER, CallRecord, Deadline, ODataClient, build_http_client
from orders.odata.errors import (
    AuthenticationFailed,
    EntityNotFound,
    MalformedResponse,
    RequestRejected,
    ServerError,
    Throttled,
    TransportFailed,
    UrlTooLong,
)
from orders.odata.exchange import environment_proxy
from orders.odata.query import Query, eq
from tests.fakes import AUTHORITY, FakeFnO, FakeIdentityProvider

ROOT = "https://contoso.operations.dynamics.com/data/"
ORDERS = Query("SalesOrderHeadersV2").where(eq("dataAreaId", "usmf"))


def _client(fno: FakeFnO, tokens=None, **kwargs) -> ODataClient:
    return ODataClient(
        service_root=ROOT,
        http=build_http_client(transport=httpx.MockTransport(fno), user_agent="fno-order-portal/9.9"),
        tokens=tokens or StaticTokenProvider(""),
        **kwargs,
    )


def _msal(idp: FakeIdentityProvider) -> MsalTokenProvider:
    return MsalTokenProvider(
        client_id="11111111-2222-3333-4444-555555555555",
        authority=AUTHORITY,
        scope="https://contoso.operations.dynamics.com/.default",
        client_secret="s3cret-value",
        http_client=idp.http_client(),
        instance_discovery=False,
    )


def _read(client: ODataClient, query: Query = ORDERS, seconds: float = 5.0):
    return client.get_page(query, deadline=Deadline(seconds), request_id="REF123")


def test_every_call_carries_request_id_user_agent_and_no_token_without_identity() -> None:
    fno = FakeFnO(rows={"SalesOrderHeadersV2": [{"SalesOrderNumber": "1"}]})
    page = _read(_client(fno))
    assert [r["SalesOrderNumber"] for r in page.rows] == ["1"]
    request = fno.requests[0]
    assert str(uuid.UUID(request.headers[REQUEST_ID_HEADER])) == request.headers[REQUEST_ID_HEADER]
    assert request.headers["User-Agent"] == "fno-order-portal/9.9"
    assert "Authorization" not in request.headers
    assert str(request.url).startswith(ROOT + "SalesOrderHeadersV2?cross-company=true&$filter=dataAreaId%20eq%20")


def test_twenty_reads_cost_one_token_request() -> None:
    idp = FakeIdentityProvider()
    fno = FakeFnO(valid_tokens={"token-1"})
    client = _client(fno, tokens=_msal(idp))
    for _ in range(20):
        _read(client)
    assert idp.token_requests == 1
    assert len(fno.requests) == 20
    assert all(r.headers["Authorization"] == "Bearer token-1" for r in fno.requests)


def test_a_401_refreshes_the_token_once_and_retries_once() -> None:
    idp = FakeIdentityProvider()
    fno = FakeFnO(valid_tokens={"token-1"})
    client = _client(fno, tokens=_msal(idp))
    _read(client)
    fno.valid_tokens = {"token-2"}  # F&O no longer accepts the first token
    _read(client)
    assert idp.token_requests == 2
    assert [r.headers["Authorization"] for r in fno.requests] == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


def test_a_second_401_is_authentication_failed_without_a_third_call() -> None:
    idp = FakeIdentityProvider()
    fno = FakeFnO(valid_tokens=set())
    with pytest.raises(AuthenticationFailed) as caught:
        _read(_client(fno, tokens=_msal(idp)))
    assert caught.value.status_code == 401
    assert idp.token_requests == 2
    assert len(fno.requests) == 2


def test_msal_error_dict_becomes_authentication_failed_with_its_code(caplog) -> None:
    idp = FakeIdentityProvider(
        fail_with={"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."},
        status_code=401,
    )
    fno = FakeFnO()
    with pytest.raises(AuthenticationFailed) as caught:
        _read(_client(fno, tokens=_msal(idp)))
    assert caught.value.code == "invalid_client"
    assert fno.requests == []
    assert "s3cret-value" not in caplog.text


def test_token_endpoint_outage_is_a_typed_error() -> None:
    idp = FakeIdentityProvider(fail_with={"error": "temporarily_unavailable"}, status_code=503)
    with pytest.raises(AuthenticationFailed) as caught:
        _read(_client(FakeFnO(), tokens=_msal(idp)))
    assert caught.value.code == "token_endpoint_unavailable"


def test_msal_is_built_lazily_on_first_token() -> None:
    built = []
    provider = MsalTokenProvider(
        client_id="c", authority=AUTHORITY, scope="s", client_secret="x",
        app_factory=lambda *a, **k: built.append(1) or object(),
    )
    assert built == []
    provider._application()
    provider._application()
    assert built == [1]


def test_next_link_to_the_same_host_is_followed() -> None:
    fno = FakeFnO(
        script=[
            FakeFnO.respond(200, {"value": [{"n": 1}], "@odata.nextLink": ROOT + "SalesOrderHeadersV2?$skip=1"}),
            FakeFnO.respond(200, {"value": [{"n": 2}], "@odata.nextLink": "SalesOrderHeadersV2?$skip=2"}),
            FakeFnO.respond(200, {"value": [{"n": 3}]}),
        ]
    )
    rows = _client(fno).get_all(ORDERS, deadline=Deadline(5), request_id="R")
    assert [r["n"] for r in rows] == [1, 2, 3]
    assert str(fno.requests[2].url) == ROOT + "SalesOrderHeadersV2?$skip=2"


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example.com/data/SalesOrderHeadersV2?$skip=1",
        "http://contoso.operations.dynamics.com/data/SalesOrderHeadersV2?$skip=1",
        "https://contoso.operations.dynamics.com:8443/data/X",
        "https://contoso.operations.dynamics.com/other/X",
        "//evil.example.com/data/X",
        "https://user:pw@contoso.operations.dynamics.com/data/X",
    ],
)
def test_next_link_to_another_host_or_scheme_is_refused(link: str) -> None:
    fno = FakeFnO(script=[FakeFnO.respond(200, {"value": [], "@odata.nextLink": link})])
    with pytest.raises(MalformedResponse, match="outside"):
        _client(fno).get_all(ORDERS, deadline=Deadline(5), request_id="R")
    assert len(fno.requests) == 1


def test_page_cap_stops_an_endless_next_link_chain() -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"value": [{}], "@odata.nextLink": ROOT + "SalesOrderHeadersV2?$skip=1"})

    fno = FakeFnO(script=[endless] * 10)
    with pytest.raises(MalformedResponse, match="pages"):
        _client(fno, max_pages=3).get_all(ORDERS, deadline=Deadline(5), request_id="R")
    assert len(fno.requests) == 3


def test_response_size_is_capped() -> None:
    fno = FakeFnO(script=[FakeFnO.respond(200, {"value": [{"x": "y" * 5000}]})])
    with pytest.raises(MalformedResponse, match="larger"):
        _read(_client(fno, max_response_bytes=1000))


def test_key_read_404_is_entity_not_found() -> None:
    fno = FakeFnO(script=[FakeFnO.respond(404, {"error": {"code": "", "message": "not found"}})])
    query = Query("SalesOrderHeadersV2").by_key(dataAreaId="usmf", SalesOrderNumber="1")
    with pytest.raises(EntityNotFound):
        _client(fno).get_one(query, deadline=Deadline(5), request_id="R")


def test_503_is_retried_once_and_429_never() -> None:
    busy = FakeFnO(script=[FakeFnO.respond(503), FakeFnO.respond(200, {"value": []})])
    _read(_client(busy))
    assert len(busy.requests) == 2

    down = FakeFnO(script=[FakeFnO.respond(503), FakeFnO.respond(503), FakeFnO.respond(200, {"value": []})])
    with pytest.raises(ServerError):
        _read(_client(down))
    assert len(down.requests) == 2

    throttled = FakeFnO(script=[FakeFnO.respond(429, headers={"Retry-After": "30"})])
    with pytest.raises(Throttled) as caught:
        _read(_client(throttled))
    assert caught.value.retry_after == 30
    assert len(throttled.requests) == 1


def test_500_is_not_retried() -> None:
    fno = FakeFnO(script=[FakeFnO.respond(500), FakeFnO.respond(200, {"value": []})])
    with pytest.raises(ServerError):
        _read(_client(fno))
    assert len(fno.requests) == 1


def test_not_json_and_wrong_shape_are_malformed() -> None:
    html = FakeFnO(script=[lambda r: httpx.Response(200, content=b"<html>proxy error</html>")])
    with pytest.raises(MalformedResponse):
        _read(_client(html))
    shape = FakeFnO(script=[FakeFnO.respond(200, {"value": "nope"})])
    with pytest.raises(MalformedResponse):
        _read(_client(shape))


def test_connect_failure_is_transport_failed_and_retried_once() -> None:
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused", request=request)

    client = _client(FakeFnO(script=[refuse, refuse]))
    with pytest.raises(TransportFailed) as caught:
        _read(client)
    assert caught.value.connect_failed
    assert len(calls) == 2


def test_a_kept_alive_connection_the_server_closed_is_retried_once() -> None:
    def closed(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    fno = FakeFnO(rows={"SalesOrderHeadersV2": [{"SalesOrderNumber": "1"}]}, script=[closed])
    page = _read(_client(fno))
    assert page.rows == [{"SalesOrderNumber": "1"}]
    assert len(fno.requests) == 2


def test_spent_deadline_makes_no_call() -> None:
    fno = FakeFnO()
    with pytest.raises(TransportFailed) as caught:
        _read(_client(fno), seconds=-1)
    assert caught.value.timed_out
    assert fno.requests == []


def test_tls_floor_is_1_2() -> None:
    import ssl

    pool = build_http_client()
    context = pool.transport._pool._ssl_context  # the context httpx hands to every https connection
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_fno_is_reached_through_the_proxy_the_environment_names_unless_no_proxy_exempts_it(monkeypatch) -> None:
    import socket
    import threading

    # A proxy that answers one request with an empty collection and remembers what it was asked.
    asked: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        connection, _ = server.accept()
        with connection:
            asked.append(connection.recv(65536).split(b"\r\n", 1)[0])
            body = b'{"value": []}'
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                               + str(len(body)).encode() + b"\r\n\r\n" + body)

    threading.Thread(target=answer, daemon=True).start()
    proxy = f"http://127.0.0.1:{server.getsockname()[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    root = "http://fno.example.invalid/data/"
    client = ODataClient(service_root=root, http=build_http_client(url=root, read_timeout=5),
                         tokens=StaticTokenProvider())
    page = client.get_page(Query("CustomersV3").page(top=1), deadline=Deadline(5), request_id="PROXY")
    server.close()
    assert page.rows == []
    assert asked == [b"GET http://fno.example.invalid/data/CustomersV3?cross-company=true&$top=1 HTTP/1.1"]
    monkeypatch.setenv("HTTP_PROXY", proxy.removeprefix("http://"))  # no scheme: http, as curl and httpx read it
    assert environment_proxy(root) == proxy
    monkeypatch.setenv("NO_PROXY", "fno.example.invalid")
    assert build_http_client(url=root).transport._pool.__class__.__name__ == "ConnectionPool"  # not the proxy's


def _guid(value: str) -> bool:
    return str(uuid.UUID(value)) == value and uuid.UUID(value).version == 4


def test_every_attempt_and_every_next_link_page_sends_its_own_guid_and_keeps_f_and_o_activity_id() -> None:
    calls: list[CallRecord] = []
    fno = FakeFnO(
        script=[
            FakeFnO.respond(503, headers={"ms-dyn-aid": "aid-1"}),
            FakeFnO.respond(200, {"value": [{"n": 1}], "@odata.nextLink": ROOT + "SalesOrderHeadersV2?$skip=1"},
                            headers={"ms-dyn-aid": "aid-2"}),
            FakeFnO.respond(200, {"value": [{"n": 2}]}, headers={"ms-dyn-aid": "aid-3"}),
            FakeFnO.respond(200, {"value": []}),
        ]
    )
    client = _client(fno, on_call=calls.append)
    assert [r["n"] for r in client.get_all(ORDERS, deadline=Deadline(5), request_id="PAGE-REF1")] == [1, 2]
    _read(client)  # a second read for the same page
    sent = [r.headers[REQUEST_ID_HEADER] for r in fno.requests]
    assert len(sent) == 4
    assert all(_guid(s) for s in sent)
    assert len(set(sent)) == 4  # the retry, the next-link page and the second read each have their own
    assert [c.client_request_id for c in calls] == sent
    assert [c.activity_id for c in calls] == ["aid-1", "aid-2", "aid-3", ""]
    assert [c.request_id for c in calls] == ["PAGE-REF1", "PAGE-REF1", "PAGE-REF1", "REF123"]  # ours stays ours


def test_an_odd_activity_id_is_not_kept() -> None:
    calls: list[CallRecord] = []
    fno = FakeFnO(script=[FakeFnO.respond(200, {"value": []}, headers={"ms-dyn-aid": "<script>x</script>"})])
    _read(_client(fno, on_call=calls.append))
    assert calls[0].activity_id == ""


def test_a_url_over_the_budget_is_refused_before_token_guard_or_network() -> None:
    class Guard:
        consulted = 0

        def before_call(self, entity_set: str) -> None:
            self.consulted += 1

        def after_call(self, entity_set: str, error) -> None:
            pass

    idp = FakeIdentityProvider()
    fno = FakeFnO()
    guard = Guard()
    calls: list[CallRecord] = []
    client = _client(fno, tokens=_msal(idp), max_url_length=200, guard=guard, on_call=calls.append)
    long_query = Query("SalesOrderHeadersV2").where(eq("OrderingCustomerAccountNumber", "A" * 200))
    assert client.url_length(long_query) > 200
    assert not client.fits(long_query)
    with pytest.raises(UrlTooLong) as caught:
        _read(client, long_query)
    assert isinstance(caught.value, RequestRejected)  # our bug, never shown as an outage
    assert caught.value.length == client.url_length(long_query)
    assert caught.value.limit == 200
    assert fno.requests == []
    assert idp.token_requests == 0
    assert guard.consulted == 0
    assert calls == []


def test_the_budget_counts_path_and_query_only() -> None:
    fno = FakeFnO()
    query = Query("SalesOrderHeadersV2").where(eq("dataAreaId", "usmf"))
    length = len("/data/" + query.relative_url())
    assert _client(fno).url_length(query) == length
    _read(_client(fno, max_url_length=length), query)  # exactly at the budget is sent
    assert len(fno.requests) == 1
    with pytest.raises(UrlTooLong):
        _read(_client(fno, max_url_length=length - 1), query)
    assert len(fno.requests) == 1


def test_a_next_link_over_the_budget_is_not_followed() -> None:
    query = Query("SalesOrderHeadersV2")
    budget = len("/data/" + query.relative_url()) + 10
    link = ROOT + "SalesOrderHeadersV2?cross-company=true&$skip=10000&$top=10000"
    fno = FakeFnO(script=[FakeFnO.respond(200, {"value": [{}], "@odata.nextLink": link})])
    with pytest.raises(UrlTooLong):
        _client(fno, max_url_length=budget).get_all(query, deadline=Deadline(5), request_id="R")
    assert len(fno.requests) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (414, b'{"error": {"code": "", "message": "An error has occurred.", "innererror": {"message": "too long"}}}'),
        (404, b"<html><h3>HTTP Error 404.15 - Not Found</h3>The request filtering module is configured to deny "
              b"a request where the query string is too long.</html>"),
    ],
)
def test_f_and_o_refusing_a_long_url_is_url_too_long_and_not_retried(status: int, body: bytes) -> None:
    fno = FakeFnO(script=[lambda r: httpx.Response(status, content=body)] * 2)
    with pytest.raises(UrlTooLong) as caught:
        _read(_client(fno))
    assert caught.value.status_code == status
    assert len(fno.requests) == 1
