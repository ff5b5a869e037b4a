"""Pages rendered once and shared, with the per-visitor values filled per request.

Every public page is the same for every visitor but for a few values: always
the CSRF token of the newsletter form in the footer, and on a form page
anything else that must be hers alone (the booking form's idempotency key).
Rendering Django templates is most of a page's cost, so a page is rendered
with placeholders ("holes"), kept in this process, and each hole is filled
with a fresh value on each request: :func:`render_with_holes` does that for
any page under a key its caller chooses, :func:`shared_page` for a page that
depends only on its address.

What is shown can be ``max_age`` seconds old (a newly published article
reaches the home page that much later); an edit of the practice profile shows
at once, because the profile's ``updated_at`` is part of every key. A visitor
with a flash message waiting gets a page of her own, with the holes filled
the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

from .identity import practice_profile
from .memo import Memo

CSRF_HOLE = "__csrf_token_hole__"
_pages: Memo[object] = Memo(max_size=256, ttl=30.0)

Context = Mapping[str, object] | Callable[[], Mapping[str, object]] | None


def has_pending_messages(request: HttpRequest) -> bool:
    """Whether a flash message waits for this visitor (without loading a session needlessly)."""
    if request.COOKIES.get("messages"):
        return True
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return bool(request.session.get("_messages"))
    return False


def render_with_holes(
    request: HttpRequest,
    template_name: str,
    context: Context = None,
    *,
    key: str,
    holes: Mapping[str, Callable[[], str]] | None = None,
    max_age: float = 30.0,
) -> HttpResponse:
    """Render ``template_name`` once per ``key`` and fill its holes for this request.

    ``key`` must name everything the page depends on but the practice
    profile (added here). ``holes`` maps each placeholder the context puts in
    the page to a function giving this request's value; the CSRF token is one
    always (``CSRF_HOLE``, passed to the template as ``csrf_token``).
    ``context`` may be a function, called only when the page is rendered, so
    a shared page skips its queries too.
    """

    def render() -> str:
        return render_to_string(
            template_name, {**_context(context), "csrf_token": CSRF_HOLE}, request=request
        )

    if has_pending_messages(request):
        html = render()
    else:
        profile = practice_profile()
        version = profile.updated_at.timestamp() if profile.updated_at else 0
        html = str(remember(f"{template_name}|{key}|{version}", render, max_age=max_age))
    if CSRF_HOLE in html:
        html = html.replace(CSRF_HOLE, get_token(request))
    for hole, fill in (holes or {}).items():
        html = html.replace(hole, fill())
    return HttpResponse(html)


def shared_page(
    request: HttpRequest,
    template_name: str,
    context: Context = None,
    *,
    key: str = "",
    max_age: float = 30.0,
) -> HttpResponse:
    """Render ``template_name`` like ``render()``, sharing the result for ``max_age`` s.

    ``key`` must name anything else the page depends on; the path and query
    string are always part of it.
    """
    return render_with_holes(
        request,
        template_name,
        context,
        key=f"{request.get_full_path()}|{key}",
        max_age=max_age,
    )


def remember(key: str, compute: Callable[[], object], *, max_age: float = 30.0) -> object:
    """``compute()``, kept in this process for ``max_age`` seconds under ``key``.

    ``None`` is not kept: "nothing there yet" (a scheduled article) is asked
    again on the next request.
    """
    return _pages.remember(key, compute, ttl=max_age)


def _context(context: Context) -> dict[str, object]:
    if callable(context):
        return dict(context())
    return dict(context or {})


def shared_pages_forget() -> None:
    _pages.clear()
