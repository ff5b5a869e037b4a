"""The visitor's address behind the practice's own proxies, and not a spoofed one."""

from __future__ import annotations

from django.test import RequestFactory

from practice.client_address import client_ip

PROXY = "10.0.0.2"


def _request(**meta: str):  # type: ignore[no-untyped-def]
    return RequestFactory().get("/", REMOTE_ADDR=PROXY, **meta)


def test_without_trusted_proxies_a_forwarded_header_is_ignored(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0

    assert client_ip(_request(HTTP_X_FORWARDED_FOR="203.0.113.9")) == PROXY


def test_behind_one_proxy_the_address_it_saw_is_used(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    # What she wrote herself comes first; the proxy appends what it saw.
    request = _request(HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.7")

    assert client_ip(request) == "198.51.100.7"
    assert client_ip(_request()) == PROXY
    # A header that is not an address falls back to the peer, never a 500.
    assert client_ip(_request(HTTP_X_FORWARDED_FOR="not-an-ip")) == PROXY


def test_a_header_the_proxy_sets_can_name_the_address(settings):
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"

    assert client_ip(_request(HTTP_X_REAL_IP="198.51.100.8")) == "198.51.100.8"
