"""Public pages of the newsletter and the articles. Thin: forms in, services called."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from urllib.parse import quote, urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from practice.client_address import client_ip
from practice.mail import absolute_url
from practice.pagecache import remember, shared_page
from practice.ratelimit import rate_limited

from . import consent, services
from .consent import FAILURE_MESSAGE, SUCCESS_MESSAGE
from .forms import SignupForm
from .models import Article, Subscriber
from .rendering import markdown_to_html
from .tokens import BadToken

ARTICLES_PER_PAGE = 10
RATE_LIMITED = "Too many sign-ups have come from your connection. Please try again in an hour."


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("accept", "")


@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_variables()
def signup(request: HttpRequest) -> HttpResponse:
    """The sign-up form: a page on GET; on POST the same answer for every address.

    Whether the address is new, waiting, confirmed or gone, and whether the
    hidden field was filled by a bot, a valid POST gets the same redirect (or
    the same JSON for the in-place form).
    """
    if request.method != "POST":
        # The page holds a CSRF token; answers to POSTs are never cached anyway.
        response = render(request, "newsletter/signup.html", {"form": SignupForm()})
        add_never_cache_headers(response)
        return response
    form = SignupForm(request.POST)
    if rate_limited(request, "newsletter_signup"):
        form.is_valid()
        form.add_error(None, RATE_LIMITED)
        return _signup_failed(request, form, status=429)
    if not form.is_valid():
        return _signup_failed(request, form, status=400)
    if not form.is_bot:
        services.subscriber_subscribe(
            email=form.cleaned_data["email"],
            first_name=form.cleaned_data["first_name"],
            page=form.cleaned_data["page"] or request.path,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": SUCCESS_MESSAGE})
    return HttpResponseRedirect(_thanks_url())


@functools.cache
def _thanks_url() -> str:
    return reverse("newsletter:thanks")


def _signup_failed(request: HttpRequest, form: SignupForm, *, status: int) -> HttpResponse:
    """Say what went wrong, once: beside the field she can fix, or "Oops" for the rest.

    A field's message (an empty or mistyped address) stands beside the field;
    the "Oops" line is for what she cannot fix in the form (here: too many
    sign-ups), and carries that reason under it.
    """
    failed = bool(form.non_field_errors())
    if _wants_json(request):
        errors = {
            name: [str(message) for message in messages] for name, messages in form.errors.items()
        }
        return JsonResponse(
            {"ok": False, "message": FAILURE_MESSAGE if failed else None, "errors": errors},
            status=status,
        )
    return render(
        request, "newsletter/signup.html", {"form": form, "failed": failed}, status=status
    )


@require_safe
def thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletter/thanks.html", {"consent": consent})


def _bad_link(request: HttpRequest, *, expired: bool = False) -> HttpResponse:
    return render(request, "newsletter/bad_link.html", {"expired": expired}, status=400)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks her to press a button; only the POST confirms.

    Mail scanners that open every link in a message must not be able to
    confirm an address someone else typed in. A link she has used already
    says so, on GET and on POST, rather than asking again.
    """
    try:
        if request.method != "POST":
            subscriber = services.subscriber_for_confirm_link(token=token)
            if subscriber.status != Subscriber.Status.CONFIRMED:
                return render(request, "newsletter/confirm.html", {"token": token})
            confirmed_now = False
        else:
            _subscriber, confirmed_now = services.subscriber_confirm(token=token)
    except BadToken as exc:
        return _bad_link(request, expired=exc.expired)
    return render(request, "newsletter/confirmed.html", {"already": not confirmed_now})


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058 one-click unsubscribe.

    A POST (from the reader's mail program, with no cookie and no CSRF token,
    or from the button on this page) unsubscribes at once; the signed token
    in the address is the authority. A GET only shows the button, so link
    scanners unsubscribe nobody. CSRF protection is off because a forged
    POST could only do what the token already allows: leave the list.
    """
    try:
        if request.method != "POST":
            # Her link, and she is still a reader: a link for someone whose
            # data was erased gets the bad-link page now, not a button that fails.
            services.subscriber_for_token(token=token)
            return render(request, "newsletter/unsubscribe.html", {"token": token})
        services.subscriber_unsubscribe(token=token)
    except BadToken:
        return _bad_link(request)
    return render(request, "newsletter/unsubscribed.html", {"token": token})


@never_cache
@require_safe
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = services.subscriber_for_token(token=token)
    except BadToken:
        return _bad_link(request)
    return render(
        request, "newsletter/preferences.html", {"subscriber": subscriber, "token": token}
    )


@never_cache
@require_safe
def preferences_data(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = services.subscriber_for_token(token=token)
    except BadToken:
        return _bad_link(request)
    response = HttpResponse(
        json.dumps(services.subscriber_data(subscriber), indent=2),
        content_type="application/json",
    )
    response["Content-Disposition"] = 'attachment; filename="newsletter-data.json"'
    return response


@never_cache
@require_POST
def preferences_delete(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.subscriber_erase(token=token)
    except BadToken:
        return _bad_link(request)
    return render(request, "newsletter/deleted.html")


# --- Articles ----------------------------------------------------------------


@require_safe
def article_list(request: HttpRequest) -> HttpResponse:
    def context() -> dict[str, object]:
        paginator = Paginator(Article.objects.live().newest_first(), ARTICLES_PER_PAGE)
        return {"page_obj": paginator.get_page(request.GET.get("page"))}

    return shared_page(request, "newsletter/article_list.html", context)


def share_links(article: Article) -> list[tuple[str, str]]:
    """Plain links to share an article: no script, no tracking pixel."""
    url = absolute_url(article.get_absolute_url())
    return [
        ("Email", f"mailto:?{urlencode({'subject': article.title, 'body': url}, quote_via=quote)}"),
        ("Facebook", f"https://www.facebook.com/sharer/sharer.php?{urlencode({'u': url})}"),
        ("LinkedIn", f"https://www.linkedin.com/sharing/share-offsite/?{urlencode({'url': url})}"),
        ("X", f"https://x.com/intent/post?{urlencode({'url': url, 'text': article.title})}"),
    ]


def _article_context(article: Article) -> dict[str, object]:
    return {
        "article": article,
        "body_html": markdown_to_html(article.body),
        "share_links": share_links(article),
        "canonical_url": absolute_url(article.get_absolute_url()),
    }


@require_safe
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # Which live article a slug names is remembered like the page itself, so a
    # shared page costs no query; the article and its Markdown are read only
    # when the page has to be rendered again.
    live: tuple[int, datetime] | None = remember(  # type: ignore[assignment]
        f"article-slug|{slug}",
        lambda: Article.objects.live().filter(slug=slug).values_list("pk", "updated_at").first(),
    )
    if live is None:
        # A staff preview of a draft or a scheduled article, never shared.
        article = get_object_or_404(Article.objects.select_related("author"), slug=slug)
        if not request.user.is_staff:
            raise Http404("No such article.")
        return render(request, "newsletter/article_detail.html", _article_context(article))
    pk, updated_at = live
    return shared_page(
        request,
        "newsletter/article_detail.html",
        lambda: _article_context(Article.objects.select_related("author").get(pk=pk)),
        key=f"{pk}:{updated_at.timestamp()}",
    )
