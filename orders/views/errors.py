from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        from orders.api.problems import problem

        return problem(request, 404, "not_found", "No such resource.")
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        import json

        body = {"type": "/api/v1/problems#server_error", "code": "server_error", "title": "Server error",
                "status": 500, "detail": "Something went wrong on our side.",
                "reference": getattr(request, "reference", "")}
        return HttpResponse(json.dumps(body), status=500, content_type="application/problem+json")
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
