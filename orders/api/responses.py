"""The API's JSON answers: compact bodies with a strong ETag (`If-None-Match` gets 304) and a `Cache-Control`
max-age of the seconds the copy stays fresh."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from orders.cached_reads import Lookup
from orders.memo import ObjectMemo

Encoded = tuple[bytes, str]  # the body and its ETag

_bodies: ObjectMemo[Encoded] = ObjectMemo()


def body_encode(body: dict[str, Any]) -> Encoded:
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return payload, '"' + hashlib.sha256(payload).hexdigest()[:40] + '"'


def body_extend(encoded: Encoded, more: dict[str, Any]) -> Encoded:
    """A body serialized once per copy, with members of this request's own (the reader's) added at its end; the
    ETag covers them too."""
    payload = encoded[0]
    extra = json.dumps(more, separators=(",", ":"), ensure_ascii=False).encode()
    joined = payload[:-1] + b"," + extra[1:] if payload != b"{}" else extra
    return joined, '"' + hashlib.sha256(joined).hexdigest()[:40] + '"'


def body_encode_once(value: object, variant: Hashable, body: Callable[[], dict[str, Any]]) -> Encoded:
    """One serialization per cached copy (`value`) and `variant` (freshness, language): not one per request."""
    return _bodies.get(value, variant, lambda: body_encode(body()))


def no_store_json(body: dict[str, Any], status: int = 200) -> HttpResponse:
    """A JSON answer about the caller's own settings (watches, webhooks): compact, never stored by any cache."""
    response = HttpResponse(json.dumps(body, separators=(",", ":"), ensure_ascii=False), status=status,
                            content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def json_response(request: HttpRequest, body: dict[str, Any] | Encoded, *, max_age: int) -> HttpResponse:
    payload, etag = body if isinstance(body, tuple) else body_encode(body)
    if etag in _if_none_match(request):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(payload, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = f"private, max-age={max_age}"
    return response


def _if_none_match(request: HttpRequest) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {part.strip() for part in header.split(",") if part.strip()}


def fresh_for(lookup: Lookup[Any]) -> int:
    """Seconds a client may keep this answer: what is left of the copy's freshness, none for a stale copy."""
    if lookup.stale:
        return 0
    return max(0, settings.ORDERS_CACHE_SECONDS - lookup.age_seconds)
