"""What newsletter emails contain, checked at a real SMTP server."""

from __future__ import annotations

import re

import pytest

from newsletter.emails import CampaignContent, campaign_email
from newsletter.services import subscriber_send_confirmation
from tests.newsletter.factories import ArticleFactory, CampaignFactory, SubscriberFactory
from tests.support.smtp import html_part, text_part

pytestmark = pytest.mark.django_db


def test_confirmation_email_has_the_link_the_footer_and_list_headers(smtp_sink, practice_profile):
    ada = SubscriberFactory(email="ada@example.com", first_name="Ada")

    assert subscriber_send_confirmation(subscriber_id=ada.pk, reminder=False) is True

    (message,) = smtp_sink.wait_for(1)
    text, html = text_part(message), html_part(message)
    assert message["Subject"] == "Please confirm your subscription to Harbor Light Therapy"
    assert "Hello Ada," in text
    assert re.search(r"http://localhost:8000/newsletter/confirm/[^/\s]+/", text)
    assert "Confirm my subscription</a>" in html
    assert "2150 Shattuck Avenue, Suite 310, Berkeley, CA 94704" in text
    assert "2150 Shattuck Avenue, Suite 310<br>Berkeley, CA 94704" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_confirmation_is_sent_once_even_if_the_task_runs_twice(smtp_sink, practice_profile):
    ada = SubscriberFactory(email="ada@example.com")

    subscriber_send_confirmation(subscriber_id=ada.pk, reminder=False)
    again = subscriber_send_confirmation(subscriber_id=ada.pk, reminder=False)

    assert (again, len(smtp_sink.wait_for(1))) == (False, 1)


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
