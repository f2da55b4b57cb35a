"""The customer's own API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from orders.models import ApiToken
from orders.request_types import SignedInRequest
from orders.services import TokenLimitReached, api_token_create, api_token_revoke

EXPIRY_CHOICES = {"": None, "30": 30, "90": 90, "365": 365}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request: SignedInRequest) -> HttpResponse:
    new_token = None
    error = ""
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()
        expiry = request.POST.get("expires_in_days", "")
        if not name or len(name) > 80:
            error = _("Give the token a name of up to 80 characters, such as the device it is for.")
        elif expiry not in EXPIRY_CHOICES:
            error = _("Choose when the token expires.")
        else:
            days = EXPIRY_CHOICES[expiry]
            expires_at = timezone.now() + timedelta(days=days) if days else None
            try:
                _token, new_token = api_token_create(user=request.user, name=name, expires_at=expires_at)
            except TokenLimitReached:
                error = _("You already have %(count)d tokens. Revoke one you no longer use, then create a new one.") \
                    % {"count": settings.API_TOKENS_PER_USER}
    tokens = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True)
    response = render(
        request, "orders/web/tokens.html",
        {"tokens": tokens, "new_token": new_token, "error": error},
        status=400 if error else 200,
    )
    # The page that shows a new token must not be kept by any cache.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: SignedInRequest, token_id: int) -> HttpResponse:
    token = ApiToken.objects.filter(user=request.user, pk=token_id).first()
    if token is None:
        raise Http404("no such token")
    api_token_revoke(token=token)
    messages.success(request, _("The token “%(name)s” no longer works.") % {"name": token.name})
    return redirect("orders:tokens")
