"""The orders app's part of the OpenAPI 3.1 description of /api/v1: the order paths, their schemas, and the
building blocks the other apps' parts use too (watching/openapi.py, webhooks/openapi.py). portal/openapi.py puts the
parts together into the document the API serves; tests validate real responses against it."""

from __future__ import annotations

from typing import Any

from orders.changes import FIELDS as CHANGE_FIELDS
from orders.status import CODES

_DATE = {"type": ["string", "null"], "format": "date"}
DATETIME = {"type": ["string", "null"], "format": "date-time"}
_MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": "Decimal amount, in `currency`."}
_QUANTITY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "Decimal quantity, in `unit`."}
_KNOWN_QUANTITY: dict[str, Any] = {
    "type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$",
    "description": "Decimal quantity, in `unit`; null when F&O's packing slip journal cannot say (the site does not "
                   "expose it, or it names a line this order does not have, or a slip's contents are unknown).",
}
_FRESHNESS = {
    "as_of": {"type": "string", "format": "date-time", "description": "When this copy was read from F&O."},
    "stale": {"type": "boolean", "description": "True when F&O could not be reached and this is an older copy."},
}


def object_schema(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties),
            "additionalProperties": False}


# What a list row and an order share (orders.api.serializers._order_fields).
_ORDER_FIELDS = {
    "company": {"type": "string"},
    "number": {"type": "string"},
    "status": {"type": "string", "enum": list(CODES)},
    "status_label": {"type": "string"},
    "customer_account": {"type": "string"},
    "customer_reference": {"type": "string"},
    "requisition_number": {"type": "string"},
    "created_at": DATETIME,
    "requested_ship_date": _DATE,
    "confirmed_ship_date": _DATE,
    "currency": {"type": "string"},
    "total": {**_MONEY, "description": "Decimal amount, in `currency`; what it adds up is in `total_kind`."},
    "total_kind": {
        "type": "string", "enum": ["order_total", "lines_before_tax"],
        "description": "`order_total`: F&O's calculated order total, tax and charges included. `lines_before_tax`: "
                       "F&O has not calculated the totals yet, so this is the sum of the lines, cancelled lines left "
                       "out, before tax and charges.",
    },
}

_SUMMARY = object_schema({**_ORDER_FIELDS, "url": {"type": "string", "format": "uri"}})

_DETAIL = object_schema({
    **_ORDER_FIELDS,
    "status_description": {"type": "string"},
    "requested_receipt_date": _DATE,
    "confirmed_receipt_date": _DATE,
    "delivery": object_schema({k: {"type": "string"} for k in ("name", "address", "mode", "terms", "carrier")}),
    "lines": {"type": "array", "items": object_schema({
        "line_number": _QUANTITY,
        "item_number": {"type": "string"},
        "description": {"type": "string"},
        "quantity": _QUANTITY,
        "unit": {"type": "string"},
        "unit_price": _MONEY,
        "amount": _MONEY,
        "status": {"type": "string"},
        "status_label": {"type": "string"},
        "requested_ship_date": _DATE,
        "confirmed_ship_date": _DATE,
        "confirmed_receipt_date": _DATE,
        "shipped_quantity": {**_KNOWN_QUANTITY, "description": "Shipped so far, summed over the packing slips. "
                             + _KNOWN_QUANTITY["description"]},
        "remaining_quantity": {**_KNOWN_QUANTITY, "description": "Still to come: 0 once the line is delivered, "
                               "invoiced or cancelled. " + _KNOWN_QUANTITY["description"]},
    })},
    "shipments": {
        "type": "array",
        "description": "One entry per packing slip (one delivery), oldest first, however many parcels it had.",
        "items": object_schema({
            "packing_slip_number": {"type": "string"},
            "shipped_on": _DATE,
            "delivery_mode": {"type": ["string", "null"], "description": "F&O's mode of delivery code."},
            "carrier": {"type": ["string", "null"], "description": "F&O's shipping carrier id."},
            "tracking": {"type": "array", "description": "Every tracking number F&O holds for this slip; may be "
                         "empty (e.g. picked up by the customer).", "items": object_schema({
                             "number": {"type": "string"},
                             "url": {"type": ["string", "null"], "format": "uri",
                                     "description": "The carrier's tracking page; only http and https links."},
                         })},
            "lines": {
                "type": ["array", "null"],
                "description": "What was in this packing slip; null when that is not known (the site does not "
                               "expose F&O's packing slip journal, or the slip is missing from it).",
                "items": object_schema({
                    "line_number": _QUANTITY,
                    "item_number": {"type": "string"},
                    "description": {"type": "string"},
                    "quantity": _QUANTITY,
                    "unit": {"type": "string"},
                }),
            },
        }),
    },
    "invoices": {"type": "array", "items": object_schema({
        "number": {"type": "string"},
        "date": _DATE,
        "currency": {"type": "string"},
        "amount": _MONEY,
        "tax": _MONEY,
    })},
    "timeline": {"type": "array", "items": object_schema({
        "code": {"type": "string"},
        "label": {"type": "string"},
        "state": {"type": "string", "enum": ["done", "partial", "upcoming", "stopped"]},
        "date": {"type": ["string", "null"]},
        "detail": {"type": "string"},
    })},
    **_FRESHNESS,
    "changes_since_last_view": {
        "type": "array",
        "description": "What differs from the version of this order the token's user was last shown (on the web "
                       "or here); empty on their first look and when nothing changed. Each answer (a 304 too) counts "
                       "as a look; HEAD does not.",
        "items": {"$ref": "#/components/schemas/Change"},
    },
    "promise_history": object_schema({
        field: {"type": "array", "description": f"Each distinct `{field}` the portal has seen on this order, first "
                "seen first.", "items": object_schema({
                    "date": {"type": "string", "format": "date"},
                    "first_seen_at": {"type": "string", "format": "date-time"},
                })}
        for field in ("confirmed_ship_date", "confirmed_receipt_date")
    }),
})

# One change of an order, as the order answer (changes_since_last_view), e-mails and webhooks name it.
_CHANGE = object_schema({
    "field": {"type": "string", "enum": list(CHANGE_FIELDS),
              "description": "`status` also says on hold, released and cancelled (`on_hold`, `cancelled`)."},
    "from": {"type": ["string", "null"], "description": "A date (YYYY-MM-DD), a status code, or a document number; "
             "null when it was not set (a new packing slip, tracking number or invoice)."},
    "to": {"type": ["string", "null"]},
})

_PROBLEM = object_schema(
    {
        "type": {"type": "string"},
        "code": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "reference": {"type": "string", "description": "Quote it to support."},
        "retry_after": {"type": "integer"},
    },
    required=["type", "code", "title", "status", "detail", "reference"],
)


def problem_response(description: str, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if retry_after:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
    return response


_CACHING_HEADERS = {
    "ETag": {"schema": {"type": "string"}, "description": "Strong validator; send it back in If-None-Match."},
    "Cache-Control": {"schema": {"type": "string"}, "description": "private, max-age=<seconds the copy stays fresh>"},
}
ERRORS = {
    "401": problem_response("No token, or an unknown, expired or revoked token. WWW-Authenticate: Bearer."),
    "429": problem_response("This token's rate limit is spent.", retry_after=True),
    "502": problem_response("F&O sent an answer the portal could not read."),
    "503": problem_response("F&O is unavailable or throttling, and no recent copy exists.", retry_after=True),
    "504": problem_response("F&O did not answer in time, and no recent copy exists."),
}
AUTH_ERRORS = {"401": ERRORS["401"], "429": ERRORS["429"]}
NO_STORE = {"Cache-Control": {"schema": {"type": "string"}, "description": "no-store"}}
_NOT_MODIFIED = {"304": {"description": "Not modified: the copy named by If-None-Match is still current."}}
_IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}


def json_answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A 200 or 201 with a JSON body that no cache may keep."""
    return {"description": description, "headers": NO_STORE, "content": {"application/json": {"schema": schema}}}


PATHS: dict[str, Any] = {
    "/api/v1/me": {"get": {
        "operationId": "me",
        "summary": "The token's user and linked customer accounts",
        "responses": {
            "200": {"description": "The user", "content": {"application/json": {"schema": object_schema({
                "email": {"type": "string"},
                "accounts": {"type": "array", "items": object_schema(
                    {"company": {"type": "string"}, "account": {"type": "string"}})},
            })}}, "headers": _CACHING_HEADERS},
            **_NOT_MODIFIED,
            **AUTH_ERRORS,
        },
    }},
    "/api/v1/orders": {"get": {
        "operationId": "listOrders",
        "summary": "The customer's orders, newest first",
        "parameters": [
            {"name": "q", "in": "query",
             "schema": {"type": "string", "maxLength": 60, "pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"},
             "description": "Order number, or part of your reference or requisition number"},
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(CODES)}},
            {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
            {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
            {"name": "page_size", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            _IF_NONE_MATCH,
        ],
        "responses": {
            "200": {"description": "A page of orders", "headers": _CACHING_HEADERS,
                    "content": {"application/json": {"schema": object_schema({
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/OrderSummary"}},
                        "page": {"type": "integer"},
                        "page_size": {"type": "integer"},
                        "count": {"type": ["integer", "null"]},
                        "next": {"type": ["string", "null"], "format": "uri"},
                        **_FRESHNESS,
                    })}}},
            **_NOT_MODIFIED,
            "400": problem_response("A parameter is invalid."),
            **ERRORS,
        },
    }},
    "/api/v1/orders/{company}/{number}": {"get": {
        "operationId": "getOrder",
        "summary": "One order with lines, shipments, invoices and timeline",
        "parameters": [
            {"name": "company", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^[a-z0-9]{1,8}$"}},
            {"name": "number", "in": "path", "required": True,
             "description": "The order number as F&O shows it. F&O number sequences may contain `/`, "
                            "spaces and other separators: percent-encode them (`SO/2026 7` → "
                            "`SO%2F2026%207`; a literal `/` works too).",
             "schema": {"type": "string", "minLength": 1, "maxLength": 40}},
            _IF_NONE_MATCH,
        ],
        "responses": {
            "200": {"description": "The order", "headers": _CACHING_HEADERS,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
            **_NOT_MODIFIED,
            "404": problem_response("Not your order, or no such order: the two are indistinguishable."),
            **ERRORS,
        },
    }},
}

SCHEMAS: dict[str, Any] = {"OrderSummary": _SUMMARY, "Order": _DETAIL, "Problem": _PROBLEM, "Change": _CHANGE}
