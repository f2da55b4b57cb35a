"""The customer's webhook endpoints on the web, beside their API tokens: register (the secret shown once), list,
delete, and the recent deliveries with every attempt."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from webhooks.guard import ResolutionTimedOut, UrlRefused
from webhooks.models import WebhookEndpoint
from webhooks.selectors import delivery_list_for_user, endpoint_list_for_user
from webhooks.services import EndpointLimitReached, endpoint_create, endpoint_delete


def _user_id(request: HttpRequest) -> int:
    user_id = request.user.pk
    if user_id is None:  # login_required let nobody else in
        raise Http404("not signed in")
    return int(user_id)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint_list(request: HttpRequest) -> HttpResponse:
    created: WebhookEndpoint | None = None
    secret = ""
    error = ""
    status = 200
    url = ""
    user_id = _user_id(request)
    if request.method == "POST":
        url = (request.POST.get("url") or "").strip()
        try:
            created, secret = endpoint_create(user_id=user_id, url=url)
        except UrlRefused as exc:
            error, status = str(exc), 400
        except ResolutionTimedOut as exc:
            error, status = str(exc), 503
        except EndpointLimitReached:
            error = _("You already have %(count)d webhooks. Delete one you no longer use, then add a new one.") % {
                "count": settings.WEBHOOKS_PER_USER}
            status = 400
    # Like every signed-in page, this one (which may show a new secret) is sent with no-store
    # (orders.middleware.PrivatePagesMiddleware).
    return render(
        request, "webhooks/endpoints.html",
        {
            "endpoints": endpoint_list_for_user(user_id=user_id),
            "deliveries": delivery_list_for_user(user_id=user_id),
            "created": created, "secret": secret, "error": error, "url": url if error else "",
        },
        status=status,
    )


@login_required
@require_POST
def endpoint_remove(request: HttpRequest, endpoint_id: uuid.UUID) -> HttpResponse:
    if not endpoint_delete(user_id=_user_id(request), endpoint_id=endpoint_id):
        raise Http404("no such webhook")
    messages.success(request, _("The webhook was deleted: nothing more is sent to it."))
    return redirect("webhooks:list")
