"""The HTTP leg of a delivery: httpx with its own transport whose one connection goes to the address the guard
checked, whatever the host name resolves to by then, and with a deadline over the whole exchange.

Only the socket is pinned: the URL keeps its host name, so the Host header, TLS's SNI and the certificate check name
the real host. httpx's per-read timeouts alone would let a receiver that drips one byte at a time hold a watcher for
hours; the deadline bounds connect, TLS, writes and reads together.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

CONNECT_SECONDS = 3.0
TOTAL_SECONDS = 10.0


def _left(deadline: float, timeout: float | None, error: type[Exception]) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the delivery's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _left(self._deadline, timeout,
                                                                          httpcore.ConnectTimeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    def __init__(self, address: str, deadline: float) -> None:
        self._address = address
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(self._address, port, _left(self._deadline, timeout, httpcore.ConnectTimeout),
                                         local_address=local_address, socket_options=socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks connect over TCP only")


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport, over a connection pool whose sockets all go to `address` and end at `deadline`."""

    def __init__(self, *, address: str, deadline: float) -> None:
        super().__init__(retries=0)
        # httpx.HTTPTransport takes no network backend; its pool is replaced by the same pool built with ours
        # (tests/webhooks prove the pinning: their receiver's host name resolves only through the guard's resolver).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=1, retries=0,
            network_backend=_PinnedBackend(address, deadline),
        )


def webhook_post(*, url: str, address: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url`, connected to `address`; the receiver's status code. Raises httpx.HTTPError.

    Redirects are not followed (a 3xx counts as a failure) and the answer's body is never read.
    """
    deadline = time.monotonic() + TOTAL_SECONDS
    timeout = httpx.Timeout(TOTAL_SECONDS, connect=CONNECT_SECONDS)
    with (
        httpx.Client(transport=PinnedTransport(address=address, deadline=deadline), timeout=timeout,
                     follow_redirects=False, trust_env=False) as client,
        client.stream("POST", url, content=body, headers=headers) as response,
    ):
        return response.status_code
