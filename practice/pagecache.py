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
_pages: dict[str, tuple[float, object]] = {}


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
    html = remember(
        cache_key,
        lambda: render_to_string(
            template_name, {**_context(context), "csrf_token": CSRF_HOLE}, request=request
        ),
        max_age=max_age,
    )
    return HttpResponse(str(html).replace(CSRF_HOLE, get_token(request)))


def remember(key: str, compute: Callable[[], object], *, max_age: float = 30.0) -> object:
    """``compute()``, kept in this process for ``max_age`` seconds under ``key``.

    ``None`` is not kept: "nothing there yet" (a scheduled article) is asked
    again on the next request.
    """
    now = time.monotonic()
    hit = _pages.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = compute()
    if value is not None:
        if len(_pages) >= _MAX_PAGES:
            _pages.clear()
        _pages[key] = (now + max_age, value)
    return value


def _context(
    context: Mapping[str, object] | Callable[[], Mapping[str, object]] | None,
) -> dict[str, object]:
    if callable(context):
        return dict(context())
    return dict(context or {})


def shared_pages_forget() -> None:
    _pages.clear()
