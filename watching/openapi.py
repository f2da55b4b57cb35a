"""The watching app's part of the OpenAPI description of /api/v1 (portal/openapi.py puts the parts together):
watch and stop watching an order, and the orders a user watches."""

from __future__ import annotations

from typing import Any

from orders.openapi import AUTH_ERRORS, DATETIME, ERRORS, NO_STORE, json_answer, object_schema, problem_response

_WATCH = object_schema({
    "company": {"type": "string"},
    "number": {"type": "string"},
    "url": {"type": "string", "format": "uri", "description": "The order in this API."},
    "since": {"type": "string", "format": "date-time"},
    "last_change_at": {**DATETIME, "description": "When the watcher last found a change; null before the first."},
})

_ORDER_IN_PATH = [
    {"name": "company", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9]{1,8}$"}},
    {"name": "number", "in": "path", "required": True, "description": "As for getOrder.",
     "schema": {"type": "string", "minLength": 1, "maxLength": 40}},
]
_WATCH_ANSWER = {"description": "Watched", "headers": NO_STORE,
                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Watch"}}}}

PATHS: dict[str, Any] = {
    "/api/v1/orders/{company}/{number}/watch": {
        "post": {
            "operationId": "watchOrder",
            "summary": "Watch one of your orders: its changes are e-mailed to you and posted to your webhooks",
            "parameters": _ORDER_IN_PATH,
            "responses": {
                "201": _WATCH_ANSWER,
                "200": {**_WATCH_ANSWER, "description": "Already watched"},
                "404": problem_response("Not your order, or no such order: the two are indistinguishable."),
                **ERRORS,
            },
        },
        "delete": {
            "operationId": "unwatchOrder",
            "summary": "Stop watching an order",
            "parameters": _ORDER_IN_PATH,
            "responses": {"204": {"description": "No longer watched"},
                          "404": problem_response("You do not watch this order."), **AUTH_ERRORS},
        },
    },
    "/api/v1/watches": {"get": {
        "operationId": "listWatches",
        "summary": "The orders you watch, newest watch first",
        "responses": {"200": json_answer("The watched orders", object_schema({"results": {
            "type": "array", "items": {"$ref": "#/components/schemas/Watch"}}})), **AUTH_ERRORS},
    }},
}

SCHEMAS: dict[str, Any] = {"Watch": _WATCH}
