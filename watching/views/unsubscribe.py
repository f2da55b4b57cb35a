"""The e-mail's "stop watching" link: no sign-in, the signed token is the authority.

GET shows what the link will do and a button (mail scanners follow links; they must not unsubscribe anyone). POST
stops the watch: from that button, or straight from the mail client (RFC 8058 one-click, body
"List-Unsubscribe=One-Click"), which carries no CSRF token, hence the exemption. The token alone can only ever stop
one user's watch of one order.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from watching.services import watch_stop
from watching.tokens import unsubscribe_parse


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    target = unsubscribe_parse(token)
    if target is None:
        return render(request, "watching/web/unsubscribe.html", {"invalid": True}, status=404)
    context = {"company": target.company, "number": target.number, "done": False}
    if request.method == "POST":
        watch_stop(user_id=target.user_id, company=target.company, number=target.number)
        context["done"] = True
    return render(request, "watching/web/unsubscribe.html", context)
