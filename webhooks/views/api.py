"""Webhook endpoints in the JSON API: register (the secret answered once), list, delete, and the deliveries with every
attempt. Same bearer-token auth, per-token rate limit and problem details as the rest of /api/v1/."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from orders.api.auth import api_view, api_view_for
from orders.api.problems import problem
from orders.api.responses import no_store_json
from orders.api_tokens import ApiPrincipal
from webhooks.guard import ResolutionTimedOut, UrlRefused
from webhooks.presenters import delivery_json, endpoint_created_json, endpoint_json
from webhooks.selectors import (
    DELIVERIES_SHOWN,
    delivery_list_for_endpoint,
    endpoint_get_for_user,
    endpoint_list_for_user,
)
from webhooks.services import EndpointLimitReached, endpoint_create, endpoint_delete


@api_view_for("GET", "HEAD", "POST")
def endpoints(request: HttpRequest, principal: ApiPrincipal) -> HttpResponse:
    if request.method == "POST":
        return _endpoint_create(request, principal)
    return no_store_json({"results": [endpoint_json(e) for e in endpoint_list_for_user(user_id=principal.user_id)]})


def _endpoint_create(request: HttpRequest, principal: ApiPrincipal) -> HttpResponse:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or set(body) != {"url"} or not isinstance(body["url"], str):
        return problem(request, 400, "invalid_parameters", 'Send a JSON object with one member: {"url": "https://..."}.')
    try:
        endpoint, secret = endpoint_create(user_id=principal.user_id, url=body["url"], token_id=principal.token_id)
    except UrlRefused as exc:
        return problem(request, 400, "invalid_parameters", str(exc))
    except ResolutionTimedOut as exc:
        return problem(request, 503, "dns_timeout", str(exc))
    except EndpointLimitReached:
        return problem(request, 409, "limit_reached", f"You already have {settings.WEBHOOKS_PER_USER} webhooks. "
                       "Delete one you no longer use, then add a new one.")
    return no_store_json(endpoint_created_json(endpoint, secret), status=201)


@api_view_for("DELETE")
def endpoint_detail(request: HttpRequest, principal: ApiPrincipal, endpoint_id: uuid.UUID) -> HttpResponse:
    if not endpoint_delete(user_id=principal.user_id, endpoint_id=endpoint_id):
        return problem(request, 404, "not_found", "No such webhook.")
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response


@api_view
def deliveries(request: HttpRequest, principal: ApiPrincipal, endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = endpoint_get_for_user(user_id=principal.user_id, endpoint_id=endpoint_id)
    if endpoint is None:
        return problem(request, 404, "not_found", "No such webhook.")
    shown = delivery_list_for_endpoint(endpoint=endpoint)
    return no_store_json({"results": [delivery_json(d) for d in shown], "limit": DELIVERIES_SHOWN})
