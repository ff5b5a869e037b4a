"""The PDF renderer: a Django template through WeasyPrint.

Only the app's own static files may be loaded while rendering. Templates use
``{% static %}`` as usual; those URLs are read from disk through the static
finders, and any other URL (another host, a ``file:`` path) is refused, so a
document never makes a network request or reads an arbitrary file.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string

from .identity import practice_profile

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcherResponse

logger = logging.getLogger(__name__)


class BlockedFetch(Exception):
    """A document tried to load something that is not a bundled static file."""


def _static_base() -> str:
    return f"{settings.SITE_URL}{settings.STATIC_URL}"


def _static_file(name: str) -> str | None:
    """The file on disk behind a static URL's name, or ``None``.

    In development ``{% static %}`` gives the source name, which the finders
    know. In production the manifest storage gives the hashed name
    (``css/pdf.9e2f7a701659.css``), which only exists where collectstatic
    wrote it: the storage's own folder.
    """
    try:
        path = finders.find(name)
    except SuspiciousFileOperation:
        return None
    if path:
        return str(path)
    try:
        stored = staticfiles_storage.path(name)
    except (NotImplementedError, SuspiciousFileOperation):
        return None
    return stored if Path(stored).is_file() else None


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            base = _static_base()
            if url.startswith(base):
                path = _static_file(url[len(base) :].split("?")[0])
                if path:
                    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
                    return URLFetcherResponse(
                        url,
                        body=Path(path).read_bytes(),
                        headers={"Content-Type": mimetype},
                    )
            logger.warning("pdf: refused to fetch a resource that is not bundled")
            raise BlockedFetch(url)

    return StaticOnlyFetcher()


def render_pdf(template_name: str, context: Mapping[str, object] | None = None) -> bytes:
    """Render ``template_name`` (a Django template of HTML) to PDF bytes."""
    # WeasyPrint pulls in Pango and friends; only pay for that when rendering.
    from weasyprint import HTML

    html = render_to_string(template_name, {"practice": practice_profile(), **(context or {})})
    document = HTML(string=html, base_url=settings.SITE_URL + "/", url_fetcher=_fetcher())
    return bytes(document.write_pdf())
