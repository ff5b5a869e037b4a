from __future__ import annotations

from django import template

from newsletter import consent
from newsletter.forms import SignupForm
from newsletter.models import Article

register = template.Library()

HOME_ARTICLES = 3


@register.inclusion_tag("newsletter/_signup_form.html", takes_context=True)
def newsletter_signup(
    context: template.Context,
    heading_id: str = "signup-heading",
    form: SignupForm | None = None,
    failed: bool = False,
    heading_level: int = 2,
) -> dict[str, object]:
    """The sign-up block: the exact consent words, the form, the message slots.

    ``heading_level`` 1 where the block is the page (``/newsletter/``).
    """
    request = context.get("request")
    page = request.path if request is not None else ""
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "form": form or SignupForm(initial={"page": page}),
        "failed": failed,
        "heading_id": heading_id,
        "heading_level": heading_level,
        "prefix": heading_id.removesuffix("-heading") or "signup",
        "consent": consent,
    }


@register.inclusion_tag("newsletter/_article_cards.html")
def recent_articles(count: int = HOME_ARTICLES) -> dict[str, object]:
    """The newest live articles, in one query whatever their number."""
    return {"articles": list(Article.objects.live().newest_first()[:count])}
