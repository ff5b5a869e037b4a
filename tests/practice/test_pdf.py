"""The PDF renderer: bundled fonts, and no fetch of anything outside the app."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess

import pytest
from django.utils import timezone

from practice.pdf import BlockedFetch, _fetcher, render_pdf

pytestmark = pytest.mark.django_db


LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture
def no_network(monkeypatch):
    """Record (and refuse) any look-up or connection beyond this machine.

    The test's own database and cache are on loopback and stay reachable.
    """
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):  # type: ignore[no-untyped-def]
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            attempts.append(address)
            raise OSError("network access is not allowed while rendering")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host not in LOOPBACK:
            attempts.append(host)
            raise OSError("name look-ups are not allowed while rendering")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def pdf_fonts(pdf: bytes, tmp_path) -> str:
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout


def test_a_practice_letter_renders_with_the_bundled_font(practice_profile, tmp_path, no_network):
    pdf = render_pdf(
        "pdf/practice_letter.html",
        {"heading": "Letter", "date": timezone.localdate(), "paragraphs": ["Hello."]},
    )

    assert pdf.startswith(b"%PDF-")
    fonts = pdf_fonts(pdf, tmp_path)
    embedded = [line for line in fonts.splitlines() if "Inter" in line]
    assert embedded, fonts
    assert all(" yes " in line for line in embedded)
    assert "DejaVu" not in fonts
    assert no_network == []


def test_the_letterhead_comes_from_the_practice_profile(practice_profile, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = render_pdf(
        "pdf/practice_letter.html",
        {"heading": "Letter", "date": timezone.localdate(), "paragraphs": []},
    )
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout

    assert "Harbor Light Therapy" in text
    assert "Lena Marsh, LMFT" in text
    assert "2150 Shattuck Avenue, Suite 310, Berkeley, CA 94704" in text


def test_a_remote_url_in_a_document_is_refused_without_a_connection(no_network):
    from weasyprint import HTML

    html = '<p>Hi</p><img src="https://tracker.example.com/pixel.png">'
    pdf = HTML(string=html, base_url="http://localhost:8000/", url_fetcher=_fetcher()).write_pdf()

    assert pdf.startswith(b"%PDF-")
    assert no_network == []


def test_the_fetcher_refuses_files_outside_the_static_folders():
    fetcher = _fetcher()

    with pytest.raises(BlockedFetch):
        fetcher.fetch("file:///etc/passwd")
    with pytest.raises(BlockedFetch):
        fetcher.fetch("http://localhost:8000/static/../../etc/passwd")


def test_a_letter_keeps_its_stylesheet_and_font_under_the_production_static_storage(
    practice_profile, settings, tmp_path, no_network, caplog
):
    """With DEBUG off, ``{% static %}`` names the hashed copies collectstatic wrote."""
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    # (Changing STORAGES makes Django build staticfiles_storage afresh.)
    call_command("collectstatic", interactive=False, verbosity=0)
    assert re.search(r"/css/pdf\.[0-9a-f]{12}\.css$", staticfiles_storage.url("css/pdf.css"))
    pdf = render_pdf(
        "pdf/practice_letter.html",
        {"heading": "Letter", "date": timezone.localdate(), "paragraphs": ["Hello."]},
    )

    fonts = pdf_fonts(pdf, tmp_path)
    assert "Inter" in fonts
    assert "DejaVu" not in fonts
    assert "refused to fetch" not in caplog.text
    assert no_network == []
