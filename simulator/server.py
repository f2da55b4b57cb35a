"""The simulator's HTTP server: F&O's OData surface over a real socket, with run-time fault switches.

Admin endpoints (not part of F&O): GET/POST/DELETE /_sim/faults, GET/DELETE /_sim/requests, GET /_sim/stats, and
the run-time changes of changes.py: POST /_sim/orders/<company>/<number> (header and line fields),
POST .../packing-slips, POST .../invoices, DELETE /_sim/orders (back to the demo data built at start).
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from . import changes, data
from .filter import BadRequest, candidates_of, parse_filter
from .schema import SETS, EntitySet, metadata_xml, visible
from .store import Store, View, number_field

logger = logging.getLogger("simulator")

SUPPORTED_OPTIONS = {"$filter", "$select", "$orderby", "$top", "$skip", "$count", "$expand", "$format"}


@dataclass
class Faults:
    latency: float = 0.0  # seconds added before answering
    jitter: float = 0.0  # up to this many seconds more, at random
    status: int | None = None  # answer every request with this status (401, 403, 429, 500, 503 ...)
    retry_after: str | None = None  # Retry-After sent with `status`, seconds or an HTTP date
    reset: bool = False  # close the connection with a TCP reset instead of answering
    hang: bool = False  # never answer (until the fault is cleared)
    malformed: bool = False  # 200 with a body that is not JSON
    truncate: bool = False  # promise a longer body than is sent, then close
    slow_body: float = 0.0  # seconds between each 64-byte piece of the body
    error_rate: float = 0.0  # share of requests answered 500
    count: int | None = None  # apply to this many requests only, then clear
    entity_set: str | None = None  # apply only to requests for this entity set
    # Entity sets ("CustomersV3") and fields or navigations ("SalesOrderHeadersV2.CustomersOrderReference") that
    # this F&O does not publish, as after an update or with an extension missing: gone from $metadata, 404 for a
    # set, 400 for a field. Holds until the faults are cleared; `count` and `entity_set` do not limit it.
    hide: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Faults:
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown fault switches: {sorted(unknown)}")
        hide = raw.get("hide", [])
        if not isinstance(hide, list) or not all(isinstance(h, str) and h for h in hide):
            raise ValueError("hide: a list of names like \"CustomersV3\" or \"SalesOrderHeadersV2.LineNumber\"")
        return cls(**raw)

    @property
    def hidden(self) -> frozenset[str]:
        return frozenset(self.hide)


@dataclass
class State:
    store: Store
    default_company: str = data.DEFAULT_COMPANY
    page_size: int = 10_000
    accepted_tokens: set[str] | None = None  # None: no token needed (local development)
    # Longest request target (path and query) served; longer ones answer 414. IIS refuses query strings over
    # 2,048 characters by default; F&O's own figure is unknown, so it is a setting. None: no limit.
    max_url_length: int | None = 2048
    faults: Faults = field(default_factory=Faults)
    log: list[dict[str, Any]] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def dataset(self) -> data.Dataset:
        """The data as served now, run-time changes included."""
        return data.Dataset(tables=self.store.view.tables)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fno-simulator"
    state: State

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and the client's delayed
        # ACK add ~40 ms to every answer, which F&O does not.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def parse_request(self) -> bool:
        # F&O's activity id for this request (ms-dyn-aid on every answer); fresh per request, not per connection.
        self.activity_id = str(uuid.uuid4())
        return super().parse_request()

    # Admin -----------------------------------------------------------------------------------
    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        if path.startswith("/_sim/orders/"):
            self._change(path)
            return
        if path != "/_sim/faults":
            self._error(405, "Only GET is served by this simulator.")
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            faults = Faults.from_dict(json.loads(self.rfile.read(length) or b"{}"))
        except (ValueError, TypeError) as exc:
            self._send_json(400, {"error": str(exc)})
            return
        with self.state.lock:
            self.state.faults = faults
            self.state.release.clear()
        self._send_json(200, asdict(faults))

    def do_DELETE(self) -> None:
        path = self.path.split("?")[0]
        with self.state.lock:
            if path == "/_sim/faults":
                self.state.faults = Faults()
                self.state.release.set()
            elif path == "/_sim/requests":
                self.state.log.clear()
                self.state.calls.clear()
            elif path == "/_sim/orders":
                self.state.store.reset()
            else:
                self._error(405, "Only GET is served by this simulator.")
                return
        self._send_json(200, {})

    _CHANGES = {"": changes.order_change, "packing-slips": changes.packing_slip_add, "invoices": changes.invoice_add}

    def _change(self, path: str) -> None:
        # Split before unquoting: an order number may hold a "/" (sent as %2F).
        parts = [unquote(p) for p in path[len("/_sim/orders/"):].split("/")]
        if len(parts) not in (2, 3) or not all(parts[:2]) or (parts[2:] or [""])[0] not in self._CHANGES:
            self._send_json(404, {"error": "POST /_sim/orders/<company>/<number>[/packing-slips|/invoices]"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1_000_000:
            self._send_json(413, {"error": "The change is too large."})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send_json(400, {"error": "The body is not JSON."})
            return
        change = self._CHANGES[(parts[2:] or [""])[0]]
        try:
            result = self.state.store.change(lambda tables: change(tables, parts[0], parts[1], body))
        except changes.ChangeRefused as exc:
            self._send_json(exc.status, {"error": str(exc)})
            return
        logger.info("changed %s %s %s", parts[0], parts[1], (parts[2:] or ["order"])[0])
        self._send_json(200 if len(parts) == 2 else 201, result)

    # OData -----------------------------------------------------------------------------------
    def do_GET(self) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        if path == "/_sim/faults":
            self._send_json(200, asdict(self.state.faults))
            return
        if path == "/_sim/requests":
            with self.state.lock:
                self._send_json(200, {"requests": list(self.state.log)})
            return
        if path == "/_sim/stats":
            with self.state.lock:
                self._send_json(200, {"calls": dict(self.state.calls), "total": sum(self.state.calls.values())})
            return
        if path in ("/", "/healthz"):
            self._send_json(200, {"simulator": "fno", "sets": sorted(SETS)})
            return
        if not path.startswith("/data"):
            self._error(404, "Not found.")
            return
        resource = path[len("/data"):].lstrip("/")
        entity_set = re.sub(r"[^A-Za-z0-9_$].*", "", resource, flags=re.DOTALL)
        self._record(entity_set, split.query)
        limit = self.state.max_url_length
        if limit is not None and len(self.path) > limit:
            self._error(414, f"The request URL of {len(self.path)} characters is longer than the {limit} this "
                             f"server accepts.", inner=True)
            return
        if self._apply_faults(entity_set):
            return
        if not self._authorised():
            return
        try:
            self._serve(resource, split.query)
        except BadRequest as exc:
            self._error(400, str(exc))

    def _record(self, entity_set: str, query: str) -> None:
        with self.state.lock:
            self.state.calls[entity_set or "/"] = self.state.calls.get(entity_set or "/", 0) + 1
            self.state.log.append(
                {
                    "path": urlsplit(self.path).path,
                    "query": query,
                    "params": dict(_query_pairs(query)),
                    "entity_set": entity_set,
                    "request_id": self.headers.get("x-ms-client-request-id", ""),
                    "activity_id": self.activity_id,
                    "url_length": len(self.path),
                    "authorization": bool(self.headers.get("Authorization")),
                    "user_agent": self.headers.get("User-Agent", ""),
                    "at": time.time(),
                }
            )
            del self.state.log[:-2000]

    def _apply_faults(self, entity_set: str) -> bool:
        with self.state.lock:
            faults = self.state.faults
            if faults.entity_set and faults.entity_set != entity_set:
                return False
            if faults.count is not None:
                if faults.count <= 0:
                    return False
                faults.count -= 1
        delay = faults.latency + (random.uniform(0, faults.jitter) if faults.jitter else 0)
        if delay:
            time.sleep(delay)
        if faults.hang:
            self.state.release.wait(600)
            self.close_connection = True
            return True
        if faults.reset:
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return True
        status = faults.status
        if not status and faults.error_rate and random.random() < faults.error_rate:
            status = 500
        if status:
            headers = {}
            if faults.retry_after is not None:
                headers["Retry-After"] = faults.retry_after
            if status == 401:
                self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            elif status == 429:
                self._error(
                    429,
                    "This request could not be processed at this time due to system experiencing high "
                    "resource utilization.",
                    headers,
                    inner=False,
                )
            else:
                self._error(status, "An error has occurred.", headers)
            return True
        if faults.malformed:
            self._send(200, b'{"@odata.context": "x", "value": [ {"SalesOrderNumber": ', "application/json")
            return True
        if faults.truncate:
            body = b'{"@odata.context":"x","value":[' + b" " * 200
            self.send_response(200)
            self.send_header("Content-Type", "application/json; odata.metadata=minimal")
            self.send_header("Content-Length", str(len(body) + 5000))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return True
        return False

    def _authorised(self) -> bool:
        accepted = self.state.accepted_tokens
        if accepted is None:
            return True
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer ") and header[7:] in accepted:
            return True
        self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return False

    def _serve(self, resource: str, raw_query: str) -> None:
        hidden = self.state.faults.hidden
        if resource == "":
            self._send_json(200, {"@odata.context": self._root() + "$metadata",
                                  "value": [{"name": s, "kind": "EntitySet", "url": s} for s in SETS
                                            if s not in hidden]})
            return
        if resource == "$metadata":
            self._send(200, metadata_xml(hidden).encode(), "application/xml")
            return
        m = re.fullmatch(r"([A-Za-z0-9_]+)(?:\((.*)\))?(/\$count)?", resource, re.DOTALL)
        if not m or m.group(1) not in SETS or m.group(1) in hidden:
            self._error(404, f"Resource not found for the segment '{resource.split('(')[0][:100]}'.")
            return
        # Hidden fields are unknown properties from here on: $select, $filter, $orderby and $expand answer 400.
        entity = visible(SETS[m.group(1)], hidden)
        options = dict(_query_pairs(raw_query))
        for option in options:
            if option.startswith("$") and option not in SUPPORTED_OPTIONS:
                raise BadRequest(f"The query parameter '{option}' is not supported.")
        cross_company = options.get("cross-company", "").lower() == "true"
        view = self.state.store.view  # one view for the whole request, whatever changes meanwhile
        rows = view.tables[entity.name]
        if m.group(2) is not None:
            if m.group(3):
                raise BadRequest("$count is not valid on a single entity.")
            self._serve_entity(entity, self._scoped(rows, cross_company), m.group(2), options, view)
            return
        if "$filter" in options:
            predicate = parse_filter(options["$filter"], entity)
            numbers = candidates_of(predicate).get(number_field(entity.name) or "")
            if numbers is not None and entity.name in view.by_number:
                # An index on the order number, as F&O's database has; the predicate still decides.
                index = view.by_number[entity.name]
                rows = [r for number in sorted(numbers) for r in index.get(number, [])]
            rows = [r for r in self._scoped(rows, cross_company) if predicate(r)]
        else:
            rows = self._scoped(rows, cross_company)
        if m.group(3):
            self._send(200, str(len(rows)).encode(), "text/plain")
            return
        self._serve_collection(entity, rows, options, raw_query, view)

    def _scoped(self, rows: list[dict[str, Any]], cross_company: bool) -> list[dict[str, Any]]:
        if cross_company:
            return rows
        return [r for r in rows if r["dataAreaId"] == self.state.default_company]

    def _serve_entity(self, entity: EntitySet, rows: list[dict[str, Any]], predicate: str,
                      options: dict[str, str], view: View) -> None:
        key = _key_predicate(predicate, entity)
        for row in rows:
            if all(str(row[k]).casefold() == v.casefold() for k, v in key.items()):
                select = _select(options, entity)
                context = f"{self._root()}$metadata#{entity.name}"
                if select:
                    context += "(" + ",".join(select) + ")"
                body = {"@odata.context": context + "/$entity", **self._shape(entity, row, select, options, view)}
                self._send_json(200, body)
                return
        self._error(404, f"No resources were found when selecting for the key {predicate[:200]}.")

    def _serve_collection(self, entity: EntitySet, rows: list[dict[str, Any]], options: dict[str, str],
                          raw_query: str, view: View) -> None:
        for spec in reversed([s.strip() for s in options.get("$orderby", "").split(",") if s.strip()]):
            prop, _, direction = spec.partition(" ")
            if prop not in entity.properties:
                raise BadRequest(f"Could not find a property named '{prop}' on type '{entity.type_name}'.")
            if direction not in ("", "asc", "desc"):
                raise BadRequest(f"Bad $orderby direction '{direction}'.")
            rows = sorted(rows, key=_sort_by(prop), reverse=direction == "desc")
        total = len(rows)
        skip = _int_option(options, "$skip", 0) or 0
        top = _int_option(options, "$top", None)
        window = rows[skip:]
        if top is not None:
            window = window[:top]
        page = window[: self.state.page_size]
        select = _select(options, entity)
        context = f"{self._root()}$metadata#{entity.name}"
        if select:
            context += "(" + ",".join(select) + ")"
        body: dict[str, Any] = {"@odata.context": context}
        if options.get("$count", "").lower() == "true":
            body["@odata.count"] = total
        body["value"] = [self._shape(entity, r, select, options, view) for r in page]
        if len(window) > len(page):
            remaining = len(window) - len(page)
            kept = "&".join(p for p in raw_query.split("&") if p and not p.startswith(("$skip=", "$top=")))
            next_top = min(self.state.page_size, remaining)
            body["@odata.nextLink"] = (
                f"{self._root()}{entity.name}?{kept}&$skip={skip + len(page)}&$top={next_top}"
            )
        self._send_json(200, body)

    def _shape(self, entity: EntitySet, row: dict[str, Any], select: list[str], options: dict[str, str],
               view: View) -> dict:
        out = {"@odata.etag": row["@odata.etag"]}
        for prop in select or entity.properties:
            out[prop] = row.get(prop)
        expand = options.get("$expand")
        if expand:
            m = re.fullmatch(r"([A-Za-z_]+)(?:\(\$select=([A-Za-z_,]+)\))?", expand)
            if not m:
                raise BadRequest("Only one level of $expand, with an optional nested $select, is supported.")
            nav = m.group(1)
            if nav not in entity.navigation:
                raise BadRequest(f"Could not find a navigation property named '{nav}' on '{entity.type_name}'.")
            target = visible(SETS[entity.navigation[nav]], self.state.faults.hidden)
            nested = m.group(2).split(",") if m.group(2) else []
            for prop in nested:
                if prop not in target.properties:
                    raise BadRequest(f"Could not find a property named '{prop}' on type '{target.type_name}'.")
            children = view.children[target.name].get((row["dataAreaId"], row["SalesOrderNumber"]), [])
            out[nav] = [{"@odata.etag": c["@odata.etag"], **{p: c.get(p) for p in nested or target.properties}}
                        for c in children]
        return out

    def _root(self) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*cast("tuple[str, int]", self.server.server_address))
        return f"http://{host}/data/"

    # Output ----------------------------------------------------------------------------------
    def _error(self, status: int, message: str, headers: dict[str, str] | None = None, inner: bool = True) -> None:
        error: dict[str, Any] = {"code": "", "message": "An error has occurred." if inner else message}
        if inner:
            error["innererror"] = {"message": message, "type": "Microsoft.OData.ODataException", "stacktrace": ""}
        self._send_json(status, {"error": error}, headers)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, default=_json_default, ensure_ascii=False).encode()
        self._send(status, payload, "application/json; odata.metadata=minimal", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        slow = self.state.faults.slow_body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("OData-Version", "4.0")
        self.send_header("ms-dyn-aid", getattr(self, "activity_id", "") or str(uuid.uuid4()))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if slow and self.path.startswith("/data"):
            for i in range(0, len(body), 64):
                self.wfile.write(body[i:i + 64])
                self.wfile.flush()
                if self.state.release.wait(slow):
                    break
            else:
                return
        self.wfile.write(body)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def _query_pairs(raw: str) -> list[tuple[str, str]]:
    # `+` stays a plus: OData servers differ in reading it as a space (reference §6), so the portal must send %20.
    return [(unquote(k), unquote(v)) for k, v in parse_qsl(raw.replace("+", "%2B"), keep_blank_values=True)]


def _int_option(options: dict[str, str], name: str, default: int | None) -> int | None:
    if name not in options:
        return default
    if not options[name].isdigit():
        raise BadRequest(f"The value '{options[name]}' for {name} is not a non-negative integer.")
    return int(options[name])


def _select(options: dict[str, str], entity: EntitySet) -> list[str]:
    raw = options.get("$select", "")
    props = [p.strip() for p in raw.split(",") if p.strip()]
    for prop in props:
        if prop not in entity.properties:
            raise BadRequest(f"Could not find a property named '{prop}' on type '{entity.type_name}'.")
    return props


def _sort_by(prop: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    return lambda row: _sort_key(row.get(prop))


def _sort_key(value: object) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.casefold())
    return (1, value)


_KEY_PART = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*'|[0-9T:\-Z.]+)\s*(?:,|$)")


def _key_predicate(text: str, entity: EntitySet) -> dict[str, str]:
    key: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = _KEY_PART.match(text, pos)
        if not m or m.end() == pos:
            raise BadRequest(f"Bad key predicate '({text[:200]})'.")
        raw = m.group(2)
        key[m.group(1)] = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
        pos = m.end()
    if set(key) != set(entity.keys):
        raise BadRequest(
            f"The number of keys specified in the URI does not match number of key properties for the resource "
            f"'{entity.type_name}': expected {', '.join(entity.keys)}."
        )
    return key


class Simulator:
    """The in-process handle tests use: start on a free port, switch faults, read what arrived."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, dataset: data.Dataset | None = None,
                 page_size: int = 10_000, accepted_tokens: set[str] | None = None,
                 max_url_length: int | None = 2048) -> None:
        self.state = State(store=Store((dataset or data.build()).tables), page_size=page_size,
                           accepted_tokens=accepted_tokens, max_url_length=max_url_length)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 256
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = cast("tuple[str, int]", self.httpd.server_address)[:2]
        return f"http://{host}:{port}"

    def start(self) -> Simulator:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fno-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def set_faults(self, **switches: Any) -> None:
        with self.state.lock:
            self.state.faults = Faults(**switches)
            self.state.release.clear()

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults = Faults()
            self.state.release.set()

    def requests(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.log)

    def reset_log(self) -> None:
        with self.state.lock:
            self.state.log.clear()
            self.state.calls.clear()

    def calls(self) -> dict[str, int]:
        """Requests received per entity set since the log was last reset (`GET /_sim/stats` over HTTP)."""
        with self.state.lock:
            return dict(self.state.calls)

    def order_change(self, company: str, number: str, body: dict[str, Any]) -> dict[str, Any]:
        """In process, what POST /_sim/orders/<company>/<number> does; raises changes.ChangeRefused."""
        return self.state.store.change(lambda tables: changes.order_change(tables, company, number, body))

    def packing_slip_add(self, company: str, number: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.state.store.change(lambda tables: changes.packing_slip_add(tables, company, number, body))

    def invoice_add(self, company: str, number: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.state.store.change(lambda tables: changes.invoice_add(tables, company, number, body))

    def data_reset(self) -> bool:
        """Back to the demo data built at start (DELETE /_sim/orders); False when nothing had changed."""
        return self.state.store.reset()
