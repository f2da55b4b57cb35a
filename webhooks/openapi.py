"""The webhooks app's part of the OpenAPI description of /api/v1 (portal/openapi.py puts the parts together):
register, list and delete endpoints, and their deliveries with every attempt."""

from __future__ import annotations

from typing import Any

from orders.openapi import AUTH_ERRORS, DATETIME, json_answer, object_schema, problem_response

_WEBHOOK_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_WEBHOOK = object_schema({
    "id": {"type": "string", "format": "uuid"},
    "url": {"type": "string", "format": "uri"},
    "created_at": {"type": "string", "format": "date-time"},
    "last_delivered_at": DATETIME,
    "last_gave_up_at": DATETIME,
})
_WEBHOOK_CREATED = object_schema({
    "id": {"type": "string", "format": "uuid"},
    "url": {"type": "string", "format": "uri"},
    "secret": {"type": "string", "description": "Signs every delivery (header Portal-Signature). Shown only here."},
})
_DELIVERY = object_schema({
    "event_id": {"type": "string", "format": "uuid", "description": "The payload's `id`, the same on every attempt."},
    "type": {"type": "string", "enum": ["order.changed"]},
    "order": object_schema({"company": {"type": "string"}, "number": {"type": "string"}}),
    "occurred_at": {"type": "string", "format": "date-time"},
    "status": {"type": "string", "enum": ["pending", "delivered", "gave_up"],
               "description": "`gave_up`: no 2xx answer within 24 hours of the change."},
    "next_attempt_at": DATETIME,
    "finished_at": DATETIME,
    "attempts": {"type": "array", "description": "Newest first.", "items": object_schema({
        "number": {"type": "integer", "minimum": 1},
        "at": {"type": "string", "format": "date-time"},
        "status_code": {"type": ["integer", "null"], "description": "The receiver's answer; null when none came."},
        "error": {"type": ["string", "null"], "description": "Why it failed: a status, a timeout, a refused address."},
        "duration_ms": {"type": "integer", "minimum": 0},
    })},
})

PATHS: dict[str, Any] = {
    "/api/v1/webhooks": {
        "get": {
            "operationId": "listWebhooks",
            "summary": "The user's webhook endpoints",
            "responses": {"200": json_answer("The endpoints", object_schema({"results": {
                "type": "array", "items": {"$ref": "#/components/schemas/Webhook"}}})), **AUTH_ERRORS},
        },
        "post": {
            "operationId": "createWebhook",
            "summary": "Register an https URL for the changes of watched orders; its secret is answered once",
            "requestBody": {"required": True, "content": {"application/json": {"schema": object_schema({
                "url": {"type": "string", "format": "uri", "maxLength": 2000, "pattern": "^https://",
                        "description": "https only, to a public address, without user name or password."},
            })}}},
            "responses": {
                "201": json_answer("Registered", {"$ref": "#/components/schemas/WebhookCreated"}),
                "400": problem_response("Not one `url`, or a URL that is not https, leads to a private, loopback, "
                                        "link-local or reserved address, does not resolve, or holds a user name or "
                                        "password."),
                "409": problem_response("The user already has WEBHOOKS_PER_USER endpoints (code `limit_reached`)."),
                "503": problem_response("The URL's host name did not resolve within WEBHOOKS_DNS_TIMEOUT_SECONDS (code "
                                        "`dns_timeout`): nothing was registered; try again."),
                **AUTH_ERRORS,
            },
        },
    },
    "/api/v1/webhooks/{id}": {"delete": {
        "operationId": "deleteWebhook",
        "summary": "Delete an endpoint: nothing more is sent to it",
        "parameters": [_WEBHOOK_ID],
        "responses": {"204": {"description": "Deleted"},
                      "404": problem_response("Not your webhook, or no such webhook."), **AUTH_ERRORS},
    }},
    "/api/v1/webhooks/{id}/deliveries": {"get": {
        "operationId": "listWebhookDeliveries",
        "summary": "The endpoint's newest 50 deliveries, newest first, each with its attempts",
        "parameters": [_WEBHOOK_ID],
        "responses": {
            "200": json_answer("Deliveries", object_schema({
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}},
                "limit": {"type": "integer", "description": "At most this many deliveries are listed."},
            })),
            "404": problem_response("Not your webhook, or no such webhook."),
            **AUTH_ERRORS,
        },
    }},
}

SCHEMAS: dict[str, Any] = {"Webhook": _WEBHOOK, "WebhookCreated": _WEBHOOK_CREATED, "WebhookDelivery": _DELIVERY}
