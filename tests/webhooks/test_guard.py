"""The SSRF guard: which URLs and addresses may receive webhooks."""

from __future__ import annotations

import pytest

from webhooks.guard import UrlRefused, address_is_public, url_check


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "169.254.1.1",
    "100.64.0.1", "100.127.255.254", "0.0.0.0",  # noqa: S104
    "224.0.0.1", "239.1.2.3", "240.0.0.1", "255.255.255.255",
    "192.0.2.1", "198.18.0.1",
    "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd00:ec2::254", "ff02::1", "fec0::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::", "2002:a9fe:a9fe::",
    "64:ff9b::7f00:1", "2001:db8::1",
])
def test_local_private_and_reserved_addresses_are_refused(address: str) -> None:
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8",
                                     "2002:0808:0808::"])
def test_public_addresses_are_accepted(address: str) -> None:
    assert address_is_public(address)


def test_a_url_to_127_0_0_1_is_refused_without_allow_private(dns) -> None:
    with pytest.raises(UrlRefused, match="private"):
        url_check("https://127.0.0.1/hook", allow_private=False)
    assert url_check("http://127.0.0.1:9/hook", allow_private=True).address == "127.0.0.1"


def test_a_host_name_is_refused_when_any_of_its_addresses_is_private(dns) -> None:
    dns.answers["mixed.example.com"] = ["93.184.215.14", "10.0.0.5"]
    dns.answers["public.example.com"] = ["93.184.215.14", "2606:4700::1111"]
    with pytest.raises(UrlRefused, match="private"):
        url_check("https://mixed.example.com/hook", allow_private=False)
    target = url_check("https://public.example.com:8443/hook?x=1", allow_private=False)
    assert (target.host, target.port, target.address) == ("public.example.com", 8443, "93.184.215.14")


def test_plain_http_is_refused_without_allow_private(dns) -> None:
    dns.answers["hooks.example.com"] = ["93.184.215.14"]
    with pytest.raises(UrlRefused, match="https"):
        url_check("http://hooks.example.com/hook", allow_private=False)
    assert url_check("http://hooks.example.com/hook", allow_private=True).port == 80


@pytest.mark.parametrize("allow_private", [False, True])
def test_credentials_in_the_url_are_refused_always(dns, allow_private: bool) -> None:
    dns.answers["hooks.example.com"] = ["93.184.215.14"]
    with pytest.raises(UrlRefused, match="user name or password"):
        url_check("https://user:secret@hooks.example.com/hook", allow_private=allow_private)


@pytest.mark.parametrize("url", ["", "hooks.example.com/x", "ftp://hooks.example.com/", "https:///path",
                                 "https://hooks.example.com/a b", "https://hooks.example.com/\n",
                                 "https://" + "a" * 2000 + ".com/", "file:///etc/passwd", "javascript:alert(1)"])
def test_what_is_not_an_https_url_is_refused(dns, url: str) -> None:
    dns.answers["hooks.example.com"] = ["93.184.215.14"]
    with pytest.raises(UrlRefused):
        url_check(url, allow_private=False)


def test_a_host_that_does_not_resolve_is_refused(dns) -> None:
    with pytest.raises(UrlRefused, match="cannot be resolved"):
        url_check("https://nowhere.example.com/hook", allow_private=False)


def test_the_deploy_check_warns_when_private_addresses_are_allowed(settings) -> None:
    from webhooks.checks import webhooks_private_check

    assert webhooks_private_check() == []
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    assert [m.id for m in webhooks_private_check()] == ["webhooks.W001"]
