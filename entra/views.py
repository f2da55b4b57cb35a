"""Sign in with Microsoft: start the flow, take the answer, and the pages around it (a user's linked accounts, an
invitation). The flow waits in the session and is taken out of it by the first answer, whatever that answer is."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import services
from .errors import FlowRejected, IdentityProviderUnavailable, TokenRejected
from .forms import LinkConfirmForm
from .oidc import Identity
from .provider import entra_client, entra_configured
from .selectors import REFUSED_TENANT, identities_for_user, identity_user, invitation_usable, signin_decision

logger = logging.getLogger("entra")

SESSION_FLOW = "entra_flow"
SESSION_INVITATION = "entra_invitation"
PURPOSE_SIGNIN, PURPOSE_LINK, PURPOSE_INVITATION = "signin", "link", "invitation"
# A link must be finished this soon after the password was typed again for it.
LINK_CONFIRM_SECONDS = 600

# What each refusal page says: (title, text, offer another Microsoft account).
PAGES = {
    "unknown": (gettext_lazy("Not linked to a customer"),
                gettext_lazy("This Microsoft account is not linked to a customer; ask us for an invitation."), True),
    "tenant": (gettext_lazy("Organisation not allowed"),
               gettext_lazy("Accounts of this organisation cannot sign in to this portal. Sign in with your e-mail "
                            "address and password, or ask us."), True),
    "taken": (gettext_lazy("Already linked to someone else"),
              gettext_lazy("This Microsoft account is already linked to another user of this portal. Use a "
                           "different Microsoft account, or ask us."), True),
    "rejected": (gettext_lazy("Sign-in not completed"),
                 gettext_lazy("The answer from Microsoft does not belong to a sign-in started here, or it was used "
                              "already. Please start again."), True),
    "cancelled": (gettext_lazy("Sign-in cancelled"),
                  gettext_lazy("Microsoft did not sign you in: it was cancelled or refused. You can start again."),
                  True),
    "unavailable": (gettext_lazy("Microsoft sign-in is unavailable"),
                    gettext_lazy("We could not reach Microsoft's sign-in service. Please try again in a few minutes, "
                                 "or sign in with your e-mail address and password."), False),
    "invitation": (gettext_lazy("Invitation not valid"),
                   gettext_lazy("This invitation link has been used, has expired or was replaced by a newer one. "
                                "Ask us for a new one."), False),
    "locked_out": (gettext_lazy("Too many failed sign-ins"),
                   gettext_lazy("Signing in is paused for a while. Please try again later."), False),
    "staff": (gettext_lazy("Not for staff accounts"),
              gettext_lazy("Staff accounts sign in with their password only; no Microsoft account can be linked to "
                           "them."), False),
    "invitation_only": (gettext_lazy("Ask us for an invitation"),
                        gettext_lazy("Your account has no password to confirm the link with. We can e-mail you an "
                                     "invitation to sign in with Microsoft instead."), False),
    "link_expired": (gettext_lazy("Link not completed"),
                     gettext_lazy("Signing in with Microsoft took too long after you confirmed your password. Please "
                                  "start again."), False),
}


def _page(request: HttpRequest, kind: str, *, status: int) -> HttpResponse:
    title, text, retry = PAGES[kind]
    return render(request, "entra/message.html", {"title": title, "text": text, "retry": retry}, status=status)


def _signed_in(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # behind login_required: never AnonymousUser
        raise PermissionDenied
    return user


def _configured() -> None:
    if not entra_configured():
        raise Http404("sign-in with Microsoft is not configured")


def _redirect_uri(request: HttpRequest) -> str:
    return settings.ENTRA_REDIRECT_URI or request.build_absolute_uri(reverse("entra:callback"))


def _start(request: HttpRequest, *, purpose: str, **pending: Any) -> HttpResponse:
    try:
        flow = entra_client().flow_start(redirect_uri=_redirect_uri(request))
    except IdentityProviderUnavailable as exc:
        logger.warning("entra.unavailable", extra={"event": "entra.unavailable", "error": str(exc)})
        return _page(request, "unavailable", status=503)
    request.session[SESSION_FLOW] = {"flow": flow, "purpose": purpose, **pending}
    return HttpResponseRedirect(flow["auth_uri"])


@require_POST
def signin_start(request: HttpRequest) -> HttpResponse:
    _configured()
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = ""
    return _start(request, purpose=PURPOSE_SIGNIN, next=next_url)


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    _configured()
    pending = request.session.pop(SESSION_FLOW, None)
    if not isinstance(pending, dict):
        pending = {}
    try:
        identity = entra_client().flow_finish(flow=pending.get("flow"), auth_response=request.GET.dict())
    except (FlowRejected, TokenRejected) as exc:
        logger.warning("entra.rejected", extra={"event": "entra.rejected", "reason": exc.reason})
        return _page(request, "cancelled" if exc.code == "access_denied" else "rejected", status=400)
    except IdentityProviderUnavailable as exc:
        logger.warning("entra.unavailable", extra={"event": "entra.unavailable", "error": str(exc)})
        return _page(request, "unavailable", status=503)
    if pending.get("purpose") == PURPOSE_LINK:
        return _finish_link(request, identity, user_id=pending.get("user"), confirmed_at=pending.get("confirmed_at"))
    if pending.get("purpose") == PURPOSE_INVITATION:
        return _finish_invitation(request, identity, invitation_id=pending.get("invitation"))
    return _finish_signin(request, identity, next_url=str(pending.get("next") or ""))


def _finish_signin(request: HttpRequest, identity: Identity, *, next_url: str) -> HttpResponse:
    linked = identity_user(identity=identity)
    # The user name django-axes and orders.signin count failures under: the linked user's, as a password sign-in's.
    name = linked.get_username() if linked is not None else identity.label
    user = authenticate(request, username=name, entra_identity=identity)
    if user is None:
        locked = bool(getattr(request, "axes_locked_out", False))
        _, reason = signin_decision(identity=identity)
        logger.warning("entra.signin.refused", extra={
            "event": "entra.signin.refused", "reason": "locked_out" if locked else reason,
            "tenant": identity.tenant_id, "user_id": linked.pk if linked is not None else None,
        })
        if locked:
            return _page(request, "locked_out", status=429)  # AxesMiddleware answers with its own lockout page
        return _page(request, "tenant" if reason == REFUSED_TENANT else "unknown", status=403)
    login(request, user)  # a new session key, as with a password
    services.identity_used(identity=identity)
    logger.info("entra.signin", extra={"event": "entra.signin", "user_id": user.pk, "tenant": identity.tenant_id})
    return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


def _link_refusal(user: User) -> str:
    """Why this user may not link a Microsoft account themselves ("" when they may): staff never (a link outlives a
    stolen session), and a user without a password to confirm it with only by an invitation."""
    if user.is_staff or user.is_superuser:
        return "staff"
    if not user.has_usable_password():
        return "invitation_only"
    return ""


def _finish_link(request: HttpRequest, identity: Identity, *, user_id: Any, confirmed_at: Any) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or user.pk != user_id:
        logger.warning("entra.rejected", extra={"event": "entra.rejected", "reason": "link for another session"})
        return _page(request, "rejected", status=400)
    if not isinstance(confirmed_at, int) or time.time() - confirmed_at > LINK_CONFIRM_SECONDS:
        return _page(request, "link_expired", status=400)
    try:
        services.identity_link(user=user, identity=identity)
    except services.StaffNotAllowed:
        return _page(request, "staff", status=403)
    except services.TenantNotAllowed:
        return _page(request, "tenant", status=403)
    except services.IdentityTaken:
        return _page(request, "taken", status=409)
    messages.success(request, _("From now on you can sign in with Microsoft as %(account)s.")
                     % {"account": identity.username or _("this account")})
    return redirect("entra:identities")


def _finish_invitation(request: HttpRequest, identity: Identity, *, invitation_id: Any) -> HttpResponse:
    try:
        services.invitation_accept(invitation_id=int(invitation_id), identity=identity)
    except (TypeError, ValueError, services.InvitationUnusable):
        return _page(request, "invitation", status=410)
    except services.StaffNotAllowed:
        return _page(request, "staff", status=403)
    except services.TenantNotAllowed:
        return _page(request, "tenant", status=403)
    except services.IdentityTaken:
        return _page(request, "taken", status=409)
    request.session.pop(SESSION_INVITATION, None)
    return _finish_signin(request, identity, next_url="")


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest) -> HttpResponse:
    """The e-mailed link. Opening it spends nothing (mail scanners open links too): it shows a button; only the
    Microsoft sign-in that follows spends the invitation. The token leaves the address bar at once."""
    _configured()
    token = request.GET.get("token", "")
    if token:
        found = invitation_usable(token=token)
        if found is None:
            return _page(request, "invitation", status=410)
        request.session[SESSION_INVITATION] = found.pk
        return redirect("entra:invitation")
    invitation_id = request.session.get(SESSION_INVITATION)
    found = invitation_usable(invitation_id=invitation_id) if isinstance(invitation_id, int) else None
    if found is None:
        return _page(request, "invitation", status=410)
    if request.method == "POST":
        return _start(request, purpose=PURPOSE_INVITATION, invitation=found.pk)
    return render(request, "entra/invitation.html", {"invitation": found})


@login_required
@require_http_methods(["GET", "POST"])
def identities(request: HttpRequest) -> HttpResponse:
    """The user's Microsoft accounts, and linking one more: only after typing their password again (a session left
    signed in is not enough), never for staff, and for a user without a password only by invitation."""
    _configured()
    user = _signed_in(request)
    refusal = _link_refusal(user)
    form = LinkConfirmForm(request.POST if request.method == "POST" else None, request=request, user=user)
    if request.method == "POST":
        if refusal:
            return _page(request, refusal, status=403)
        if form.is_valid():
            return _start(request, purpose=PURPOSE_LINK, user=user.pk, confirmed_at=int(time.time()))
    context = {"identities": identities_for_user(user=user), "form": form, "refusal": refusal}
    return render(request, "entra/identities.html", context)


@login_required
@require_POST
def identity_remove(request: HttpRequest, pk: int) -> HttpResponse:
    if services.identity_remove(user=_signed_in(request), identity_id=pk):
        messages.success(request, _("That Microsoft account no longer signs you in."))
    return redirect("entra:identities")
