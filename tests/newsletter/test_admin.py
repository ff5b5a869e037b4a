"""The therapist's newsletter workspace in the admin."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from newsletter.models import Campaign, Subscriber, SubscriberExport
from practice.models import AuditEvent
from tests.newsletter.factories import ArticleFactory, CampaignFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def test_subscriber_list_filters_by_status_and_source_and_searches(admin_client_mfa):
    SubscriberFactory(email="nora@example.com", confirmed=True)
    SubscriberFactory(email="waiting@example.com")
    SubscriberFactory(email="imported@example.com", source=Subscriber.Source.IMPORT)
    url = "/admin/newsletter/subscriber/"

    confirmed = admin_client_mfa.get(url, {"status__exact": "confirmed"}).content.decode()
    imported = admin_client_mfa.get(url, {"source__exact": "import"}).content.decode()
    searched = admin_client_mfa.get(url, {"q": "waiting"}).content.decode()

    assert ("nora@example.com" in confirmed, "waiting@example.com" in confirmed) == (True, False)
    assert ("imported@example.com" in imported, "nora@example.com" in imported) == (True, False)
    assert ("waiting@example.com" in searched, "nora@example.com" in searched) == (True, False)


def test_subscriber_list_query_count_is_flat(admin_client_mfa, django_assert_max_num_queries):
    SubscriberFactory.create_batch(3, confirmed=True)
    admin_client_mfa.get("/admin/newsletter/subscriber/")
    with django_assert_max_num_queries(12):
        admin_client_mfa.get("/admin/newsletter/subscriber/")
    SubscriberFactory.create_batch(30, confirmed=True)
    with django_assert_max_num_queries(12):
        admin_client_mfa.get("/admin/newsletter/subscriber/")


def test_export_lists_confirmed_readers_with_consent_dates_and_is_audited(
    admin_client_mfa, therapist
):
    nora = SubscriberFactory(email="nora@example.com", first_name="=cmd()", confirmed=True)
    SubscriberFactory(email="waiting@example.com")
    SubscriberFactory(email="gone@example.com", unsubscribed=True)

    response = admin_client_mfa.get("/admin/newsletter/subscriber/export.csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["email", "first_name", "source", "consent_at"]
    assert [row[0] for row in rows[1:]] == ["nora@example.com"]
    assert rows[1][1] == "'=cmd()"
    assert rows[1][3] == nora.consent_at.isoformat()
    assert rows[1][7] == nora.confirmed_at.isoformat()
    export = SubscriberExport.objects.get()
    event = AuditEvent.objects.get(action="export")
    assert (export.rows, event.actor_id, event.object_type, event.object_id) == (
        1,
        therapist.pk,
        "newsletter.subscriberexport",
        str(export.pk),
    )


def test_import_takes_only_rows_with_a_consent_note_and_still_asks_to_confirm(
    admin_client_mfa, eager_tasks, django_capture_on_commit_callbacks
):
    SubscriberFactory(email="gone@example.com", unsubscribed=True)
    upload = SimpleUploadedFile(
        "readers.csv",
        b"email,first_name,consent_note\n"
        b"ada@example.com,Ada,Signed the list at the March workshop\n"
        b"bea@example.com,Bea,\n"
        b"not-an-address,,Signed at the workshop\n"
        b"gone@example.com,,Signed at the workshop\n",
        content_type="text/csv",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_mfa.post(
            "/admin/newsletter/subscriber/import/", {"file": upload}, follow=True
        )

    page = response.content.decode()
    ada = Subscriber.objects.get(email="ada@example.com")
    assert (ada.status, ada.source, ada.consent_note) == (
        "pending",
        "import",
        "Signed the list at the March workshop",
    )
    assert Subscriber.objects.get(email="gone@example.com").status == "unsubscribed"
    assert not Subscriber.objects.filter(email="bea@example.com").exists()
    assert "1 address(es) invited to confirm; 1 already known and left alone." in page
    assert "Line 3 refused: no consent note." in page
    assert "Line 4 refused: not an email address." in page
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_the_therapist_previews_tests_and_sends_a_campaign(
    admin_client_mfa,
    therapist,
    eager_tasks,
    smtp_sink,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.NEWSLETTER_SEND_RATE = 0
    SubscriberFactory(email="nora@example.com", confirmed=True)
    add = admin_client_mfa.post(
        "/admin/newsletter/campaign/add/",
        {"subject": "Spring letter", "body": "Hello **readers**."},
    )
    campaign = Campaign.objects.get()
    assert add.status_code == 302

    preview = admin_client_mfa.get(f"/admin/newsletter/campaign/{campaign.pk}/preview/")
    html = admin_client_mfa.get(f"/admin/newsletter/campaign/{campaign.pk}/preview.html")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_mfa.post(f"/admin/newsletter/campaign/{campaign.pk}/send-test/")
    (test_copy,) = smtp_sink.wait_for(1)

    assert "Hello <strong>readers</strong>." in html.content.decode()
    assert "Send a test to lena@harborlight.example" in preview.content.decode()
    assert (test_copy["To"], test_copy["Subject"]) == (
        "lena@harborlight.example",
        "[Test] Spring letter",
    )

    with django_capture_on_commit_callbacks(execute=True):
        admin_client_mfa.post(f"/admin/newsletter/campaign/{campaign.pk}/send/", {})
    smtp_sink.wait_for(2)
    campaign.refresh_from_db()
    change = admin_client_mfa.get(f"/admin/newsletter/campaign/{campaign.pk}/change/")

    assert smtp_sink.recipients == ["lena@harborlight.example", "nora@example.com"]
    assert campaign.status == Campaign.Status.SENT
    assert "Finished: 1 sent of 1, 0 failed." in change.content.decode()


def test_the_therapist_schedules_and_unschedules_a_campaign(admin_client_mfa):
    campaign = CampaignFactory()
    when = timezone.localtime() + timedelta(days=2)

    admin_client_mfa.post(
        f"/admin/newsletter/campaign/{campaign.pk}/send/",
        {"scheduled_at": when.strftime("%Y-%m-%dT%H:%M")},
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.scheduled_at == when.replace(second=0, microsecond=0)

    admin_client_mfa.post(f"/admin/newsletter/campaign/{campaign.pk}/unschedule/")
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (Campaign.Status.DRAFT, None)


def test_campaign_list_shows_progress_while_sending(admin_client_mfa):
    readers = SubscriberFactory.create_batch(3, confirmed=True)
    campaign = CampaignFactory(status=Campaign.Status.SENDING, recipients_total=3)
    campaign.deliveries.create(subscriber=readers[0], status="sent", sent_at=timezone.now())
    campaign.deliveries.create(subscriber=readers[1], status="failed", error="550")
    campaign.deliveries.create(subscriber=readers[2])

    page = admin_client_mfa.get("/admin/newsletter/campaign/").content.decode()
    change = admin_client_mfa.get(f"/admin/newsletter/campaign/{campaign.pk}/change/")

    assert "1 sent of 3, 1 failed" in page
    assert "Sending: 1 sent of 3, 1 failed." in change.content.decode()
    assert '<meta http-equiv="refresh" content="5">' in change.content.decode()


def test_an_article_becomes_a_draft_campaign(admin_client_mfa):
    article = ArticleFactory(title="Rest")

    response = admin_client_mfa.post(
        "/admin/newsletter/article/",
        {"action": "make_campaign", "_selected_action": [article.pk]},
    )

    campaign = Campaign.objects.get()
    assert (campaign.subject, campaign.article, campaign.status) == ("Rest", article, "draft")
    assert response["Location"] == f"/admin/newsletter/campaign/{campaign.pk}/change/"


@pytest.mark.parametrize("path", ["/admin/newsletter/campaign/", "/admin/newsletter/article/"])
def test_campaign_and_article_lists_have_a_flat_query_count(
    admin_client_mfa, django_assert_max_num_queries, path
):
    def add(count: int) -> None:
        for _ in range(count):
            article = ArticleFactory()
            campaign = CampaignFactory(article=article, status=Campaign.Status.SENDING)
            campaign.deliveries.create(subscriber=SubscriberFactory(confirmed=True))

    add(2)
    admin_client_mfa.get(path)
    with django_assert_max_num_queries(12):
        admin_client_mfa.get(path)
    add(15)
    with django_assert_max_num_queries(12):
        admin_client_mfa.get(path)


GLANCE_WARNING = (
    "Seen at a glance: {places}. Anyone who looks at a shared inbox or a lock screen "
    "reads the subject and the preview text, so consider rewording them in general "
    "words; the email itself may still discuss the practice&#x27;s work. "
    "You can save and send it as it is."
)


def test_the_compose_page_warns_of_treatment_words_in_the_subject_and_preview_text(
    admin_client_mfa,
):
    campaign = CampaignFactory(
        subject="What KAP can do",
        body="Ketamine-assisted therapy and micro-dosing, explained for mothers.",
    )

    page = admin_client_mfa.get(f"/admin/newsletter/campaign/{campaign.pk}/change/")

    assert (
        GLANCE_WARNING.format(
            places="the subject holds “kap”; the preview text holds “ketamine”, “micro-dosing”"
        )
        in page.content.decode()
    )


def test_the_compose_page_warns_only_where_the_word_is(admin_client_mfa):
    article = ArticleFactory(title="Rest", summary="What a dosing day looks like.")
    campaign = CampaignFactory(subject="Rest", body="", article=article)

    page = admin_client_mfa.get(f"/admin/newsletter/campaign/{campaign.pk}/change/")

    assert GLANCE_WARNING.format(places="the preview text holds “dosing”") in (
        page.content.decode()
    )


def test_the_compose_page_has_no_warning_when_subject_and_preview_are_gentle(admin_client_mfa):
    # Health words may head an article for every reader; only treatment words warn.
    campaign = CampaignFactory(
        subject="Postpartum anxiety: you are not alone",
        body="A few words about rest, and about asking for help.",
    )

    page = admin_client_mfa.get(f"/admin/newsletter/campaign/{campaign.pk}/change/")

    assert "Seen at a glance" not in page.content.decode()
    assert "A few words about rest, and about asking for help." in page.content.decode()


def test_a_campaign_with_a_treatment_word_can_still_be_saved(admin_client_mfa):
    campaign = CampaignFactory(subject="Spring letter")

    response = admin_client_mfa.post(
        f"/admin/newsletter/campaign/{campaign.pk}/change/",
        {"subject": "KAP in spring", "body": "Hello.", "_continue": "Save"},
        follow=True,
    )

    campaign.refresh_from_db()
    assert campaign.subject == "KAP in spring"
    assert GLANCE_WARNING.format(places="the subject holds “kap”") in response.content.decode()


def test_the_preview_page_warns_and_shows_how_the_inbox_line_reads(admin_client_mfa):
    campaign = CampaignFactory(subject="Your dosing questions", body="Answers to three of them.")
    gentle = CampaignFactory(subject="Spring letter", body="Answers to three of them.")

    page = admin_client_mfa.get(f"/admin/newsletter/campaign/{campaign.pk}/preview/")
    gentle_page = admin_client_mfa.get(f"/admin/newsletter/campaign/{gentle.pk}/preview/")

    html = page.content.decode()
    assert GLANCE_WARNING.format(places="the subject holds “dosing”") in html
    assert (
        '<p class="campaign-inbox-line">'
        "Harbor Light Therapy — Your dosing questions — Answers to three of them.</p>"
    ) in html
    assert "Seen at a glance" not in gentle_page.content.decode()


def test_a_campaign_already_sent_shows_no_warning(admin_client_mfa):
    campaign = CampaignFactory(subject="What KAP can do", status=Campaign.Status.SENT)

    change = admin_client_mfa.get(f"/admin/newsletter/campaign/{campaign.pk}/change/")
    preview = admin_client_mfa.get(f"/admin/newsletter/campaign/{campaign.pk}/preview/")

    assert "Seen at a glance" not in change.content.decode()
    assert "Seen at a glance" not in preview.content.decode()
    assert "What KAP can do" in preview.content.decode()
