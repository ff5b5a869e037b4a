from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health
from .pagecache import shared_page


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return shared_page(request, "practice/home.html")


@require_safe
def about(request: HttpRequest) -> HttpResponse:
    return shared_page(request, "practice/about.html")


@require_safe
def how_it_works(request: HttpRequest) -> HttpResponse:
    return shared_page(request, "practice/how_it_works.html")


@require_safe
def terms(request: HttpRequest) -> HttpResponse:
    return shared_page(request, "practice/terms.html")


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    return shared_page(request, "practice/privacy.html")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": health.check_database(),
        "broker": health.check_broker(),
        "worker": health.check_worker(),
    }
    healthy = all(ok for ok, _ in checks.values())
    body: dict[str, object] = {
        "status": "ok" if healthy else "down",
        **{name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()},
    }
    if not healthy:
        body["down"] = [name for name, (ok, _) in checks.items() if not ok]
    return JsonResponse(body, status=200 if healthy else 503)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Without the request's context processors: the error may be the database
    # itself, which they read (the practice's profile), and this page must not
    # fail in turn. 500.html needs no context.
    return HttpResponse(loader.render_to_string("500.html"), status=500)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "400.html", status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its security token: usually an old tab or blocked cookies."""
    return render(request, "403_csrf.html", status=403)
