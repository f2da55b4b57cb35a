"""The OpenAPI 3.1 description of /api/v1, kept beside the views; tests validate real responses against it."""

from __future__ import annotations

from typing import Any

from orders.changes import FIELDS as CHANGE_FIELDS
from orders.status import CODES

_DATE = {"type": ["string", "null"], "format": "date"}
_DATETIME = {"type": ["string", "null"], "format": "date-time"}
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


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
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
    "created_at": _DATETIME,
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

_SUMMARY = _object({**_ORDER_FIELDS, "url": {"type": "string", "format": "uri"}})

_DETAIL = _object({
    **_ORDER_FIELDS,
    "status_description": {"type": "string"},
    "requested_receipt_date": _DATE,
    "confirmed_receipt_date": _DATE,
    "delivery": _object({k: {"type": "string"} for k in ("name", "address", "mode", "terms", "carrier")}),
    "lines": {"type": "array", "items": _object({
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
        "items": _object({
            "packing_slip_number": {"type": "string"},
            "shipped_on": _DATE,
            "delivery_mode": {"type": ["string", "null"], "description": "F&O's mode of delivery code."},
            "carrier": {"type": ["string", "null"], "description": "F&O's shipping carrier id."},
            "tracking": {"type": "array", "description": "Every tracking number F&O holds for this slip; may be "
                         "empty (e.g. picked up by the customer).", "items": _object({
                             "number": {"type": "string"},
                             "url": {"type": ["string", "null"], "format": "uri",
                                     "description": "The carrier's tracking page; only http and https links."},
                         })},
            "lines": {
                "type": ["array", "null"],
                "description": "What was in this packing slip; null when that is not known (the site does not "
                               "expose F&O's packing slip journal, or the slip is missing from it).",
                "items": _object({
                    "line_number": _QUANTITY,
                    "item_number": {"type": "string"},
                    "description": {"type": "string"},
                    "quantity": _QUANTITY,
                    "unit": {"type": "string"},
                }),
            },
        }),
    },
    "invoices": {"type": "array", "items": _object({
        "number": {"type": "string"},
        "date": _DATE,
        "currency": {"type": "string"},
        "amount": _MONEY,
        "tax": _MONEY,
    })},
    "timeline": {"type": "array", "items": _object({
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
    "promise_history": _object({
        field: {"type": "array", "description": f"Each distinct `{field}` the portal has seen on this order, first "
                "seen first.", "items": _object({
                    "date": {"type": "string", "format": "date"},
                    "first_seen_at": {"type": "string", "format": "date-time"},
                })}
        for field in ("confirmed_ship_date", "confirmed_receipt_date")
    }),
})

# Watching (the watching app): one change of a watched order, as e-mails, webhooks and the order answer name it.
_CHANGE = _object({
    "field": {"type": "string", "enum": list(CHANGE_FIELDS),
              "description": "`status` also says on hold, released and cancelled (`on_hold`, `cancelled`)."},
    "from": {"type": ["string", "null"], "description": "A date (YYYY-MM-DD), a status code, or a document number; "
             "null when it was not set (a new packing slip, tracking number or invoice)."},
    "to": {"type": ["string", "null"]},
})
_WATCH = _object({
    "company": {"type": "string"},
    "number": {"type": "string"},
    "url": {"type": "string", "format": "uri", "description": "The order in this API."},
    "since": {"type": "string", "format": "date-time"},
    "last_change_at": {**_DATETIME, "description": "When the watcher last found a change; null before the first."},
})

_PROBLEM = _object(
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


def _problem(description: str, retry_after: bool = False) -> dict[str, Any]:
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
_ERRORS = {
    "401": _problem("No token, or an unknown, expired or revoked token. WWW-Authenticate: Bearer."),
    "429": _problem("This token's rate limit is spent.", retry_after=True),
    "502": _problem("F&O sent an answer the portal could not read."),
    "503": _problem("F&O is unavailable or throttling, and no recent copy exists.", retry_after=True),
    "504": _problem("F&O did not answer in time, and no recent copy exists."),
}
_NOT_MODIFIED = {"304": {"description": "Not modified: the copy named by If-None-Match is still current."}}
_IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}


# Webhooks (the webhooks app): register, list, delete, deliveries with every attempt.
_WEBHOOK_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_NO_STORE = {"Cache-Control": {"schema": {"type": "string"}, "description": "no-store"}}
_WEBHOOK = _object({
    "id": {"type": "string", "format": "uuid"},
    "url": {"type": "string", "format": "uri"},
    "created_at": {"type": "string", "format": "date-time"},
    "last_delivered_at": _DATETIME,
    "last_gave_up_at": _DATETIME,
})
_WEBHOOK_CREATED = _object({
    "id": {"type": "string", "format": "uuid"},
    "url": {"type": "string", "format": "uri"},
    "secret": {"type": "string", "description": "Signs every delivery (header Portal-Signature). Shown only here."},
})
_DELIVERY = _object({
    "event_id": {"type": "string", "format": "uuid", "description": "The payload's `id`, the same on every attempt."},
    "type": {"type": "string", "enum": ["order.changed"]},
    "order": _object({"company": {"type": "string"}, "number": {"type": "string"}}),
    "occurred_at": {"type": "string", "format": "date-time"},
    "status": {"type": "string", "enum": ["pending", "delivered", "gave_up"],
               "description": "`gave_up`: no 2xx answer within 24 hours of the change."},
    "next_attempt_at": _DATETIME,
    "finished_at": _DATETIME,
    "attempts": {"type": "array", "description": "Newest first.", "items": _object({
        "number": {"type": "integer", "minimum": 1},
        "at": {"type": "string", "format": "date-time"},
        "status_code": {"type": ["integer", "null"], "description": "The receiver's answer; null when none came."},
        "error": {"type": ["string", "null"], "description": "Why it failed: a status, a timeout, a refused address."},
        "duration_ms": {"type": "integer", "minimum": 0},
    })},
})


def _json_answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "headers": _NO_STORE, "content": {"application/json": {"schema": schema}}}


_WEBHOOK_AUTH_ERRORS = {"401": _ERRORS["401"], "429": _ERRORS["429"]}
_WEBHOOK_PATHS = {
    "/api/v1/webhooks": {
        "get": {
            "operationId": "listWebhooks",
            "summary": "The user's webhook endpoints",
            "responses": {"200": _json_answer("The endpoints", _object({"results": {
                "type": "array", "items": {"$ref": "#/components/schemas/Webhook"}}})), **_WEBHOOK_AUTH_ERRORS},
        },
        "post": {
            "operationId": "createWebhook",
            "summary": "Register an https URL for the changes of watched orders; its secret is answered once",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _object({
                "url": {"type": "string", "format": "uri", "maxLength": 2000, "pattern": "^https://",
                        "description": "https only, to a public address, without user name or password."},
            })}}},
            "responses": {
                "201": _json_answer("Registered", {"$ref": "#/components/schemas/WebhookCreated"}),
                "400": _problem("Not one `url`, or a URL that is not https, leads to a private, loopback, link-local "
                                "or reserved address, does not resolve, or holds a user name or password."),
                "409": _problem("The user already has WEBHOOKS_PER_USER endpoints (code `limit_reached`)."),
                **_WEBHOOK_AUTH_ERRORS,
            },
        },
    },
    "/api/v1/webhooks/{id}": {"delete": {
        "operationId": "deleteWebhook",
        "summary": "Delete an endpoint: nothing more is sent to it",
        "parameters": [_WEBHOOK_ID],
        "responses": {"204": {"description": "Deleted"}, "404": _problem("Not your webhook, or no such webhook."),
                      **_WEBHOOK_AUTH_ERRORS},
    }},
    "/api/v1/webhooks/{id}/deliveries": {"get": {
        "operationId": "listWebhookDeliveries",
        "summary": "The endpoint's newest 50 deliveries, newest first, each with its attempts",
        "parameters": [_WEBHOOK_ID],
        "responses": {
            "200": _json_answer("Deliveries", _object({
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}},
                "limit": {"type": "integer", "description": "At most this many deliveries are listed."},
            })),
            "404": _problem("Not your webhook, or no such webhook."),
            **_WEBHOOK_AUTH_ERRORS,
        },
    }},
}

_ORDER_IN_PATH = [
    {"name": "company", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9]{1,8}$"}},
    {"name": "number", "in": "path", "required": True, "description": "As for getOrder.",
     "schema": {"type": "string", "minLength": 1, "maxLength": 40}},
]
_WATCH_ANSWER = {"description": "Watched", "headers": _NO_STORE,
                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Watch"}}}}
_WATCH_PATHS = {
    "/api/v1/orders/{company}/{number}/watch": {
        "post": {
            "operationId": "watchOrder",
            "summary": "Watch one of your orders: its changes are e-mailed to you and posted to your webhooks",
            "parameters": _ORDER_IN_PATH,
            "responses": {
                "201": _WATCH_ANSWER,
                "200": {**_WATCH_ANSWER, "description": "Already watched"},
                "404": _problem("Not your order, or no such order: the two are indistinguishable."),
                **_ERRORS,
            },
        },
        "delete": {
            "operationId": "unwatchOrder",
            "summary": "Stop watching an order",
            "parameters": _ORDER_IN_PATH,
            "responses": {"204": {"description": "No longer watched"},
                          "404": _problem("You do not watch this order."), **_WEBHOOK_AUTH_ERRORS},
        },
    },
    "/api/v1/watches": {"get": {
        "operationId": "listWatches",
        "summary": "The orders you watch, newest watch first",
        "responses": {"200": _json_answer("The watched orders", _object({"results": {
            "type": "array", "items": {"$ref": "#/components/schemas/Watch"}}})), **_WEBHOOK_AUTH_ERRORS},
    }},
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Order portal API",
            "version": "1.0.0",
            "description": (
                "Read-only access to a customer's sales orders in Dynamics 365 F&O, with the same access rules as "
                "the web portal. Every answer says how fresh it is (`as_of`, `stale`). When F&O is unavailable "
                "and a recent copy exists, the copy is returned with `stale: true` instead of an error. Watch an "
                "order (`POST /api/v1/orders/{company}/{number}/watch`) to be told when its dates move, it ships, "
                "is invoiced or changes status: by e-mail, and by webhooks (`/api/v1/webhooks`), which push each "
                "change as signed JSON (see the README)."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/me": {"get": {
                "operationId": "me",
                "summary": "The token's user and linked customer accounts",
                "responses": {
                    "200": {"description": "The user", "content": {"application/json": {"schema": _object({
                        "email": {"type": "string"},
                        "accounts": {"type": "array", "items": _object(
                            {"company": {"type": "string"}, "account": {"type": "string"}})},
                    })}}, "headers": _CACHING_HEADERS},
                    **_NOT_MODIFIED,
                    "401": _ERRORS["401"],
                    "429": _ERRORS["429"],
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
                            "content": {"application/json": {"schema": _object({
                                "results": {"type": "array", "items": {"$ref": "#/components/schemas/OrderSummary"}},
                                "page": {"type": "integer"},
                                "page_size": {"type": "integer"},
                                "count": {"type": ["integer", "null"]},
                                "next": {"type": ["string", "null"], "format": "uri"},
                                **_FRESHNESS,
                            })}}},
                    **_NOT_MODIFIED,
                    "400": _problem("A parameter is invalid."),
                    **_ERRORS,
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
                    "404": _problem("Not your order, or no such order: the two are indistinguishable."),
                    **_ERRORS,
                },
            }},
            **_WEBHOOK_PATHS,
            **_WATCH_PATHS,
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token from the portal's API tokens page."}},
            "schemas": {"OrderSummary": _SUMMARY, "Order": _DETAIL, "Problem": _PROBLEM, "Webhook": _WEBHOOK,
                        "WebhookCreated": _WEBHOOK_CREATED, "WebhookDelivery": _DELIVERY,
                        "Change": _CHANGE, "Watch": _WATCH},
        },
    }
