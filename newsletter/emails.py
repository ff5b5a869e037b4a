"""One function per newsletter email, each built by ``practice.mail.build_email``.

Every message to a reader carries ``List-Unsubscribe`` (a mailto and a
one-click https link, RFC 8058) and a footer with the practice's postal
address and the same unsubscribe link.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils.safestring import SafeString

from practice.identity import practice_profile
from practice.mail import absolute_url, build_email

from .models import Article, Campaign, Subscriber
from .tokens import confirm_token, reader_token


def reader_links(subscriber: Subscriber) -> dict[str, str]:
    token = reader_token(subscriber)
    return {
        "unsubscribe_url": absolute_url(reverse("newsletter:unsubscribe", args=[token])),
        "preferences_url": absolute_url(reverse("newsletter:preferences", args=[token])),
    }


def list_headers(unsubscribe_url: str) -> dict[str, str]:
    mailto = settings.NEWSLETTER_UNSUBSCRIBE_MAILTO or practice_profile().email
    return {
        "List-Unsubscribe": f"<mailto:{mailto}?subject=unsubscribe>, <{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def confirmation_email(*, subscriber: Subscriber, reminder: bool = False) -> EmailMultiAlternatives:
    links = reader_links(subscriber)
    confirm_url = absolute_url(reverse("newsletter:confirm", args=[confirm_token(subscriber)]))
    return build_email(
        "newsletter-confirm",
        to=[subscriber.email],
        context={
            "subscriber": subscriber,
            "confirm_url": confirm_url,
            "reminder": reminder,
            **links,
        },
        headers=list_headers(links["unsubscribe_url"]),
    )


class CampaignContent:
    """What every reader of one campaign gets, rendered once per sender."""

    def __init__(self, campaign: Campaign) -> None:
        from .rendering import markdown_to_html, markdown_to_text

        self.campaign = campaign
        self.article: Article | None = campaign.article
        self.intro_html: SafeString | str = markdown_to_html(campaign.body) if campaign.body else ""
        self.intro_text = markdown_to_text(campaign.body) if campaign.body else ""
        if self.article is not None:
            self.article_html: SafeString | str = markdown_to_html(self.article.body)
            self.article_text = markdown_to_text(self.article.body)
            self.article_url = absolute_url(self.article.get_absolute_url())
        else:
            self.article_html, self.article_text, self.article_url = "", "", ""


def campaign_email(
    *,
    content: CampaignContent,
    subscriber: Subscriber,
    to: str | None = None,
    is_test: bool = False,
) -> EmailMultiAlternatives:
    links = reader_links(subscriber)
    campaign = content.campaign
    return build_email(
        "newsletter-campaign",
        to=[to or subscriber.email],
        context={
            "subscriber": subscriber,
            "content": content,
            "campaign": campaign,
            "is_test": is_test,
            **links,
        },
        headers={
            **list_headers(links["unsubscribe_url"]),
            # Lets a mail provider group the newsletter; ids only, no names.
            "X-Campaign": f"newsletter-{campaign.pk}",
        },
    )
