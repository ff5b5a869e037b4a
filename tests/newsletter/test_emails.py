"""What newsletter emails contain, checked at a real SMTP server."""

from __future__ import annotations

import re
from html import escape as html_escape

import pytest

from newsletter import services
from newsletter.emails import CampaignContent, campaign_email, campaign_preview_text
from newsletter.services.readers import _queue_confirmation
from practice.outbox.services import outbox_send_due
from tests.newsletter.factories import ArticleFactory, CampaignFactory, SubscriberFactory
from tests.support.smtp import html_part, text_part

pytestmark = pytest.mark.django_db


def test_confirmation_email_has_the_link_the_footer_and_list_headers(smtp_sink, practice_profile):
    ada = SubscriberFactory(email="ada@example.com", first_name="Ada")
    _queue_confirmation(ada, reminder=False)

    assert outbox_send_due().sent == 1

    (message,) = smtp_sink.wait_for(1)
    text, html = text_part(message), html_part(message)
    assert message["Subject"] == "Confirm your subscription"
    assert "Hello Ada," in text
    assert re.search(r"http://localhost:8000/newsletter/confirm/[^/\s]+/", text)
    assert "Confirm my subscription</a>" in html
    assert "2150 Shattuck Avenue, Suite 310, Berkeley, CA 94704" in text
    assert "2150 Shattuck Avenue, Suite 310<br>Berkeley, CA 94704" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_confirmation_is_sent_once_even_if_asked_for_twice(smtp_sink, practice_profile):
    ada = SubscriberFactory(email="ada@example.com")

    _queue_confirmation(ada, reminder=False)
    _queue_confirmation(ada, reminder=False)
    first, again = outbox_send_due(), outbox_send_due()

    assert (first.sent, again.sent, len(smtp_sink.wait_for(1))) == (1, 0, 1)
    ada.refresh_from_db()
    assert ada.confirmation_sent_at is not None


def test_a_confirmation_for_an_earlier_opt_in_is_voided(smtp_sink, practice_profile):
    from datetime import timedelta

    ada = SubscriberFactory(email="ada@example.com")
    _queue_confirmation(ada, reminder=False)
    type(ada).objects.filter(pk=ada.pk).update(consent_at=ada.consent_at + timedelta(days=1))

    report = outbox_send_due()

    assert (report.sent, report.voided) == (0, 1)


def test_campaign_email_has_one_click_unsubscribe_and_the_postal_address(
    smtp_sink, practice_profile, reader
):
    article = ArticleFactory(title="Rest & repair", body="Sleep *matters*.<script>x()</script>")
    campaign = CampaignFactory(subject="Rest & repair", body="A note first.", article=article)

    campaign_email(content=CampaignContent(campaign), subscriber=reader).send()

    (message,) = smtp_sink.wait_for(1)
    text, html = text_part(message), html_part(message)
    unsubscribe = re.search(r"http://localhost:8000/newsletter/unsubscribe/[^/\s]+/", text)
    assert unsubscribe is not None
    assert message["Subject"] == "Rest & repair"
    assert message["List-Unsubscribe"] == (
        f"<mailto:hello@harborlight.example?subject=unsubscribe>, <{unsubscribe.group(0)}>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Sleep <em>matters</em>." in html
    assert "<script>" not in html
    assert "A note first." in text
    assert f'href="{unsubscribe.group(0)}"' in html
    assert "2150 Shattuck Avenue, Suite 310, Berkeley, CA 94704" in text
    assert "/newsletter/preferences/" in text


INBOX_LINE = (
    "In an inbox this will read: Harbor Light Therapy — Spring letter — "
    "Hello from the practice & its readers. A new article is up."
)


def test_the_test_copy_opens_with_how_the_inbox_line_will_read(smtp_sink, practice_profile):
    campaign = CampaignFactory(
        subject="Spring letter",
        body="Hello from the practice & its readers.\n\nA new article is up.",
    )

    services.campaign_send_test(campaign=campaign, to="lena@harborlight.example")
    assert outbox_send_due().sent == 1

    (message,) = smtp_sink.wait_for(1)
    text, html = text_part(message), html_part(message)
    assert message["Subject"] == "[Test] Spring letter"
    assert text.splitlines()[:2] == [INBOX_LINE, ""]
    assert html_escape(INBOX_LINE) in html


def test_a_readers_copy_has_the_hidden_preheader_and_no_inbox_line(
    smtp_sink, practice_profile, reader
):
    campaign = CampaignFactory(
        subject="Spring letter",
        body="Hello from the practice & its readers.\n\nA new article is up.",
    )

    campaign_email(content=CampaignContent(campaign), subscriber=reader).send()

    (message,) = smtp_sink.wait_for(1)
    text, html = text_part(message), html_part(message)
    preheader = re.search(
        r'<span class="preheader" style="display: none[^"]*">([^<]*)</span>', html
    )
    assert preheader is not None
    assert preheader.group(1).startswith(
        "Hello from the practice &amp; its readers. A new article is up.&zwnj;&nbsp;"
    )
    assert "In an inbox this will read" not in text + html


def test_the_preview_text_is_the_intro_or_else_the_article_summary(practice_profile):
    article = ArticleFactory(summary="Why rest  is\nwork.")

    with_intro = CampaignFactory(body="*First* words & more.", article=article)
    without_intro = CampaignFactory(body="", article=article)

    assert campaign_preview_text(with_intro) == "First words & more."
    assert campaign_preview_text(without_intro) == "Why rest is work."


def test_a_long_preview_text_is_cut_at_a_word_near_a_hundred_characters(practice_profile):
    words = "Sleep comes back slowly, one night at a time, and that is alright for now. " * 3
    campaign = CampaignFactory(body=words)

    preview = campaign_preview_text(campaign)

    assert preview == (
        "Sleep comes back slowly, one night at a time, and that is alright for now. "
        "Sleep comes back slowly…"
    )
    assert len(preview) <= 101
