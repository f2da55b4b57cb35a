from datetime import UTC, datetime

import httpx
import pytest

from orders.odata.errors import (
    AuthenticationFailed,
    EntityNotFound,
    RequestRejected,
    ServerError,
    Throttled,
    UpstreamUnavailable,
    error_from_response,
    parse_retry_after,
)

FNO_ERROR = (
    b'{"error": {"code": "", "message": "An error has occurred.", '
    b'"innererror": {"message": "Unknown function \'startswith\'.", "type": "X", "stacktrace": ""}}}'
)


def test_retry_after_in_seconds_and_as_http_date() -> None:
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("37") == 37
    assert parse_retry_after("Sat, 28 Nov 2026 12:01:30 GMT", now=now) == 90
    assert parse_retry_after("Sat, 28 Nov 2026 11:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "key_read", "expected"),
    [
        (429, False, Throttled),
        (500, False, ServerError),
        (503, False, ServerError),
        (401, False, AuthenticationFailed),
        (403, False, AuthenticationFailed),
        (404, True, EntityNotFound),
        (404, False, RequestRejected),
        (400, False, RequestRejected),
    ],
)
def test_status_codes_map_to_the_error_tree(status: int, key_read: bool, expected: type) -> None:
    error = error_from_response(httpx.Response(status), body=FNO_ERROR, key_read=key_read)
    assert type(error) is expected
    assert error.status_code == status


def test_throttled_carries_retry_after_and_is_an_outage() -> None:
    error = error_from_response(httpx.Response(429, headers={"Retry-After": "12"}), body=b"", key_read=False)
    assert isinstance(error, UpstreamUnavailable)
    assert error.retry_after == 12


def test_bad_request_message_comes_from_innererror() -> None:
    error = error_from_response(httpx.Response(400), body=FNO_ERROR, key_read=False)
    assert isinstance(error, RequestRejected)
    assert error.message == "Unknown function 'startswith'."
