"""Where a webhook may go: `https` to public addresses only, checked when the endpoint is registered and again before
every delivery, and the delivery connects to the very address that was checked (webhooks.transport), so a DNS answer
that changes between the check and the connection (DNS rebinding) cannot send it elsewhere.

Refused: loopback, private (RFC 1918, IPv6 ULA), link-local, so the cloud metadata services too (169.254.169.254 is
link-local, AWS's fd00:ec2::254 a ULA), CGNAT 100.64/10, multicast, reserved, unspecified, documentation ranges, and
IPv6 addresses that embed one of those (IPv4-mapped, 6to4, NAT64). A host name is refused when any of its addresses
is. WEBHOOKS_ALLOW_PRIVATE=true lifts the scheme and address rules for development and tests; credentials in a URL
are refused always.

The system resolver has no timeout of our choosing (getaddrinfo waits as long as resolv.conf says), so each lookup
runs in a thread of its own and is given up after WEBHOOKS_DNS_TIMEOUT_SECONDS: ResolutionTimedOut, which is no
verdict on the URL.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.utils.translation import gettext_lazy as _

Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH = 2000
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UrlRefused(ValueError):
    """The URL may not receive webhooks; str(exc) says why, in words for the customer."""


class ResolutionTimedOut(Exception):
    """DNS did not answer within WEBHOOKS_DNS_TIMEOUT_SECONDS: try again later. str(exc) says so to the customer."""


@dataclass(frozen=True)
class Target:
    """A checked URL and the address the delivery must connect to."""

    url: str
    host: str
    port: int
    address: str


def system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_resolver: Resolver = system_resolve
# A lookup that hangs holds its thread until the system resolver gives up. Daemon threads, at most this many at once:
# a DNS outage holds a few threads and never keeps a process (the watcher's `--once`) from exiting.
_LOOKUPS_AT_ONCE = 4
_lookup_slots = threading.BoundedSemaphore(_LOOKUPS_AT_ONCE)


def set_resolver(resolver: Resolver | None) -> None:
    """The seam for tests: answer DNS questions with `resolver` (None: the system's resolver again)."""
    global _resolver
    _resolver = resolver or system_resolve


def resolve(host: str, port: int) -> list[str]:
    """`host`'s addresses, within WEBHOOKS_DNS_TIMEOUT_SECONDS. Raises OSError, UnicodeError or ResolutionTimedOut."""
    timeout = float(settings.WEBHOOKS_DNS_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    if not _lookup_slots.acquire(timeout=timeout):
        raise ResolutionTimedOut(f"{_LOOKUPS_AT_ONCE} DNS lookups are still waiting for an answer")
    answer: Future[list[str]] = Future()
    resolver = _resolver

    def lookup() -> None:
        try:
            answer.set_result(resolver(host, port))
        except Exception as exc:  # handed to the caller, who raises it
            answer.set_exception(exc)
        finally:
            _lookup_slots.release()

    threading.Thread(target=lookup, name="webhooks-dns", daemon=True).start()
    try:
        return answer.result(timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError as exc:
        raise ResolutionTimedOut(f"no DNS answer for {host} within {timeout:g} s") from exc


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index says nothing about the address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_is_public(str(embedded))
        if ip.is_site_local:
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_unspecified or ip.is_private)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def url_parse(raw: str, *, allow_private: bool) -> httpx.URL:
    """The syntactic rules: length, scheme, a host, no credentials."""
    if not raw or len(raw) > MAX_URL_LENGTH or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise UrlRefused(_("Enter a URL of up to %(max)d characters, without spaces.") % {"max": MAX_URL_LENGTH})
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, ValueError) as exc:
        raise UrlRefused(_("This is not a valid URL.")) from exc
    schemes = ("https", "http") if allow_private else ("https",)
    if url.scheme not in schemes:
        raise UrlRefused(_("Only https URLs can receive webhooks."))
    if not url.host:
        raise UrlRefused(_("The URL has no host name."))
    if url.userinfo:
        raise UrlRefused(_("Do not put a user name or password in the URL: verify the signature instead."))
    return url


def url_check(raw: str, *, allow_private: bool | None = None) -> Target:
    """Every rule, DNS included: the URL and the one address a delivery may connect to now. Raises UrlRefused, or
    ResolutionTimedOut when DNS does not answer in time."""
    if allow_private is None:
        allow_private = bool(settings.WEBHOOKS_ALLOW_PRIVATE)
    url = url_parse(raw, allow_private=allow_private)
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))] if _is_address(host) else resolve(host, port)
    except ResolutionTimedOut as exc:
        raise ResolutionTimedOut(_("Looking up the host name %(host)s took too long. Please try again in a moment.")
                                 % {"host": url.host}) from exc
    except (OSError, UnicodeError) as exc:
        raise UrlRefused(_("The host name %(host)s cannot be resolved.") % {"host": url.host}) from exc
    if not addresses:
        raise UrlRefused(_("The host name %(host)s cannot be resolved.") % {"host": url.host})
    if not allow_private and not all(address_is_public(address) for address in addresses):
        raise UrlRefused(_("The URL leads to a private, local or reserved address; webhooks go to public addresses "
                           "only."))
    return Target(url=str(url), host=host, port=port, address=addresses[0])
