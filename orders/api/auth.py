"""`api_view`: what every API view gets before and after it runs. Read-only methods, a bearer token (a session
cookie does not authorize the API, so there is no CSRF exposure and the views are exempt from CSRF checks), the
per-token rate limit, the lookup audit, and every domain error answered as its problem document."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from orders.api.problems import problem, unavailable_problem
from orders.api_tokens import ApiPrincipal, api_token_authenticate
from orders.audit import lookup_record
from orders.cached_reads import Lookup
from orders.exceptions import InvalidLookup, LookupBudgetExceeded, OrderNotFound, OrdersUnavailable
from orders.request_types import PortalRequest
from orders.resilience.rate_limit import Rate, rate_take

View = Callable[..., HttpResponse]


class ApiRequest(PortalRequest):
    """An API request once `api_view` has checked its token. A view that looked up an order or a list leaves the
    lookup here, for the audit record `api_view` writes after it."""

    api_principal: ApiPrincipal
    api_lookup: Lookup[Any]


def _rate_limit(principal: ApiPrincipal) -> float | None:
    """Requests per token (API_RATE_LIMIT), shared by every instance. Seconds to wait when over the limit."""
    return rate_take(f"api:{principal.token_id}", Rate.of(settings.API_RATE_LIMIT))


READ = ("GET", "HEAD")


def api_view(view: View) -> View:
    """A read-only view: GET and HEAD."""
    return _wrapped(view, READ)


def api_view_for(*methods: str) -> Callable[[View], View]:
    """A view that also writes (the watching app's watch, for one): these methods, the same everything else."""
    return lambda view: _wrapped(view, methods)


def _wrapped(view: View, methods: tuple[str, ...]) -> View:
    allowed = ", ".join(methods)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: ApiRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in methods:
            detail = "This API is read-only." if methods == READ else f"Allowed: {allowed}."
            return problem(request, 405, "method_not_allowed", detail, headers={"Allow": allowed})
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return problem(request, 401, "unauthorized", "Send Authorization: Bearer <token>.",
                           headers={"WWW-Authenticate": 'Bearer realm="orders"'})
        principal = api_token_authenticate(raw=raw.strip())
        if principal is None:
            return problem(request, 401, "unauthorized", "The token is unknown, expired or revoked.",
                           headers={"WWW-Authenticate": 'Bearer realm="orders", error="invalid_token"'})
        request.api_principal = principal
        wait = _rate_limit(principal)
        if wait is not None:
            return problem(request, 429, "rate_limited", "Too many requests for this token.", retry_after=wait)
        audit: dict[str, Any] = {
            "channel": "api", "user_id": principal.user_id, "query": request.GET.dict(),
            "kind": "order" if "number" in kwargs else "list",
            "company": kwargs.get("company", ""), "order_number": kwargs.get("number", ""),
        }
        try:
            response = view(request, principal, *args, **kwargs)
        except InvalidLookup as exc:
            lookup_record(request, outcome="invalid", status_code=400, **audit)
            return problem(request, 400, "invalid_parameters", f"Invalid {exc}.")
        except OrderNotFound:
            lookup_record(request, outcome="not_found", status_code=404, **audit)
            return problem(request, 404, "not_found", "No such order for this account.")
        except LookupBudgetExceeded as exc:
            lookup_record(request, outcome="limited", problem="over_budget", status_code=429, **audit)
            return problem(request, 429, "rate_limited", "Too many orders looked up that had to be read from the "
                           "order system. Orders read a moment ago still answer at once.", retry_after=exc.retry_after)
        except OrdersUnavailable as exc:
            lookup_record(request, outcome="unavailable", problem=exc.kind, status_code=exc.status_code, **audit)
            return unavailable_problem(request, exc)
        lookup = getattr(request, "api_lookup", None)
        if lookup is not None:
            outcome = "stale" if lookup.stale else "ok"
            lookup_record(request, outcome=outcome, status_code=response.status_code, lookup=lookup, **audit)
        patch_vary_headers(response, ["Authorization"])
        return response

    return wrapper
