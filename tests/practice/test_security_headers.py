from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy(client, practice_profile):
    response = client.get("/")

    assert response.status_code == 200
    directives = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_pages_carry_framing_sniffing_and_referrer_headers(client, practice_profile):
    response = client.get("/how-it-works/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_templates_contain_no_inline_script(client, practice_profile):
    for path in ["/", "/about/", "/how-it-works/", "/terms/", "/privacy/", "/accounts/login/"]:
        html = client.get(path).content.decode()
        assert "<script>" not in html, path
        assert " onclick=" not in html, path
        assert " style=" not in html, path


def test_https_production_sends_hsts_and_redirects_plain_http(client, settings, practice_profile):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True

    plain = client.get("/terms/")
    secure = client.get("/terms/", secure=True)

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/terms/"
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
