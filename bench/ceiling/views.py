"""One view: a fixed JSON body shaped and sized like the portal's answer for a cached order (order.json, about 2 KB),
read once at import."""

from pathlib import Path

from django.http import HttpRequest, HttpResponse

BODY = (Path(__file__).with_name("order.json")).read_bytes()


def order(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BODY, content_type="application/json")
