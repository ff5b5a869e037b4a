"""Public pages rendered once and shared, with the CSRF token filled per request.

Every public page is the same for every visitor but for one value: the CSRF
token of the newsletter form in the footer. Rendering Django templates is most
of a page's cost, so a page is rendered with a placeholder token, kept in this
process for ``max_age`` seconds, and the placeholder is swapped for the
visitor's own token on each request.

What is shown can be ``max_age`` seconds old (a newly published article
reaches the home page that much later); an edit of the practice profile shows
at once, because the profile's ``updated_at`` is part of the key. A visitor
with a flash message waiting gets a page of her own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

from .identity import practice_profile

CSRF_HOLE = "__csrf_token_hole__"
_MAX_PAGES = 256
_pages: dict[str, tuple[float, str]] = {}


def has_pending_messages(request: HttpRequest) -> bool:
    """Whether a flash message waits for this visitor (without loading a session needlessly)."""
    if request.COOKIES.get("messages"):
        return True
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return bool(request.session.get("_messages"))
    return False


def shared_page(
    request: HttpRequest,
    template_name: str,
    context: Mapping[str, object] | Callable[[], Mapping[str, object]] | None = None,
    *,
    key: str = "",
    max_age: float = 30.0,
) -> HttpResponse:
    """Render ``template_name`` like ``render()``, sharing the result for ``max_age`` s.

    ``key`` must name anything else the page depends on; the path and query
    string are always part of it. ``context`` may be a function, called only
    when the page is rendered, so a shared page skips its queries too.
    """
    if has_pending_messages(request):
        return HttpResponse(render_to_string(template_name, _context(context), request=request))
    profile = practice_profile()
    version = profile.updated_at.timestamp() if profile.updated_at else 0
    cache_key = f"{template_name}|{request.get_full_path()}|{key}|{version}"
    now = time.monotonic()
    hit = _pages.get(cache_key)
    if hit is None or hit[0] <= now:
        html = render_to_string(
            template_name, {**_context(context), "csrf_token": CSRF_HOLE}, request=request
        )
        if len(_pages) >= _MAX_PAGES:
            _pages.clear()
        hit = (now + max_age, html)
        _pages[cache_key] = hit
    return HttpResponse(hit[1].replace(CSRF_HOLE, get_token(request)))


def _context(
    context: Mapping[str, object] | Callable[[], Mapping[str, object]] | None,
) -> dict[str, object]:
    if callable(context):
        return dict(context())
    return dict(context or {})


def shared_pages_forget() -> None:
    _pages.clear()
