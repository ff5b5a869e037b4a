"""One function per newsletter email, each built by ``practice.mail.build_email``.

Every message to a reader carries ``List-Unsubscribe`` (a mailto and a
one-click https link, RFC 8058) and a footer with the practice's postal
address and the same unsubscribe link.

A campaign's subject and its preview text (the line mail clients show after
the subject) are read by anyone who glances at a shared inbox or a lock
screen. The preview text is defined once here (:func:`campaign_preview_text`)
and put at the top of the HTML as a hidden preheader, so what the admin
checks for treatment words (:func:`campaign_glance_words`) is what inboxes
show.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from practice.discretion import TREATMENT_WORDS, discretion_words_in
from practice.identity import practice_profile
from practice.mail import absolute_url, build_email
from practice.models import OutboxMessage
from practice.outbox.kinds import email_kind, object_of

from .models import Article, Campaign, Subscriber
from .rendering import markdown_to_html, markdown_to_text
from .tokens import confirm_token, reader_token

PREVIEW_TEXT_LENGTH = 100

# Filler after the preheader: without it a mail client tops the preview line
# up with the first visible words ("Hello Nora, ..."), and the line would no
# longer be the text the admin checked.
PREHEADER_PADDING = mark_safe("&zwnj;&nbsp;" * 60)  # noqa: S308  (a constant, no input)


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


def campaign_preview_text(campaign: Campaign) -> str:
    """The text mail clients show after the subject (the email's preheader).

    The first ``PREVIEW_TEXT_LENGTH`` characters or so of the campaign's own
    intro, or of the article's summary when there is no intro; cut at a word.
    """
    if campaign.body:
        source = markdown_to_text(campaign.body)
    elif campaign.article is not None:
        source = campaign.article.summary
    else:
        source = ""
    text = " ".join(source.split())
    if len(text) <= PREVIEW_TEXT_LENGTH:
        return text
    cut = text[: PREVIEW_TEXT_LENGTH + 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut[:PREVIEW_TEXT_LENGTH]
    return cut.rstrip(" ,.;:-–—") + "…"


def campaign_glance_words(campaign: Campaign) -> list[tuple[str, list[str]]]:
    """Treatment words a glance at an inbox would catch, by where they are.

    ``[("subject", [...]), ("preview text", [...])]``, naming only the places
    that hold one. The body may discuss the practice's work (readers asked
    for the articles); what shows in an inbox list or on a lock screen may not.
    """
    places = [
        ("subject", campaign.subject),
        ("preview text", campaign_preview_text(campaign)),
    ]
    found = [(place, discretion_words_in(text, words=TREATMENT_WORDS)) for place, text in places]
    return [(place, words) for place, words in found if words]


def campaign_inbox_line(campaign: Campaign) -> str:
    """How the campaign reads in an inbox list: sender, subject, preview text."""
    parts = [practice_profile().practice_name, campaign.subject, campaign_preview_text(campaign)]
    return " — ".join(part for part in parts if part)


class CampaignContent:
    """What every reader of one campaign gets, rendered once per sender."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.preview_text = campaign_preview_text(campaign)
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
    """The campaign to one reader; ``is_test`` marks the therapist's test copy.

    The test copy's subject starts with "[Test]" and its body opens with how
    the campaign will read in an inbox, so she sees what a glance would see.
    """
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
            "inbox_line": campaign_inbox_line(campaign) if is_test else "",
            "preheader_padding": PREHEADER_PADDING,
            **links,
        },
        headers={
            **list_headers(links["unsubscribe_url"]),
            # Lets a mail provider group the newsletter; ids only, no names.
            "X-Campaign": f"newsletter-{campaign.pk}",
        },
    )


# --- Outbox kinds: build from ids at send time, or void --------------------------


def _stamp_confirmation_sent(message: OutboxMessage) -> None:
    if not message.params["reminder"] and message.object_id is not None:
        Subscriber.objects.filter(pk=message.object_id).update(confirmation_sent_at=timezone.now())


@email_kind("newsletter.confirm", after_send=_stamp_confirmation_sent)
def _confirm(message: OutboxMessage) -> EmailMultiAlternatives | None:
    """Her confirmation (or its reminder) while she is pending under the same opt-in."""
    subscriber = object_of(Subscriber.objects.pending(), message)
    if (
        subscriber is None
        or int(subscriber.consent_at.timestamp()) != message.params["opted_in_at"]
    ):
        return None
    return confirmation_email(subscriber=subscriber, reminder=message.params["reminder"])


@email_kind("newsletter.campaign_test")
def _campaign_test(message: OutboxMessage) -> EmailMultiAlternatives | None:
    """The test copy, marked as a test, opening with how the inbox line will read."""
    campaign = object_of(Campaign.objects.select_related("article"), message)
    if campaign is None:
        return None
    to = message.params["to"]
    # Her own reader record when she is on the list, so the links in the test
    # work; otherwise a stand-in whose links lead to the friendly "not valid"
    # page.
    sample = Subscriber.objects.by_email(to).first() or Subscriber(pk=0, email=to)
    return campaign_email(content=CampaignContent(campaign), subscriber=sample, to=to, is_test=True)
