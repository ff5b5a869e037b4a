"""Every consultation email, end to end through a real SMTP server.

Checks both parts of each message, the calendar file, and that nothing
clinical (intake answers, treatment words) leaves the app.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from email.message import EmailMessage

import pytest
import time_machine
from django.utils import timezone
from icalendar import Calendar

from consultations.models import Consultation
from consultations.services import (
    consultation_reschedule,
    consultation_send_video_link,
    consultation_transition,
    waitlist_join,
)
from kap_sessions.course_emails import agenda_plan, measures_due_emails_plan
from kap_sessions.models import GoodFaithEstimate
from kap_sessions.services import eligibility_override, safety_flag_raise, screening_assign
from kap_sessions.services.billing import estimate_share
from kap_sessions.services.referral import referral_letter_issue
from newsletter.services import campaign_send_test, subscriber_subscribe
from practice.discretion import discretion_words_in
from practice.identity import practice_profile_forget
from practice.invitations import client_invite
from practice.models import OutboxMessage
from practice.outbox.kinds import kind_named, kind_names
from practice.outbox.services import outbox_send_due
from tests.consultations.conftest import FIRST_SLOT, assert_nothing_clinical
from tests.factories import ClientFactory, UserFactory
from tests.kap_sessions.factories_emails import book_session, course_measure, course_of
from tests.newsletter.factories import CampaignFactory
from tests.support.smtp import html_part, text_part

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("weekly_hours", "frozen_now", "eager_tasks"),
]


def calendar_of(message: EmailMessage) -> Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "expected exactly one calendar attachment"
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def everything_in(message: EmailMessage) -> str:
    pieces = [str(message["Subject"]), text_part(message), html_part(message)]
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            pieces.append(part.get_payload(decode=True).decode())
    return "\n".join(pieces)


@pytest.fixture
def book(client, booking_data, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    def run(**overrides: str) -> Consultation:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/consultation/", booking_data(**overrides))
        assert response.status_code == 302
        return Consultation.objects.latest("created_at")

    return run


def test_the_confirmation_carries_a_calendar_file_for_the_booked_time(smtp_sink, book):
    consultation = book()

    messages = smtp_sink.wait_for(2)

    mine = smtp_sink.to("nora@example.com")[0]
    assert mine["Subject"] == "Booked: your call on Tue, Jan 5 at 12:00 PM"
    text, html = text_part(mine), html_part(mine)
    assert "Hello Nora," in text and "Hello Nora," in html
    assert "Video call, about 20 minutes" in text
    assert "http://localhost:8000/consultation/manage/" in text
    assert 'href="http://localhost:8000/consultation/manage/' in html
    event = calendar_of(mine).walk("VEVENT")[0]
    assert event.decoded("dtstart") == FIRST_SLOT
    assert event.decoded("dtend") == FIRST_SLOT + timedelta(minutes=20)
    assert str(event["summary"]) == "Call with Lena Marsh"
    assert str(event["uid"]) == f"consultation-{consultation.public_id}@localhost"
    # In UTC, which every calendar reads the same way: no time-zone rules to misread.
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert calendar_of(mine).walk("VTIMEZONE") == []
    assert len(messages) == 2


def test_the_manage_link_in_the_email_opens_her_booking(client, smtp_sink, book):
    book()
    text = text_part(smtp_sink.wait_for(2) and smtp_sink.to("nora@example.com")[0])
    link = next(w for w in text.split() if "/consultation/manage/" in w)

    response = client.get(link.removeprefix("http://localhost:8000"))

    assert "Your free consultation" in response.content.decode()


def test_the_therapist_notice_links_to_the_admin_and_names_no_answers(smtp_sink, book):
    consultation = book()

    notice = smtp_sink.wait_for(2) and smtp_sink.to("hello@harborlight.example")[0]

    # Her initials only, and the time in the practice's zone.
    assert notice["Subject"] == "New booking: N. O., Tue, Jan 5 at 9:00 AM"
    assert (
        f"http://localhost:8000/admin/consultations/consultation/{consultation.pk}/change/"
        in text_part(notice)
    )
    assert "far away" not in everything_in(notice)
    assert_nothing_clinical(everything_in(notice))


def test_reschedule_and_cancel_send_updates_with_a_growing_sequence(
    smtp_sink, book, django_capture_on_commit_callbacks
):
    consultation = book()
    smtp_sink.wait_for(2)
    later = FIRST_SLOT + timedelta(days=1)
    # The services the manage page calls (tests/consultations/test_manage.py has the page).
    with django_capture_on_commit_callbacks(execute=True):
        consultation_reschedule(consultation=consultation, start=later)
    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(
            consultation=consultation, to="cancelled", by="client", reason="no childcare"
        )

    messages = smtp_sink.wait_for(6)

    hers = smtp_sink.to("nora@example.com")
    assert [m["Subject"] for m in hers] == [
        "Booked: your call on Tue, Jan 5 at 12:00 PM",
        "Moved: your call is now Wed, Jan 6 at 12:00 PM",
        "Cancelled: your call on Wed, Jan 6 at 12:00 PM",
    ]
    assert [m["Subject"] for m in smtp_sink.to("hello@harborlight.example")] == [
        "New booking: N. O., Tue, Jan 5 at 9:00 AM",
        "Moved: N. O., now Wed, Jan 6 at 9:00 AM",
        "Cancelled: N. O., Wed, Jan 6 at 9:00 AM",
    ]
    moved, cancelled = calendar_of(hers[1]), calendar_of(hers[2])
    assert moved.walk("VEVENT")[0].decoded("dtstart") == later
    assert int(moved.walk("VEVENT")[0]["sequence"]) == 1
    assert str(cancelled["method"]) == "CANCEL"
    assert int(cancelled.walk("VEVENT")[0]["sequence"]) == 2
    assert "Book another time" in html_part(hers[2])
    assert len(messages) == 6


def test_a_practice_cancellation_carries_her_note(
    smtp_sink, book, django_capture_on_commit_callbacks
):
    consultation = book()
    smtp_sink.wait_for(2)

    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(
            consultation=consultation, to="cancelled", note="I have to be away that week."
        )

    message = smtp_sink.wait_for(4) and smtp_sink.to("nora@example.com")[-1]
    assert "I have had to cancel" in text_part(message)
    assert "I have to be away that week." in text_part(message)
    assert "I have to be away that week." in html_part(message)


def test_a_reminder_has_the_time_in_her_zone_and_a_working_link(client, smtp_sink, book):
    book()
    smtp_sink.wait_for(2)

    with time_machine.travel(FIRST_SLOT - timedelta(minutes=50), tick=False):
        sent = outbox_send_due().sent

    # Both reminders are due by now; only the closer one goes out.
    assert sent == 1
    reminder = smtp_sink.wait_for(3) and smtp_sink.to("nora@example.com")[-1]
    assert reminder["Subject"] == "Reminder: your call today at 12:00 PM"
    text = text_part(reminder)
    assert "Video call" in text
    link = next(w for w in text.split() if "/consultation/manage/" in w)
    assert client.get(link.removeprefix("http://localhost:8000")).status_code == 200


def test_a_freed_time_is_offered_to_the_waitlist_oldest_first(
    smtp_sink, book, django_capture_on_commit_callbacks
):
    waitlist_join(name="Ivy", email="ivy@example.com", preferred_times="", time_zone="UTC")
    waitlist_join(name="June", email="june@example.com", preferred_times="", time_zone="UTC")
    consultation = book()
    smtp_sink.wait_for(2)

    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(consultation=consultation, to="cancelled", by="client")

    messages = smtp_sink.wait_for(6)
    openings = [m for m in messages if str(m["Subject"]).startswith("A time opened:")]
    assert [str(m["To"]) for m in openings] == ["ivy@example.com", "june@example.com"]
    assert str(openings[0]["Subject"]) == "A time opened: Tue, Jan 5 at 5:00 PM"
    assert "Tuesday, January 5, 2027 at 5:00 PM (UTC)" in text_part(openings[0])


def test_no_email_or_calendar_file_says_anything_clinical(
    smtp_sink, book, practice_profile, django_capture_on_commit_callbacks
):
    # Even a tagline that names the treatment must not leak into email.
    practice_profile.tagline = "Ketamine-assisted psychotherapy (KAP) for mothers"
    practice_profile.save()
    practice_profile_forget()
    waitlist_join(name="Ivy", email="ivy@example.com", preferred_times="", time_zone="UTC")
    consultation = book(
        reason="Postpartum depression and anxiety; I tried micro-dosing psilocybin.",
        medications="sertraline 50mg",
        prior_experience="both",
    )
    with django_capture_on_commit_callbacks(execute=True):
        consultation_reschedule(consultation=consultation, start=FIRST_SLOT + timedelta(days=1))
    with time_machine.travel(FIRST_SLOT + timedelta(minutes=30), tick=False):
        outbox_send_due()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(
            consultation=consultation, to="cancelled", by="client", reason="depressed today"
        )

    messages = smtp_sink.wait_for(8)

    assert len(messages) >= 8
    for message in messages:
        assert_nothing_clinical(everything_in(message))


def test_the_day_before_reminder_says_tomorrow_in_her_zone(smtp_sink, book):
    book(time_zone="Australia/Sydney")
    smtp_sink.wait_for(2)

    # A day before: Tuesday 9:00 AM in Los Angeles is Wednesday 4:00 AM in Sydney,
    # and her "now" is already Tuesday there.
    with time_machine.travel(FIRST_SLOT - timedelta(hours=23), tick=False):
        assert outbox_send_due().sent == 1

    reminder = smtp_sink.wait_for(3) and smtp_sink.to("nora@example.com")[-1]
    assert reminder["Subject"] == "Reminder: your call tomorrow at 4:00 AM"


# --- Every kind's subject: short, and saying what happened ------------------------

SUBJECT_MAX = 60
LONG_FIRST, LONG_LAST = "Maria-Guadalupe", "Castellanos-Whitfield"
LONG_EMAIL = "maria.guadalupe.castellanos-whitfield@example.com"


class SubjectsOfEveryKind:
    """Builds each outbox row's email as the sender would at its due time; keeps the subjects."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.subjects: dict[str, list[str]] = {}

    def render_new_rows(self) -> None:
        # Sent already (on commit) or still waiting for its time: either way
        # the row is built here as the sender builds it.
        for row in OutboxMessage.objects.exclude(pk__in=self.seen).order_by("pk"):
            self.seen.add(row.pk)
            kind = kind_named(row.kind)
            assert kind is not None, row.kind
            with time_machine.travel(max(row.not_before, timezone.now()), tick=False):
                message = kind.build(row)
            assert message is not None, f"{row.kind} was voided"
            self.subjects.setdefault(row.kind, []).append(message.subject)


def test_every_kind_s_subject_is_short_and_names_no_treatment(
    smtp_sink, book, practice_profile, therapist, django_capture_on_commit_callbacks
):
    # The longest a time reads ("Wed, Jan 13 at 12:00 PM"), long names, and a
    # practice whose name says what it does: none of it may make a subject long.
    practice_profile.practice_name = "Harbor Light Ketamine-Assisted Therapy for Mothers"
    practice_profile.video_room_url = "https://meet.example.com/lena-marsh"
    practice_profile.save()
    practice_profile_forget()
    render = SubjectsOfEveryKind()
    waitlist_join(
        name=f"{LONG_FIRST} {LONG_LAST}",
        email=f"waiting.{LONG_EMAIL}",
        preferred_times="",
        time_zone="America/New_York",
    )
    consultation = book(
        start=(FIRST_SLOT + timedelta(days=7)).isoformat(),
        first_name=LONG_FIRST,
        last_name=LONG_LAST,
        email=LONG_EMAIL,
    )
    render.render_new_rows()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_send_video_link(consultation=consultation, actor=therapist)
    render.render_new_rows()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_reschedule(consultation=consultation, start=FIRST_SLOT + timedelta(days=8))
    render.render_new_rows()
    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(consultation=consultation, to="cancelled", by="client")
    render.render_new_rows()
    with django_capture_on_commit_callbacks(execute=True):
        subscriber_subscribe(email=LONG_EMAIL, first_name=LONG_FIRST)
    with django_capture_on_commit_callbacks(execute=True):
        subscriber_subscribe(email=LONG_EMAIL, first_name=LONG_FIRST)  # her one reminder
    render.render_new_rows()
    # The test copy of a campaign: "[Test] " before her own subject, here one
    # as long as a newsletter subject usually is.
    campaign = CampaignFactory(subject="Five small ways to rest when the baby will not nap")
    with django_capture_on_commit_callbacks(execute=True):
        campaign_send_test(campaign=campaign, to="lena@harborlight.example")
    render.render_new_rows()
    her_record = ClientFactory(first_name=LONG_FIRST, last_name=LONG_LAST, email=LONG_EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        client_invite(client=her_record, actor=therapist)
    render.render_new_rows()
    her_record.user = UserFactory(email=LONG_EMAIL)
    her_record.save(update_fields=["user"])
    with django_capture_on_commit_callbacks(execute=True):
        screening_assign(
            client=her_record, instrument="epds", due_on=timezone.localdate(), actor=therapist
        )
    render.render_new_rows()
    with django_capture_on_commit_callbacks(execute=True):
        safety_flag_raise(client=her_record, source="intake")
    render.render_new_rows()
    eligibility_override(client=her_record, status="not_eligible", note="Not now.", actor=therapist)
    with django_capture_on_commit_callbacks(execute=True):
        referral_letter_issue(client=her_record, actor=therapist)
    render.render_new_rows()
    estimate = GoodFaithEstimate.objects.create(
        client=her_record, services_from=date(2027, 3, 1), services_until=date(2027, 5, 31)
    )
    estimate.lines.create(description="Integration session, 50 min", unit_fee=Decimal("200"))
    with django_capture_on_commit_callbacks(execute=True):
        estimate_share(estimate=estimate, actor=therapist)
    render.render_new_rows()
    # Her course: a medicine session's three reminders, a form that is due,
    # and the therapist's agenda of that day.
    course = course_of(her_record)
    with django_capture_on_commit_callbacks(execute=True):
        measures_due_emails_plan(
            assignment=course_measure(course=course, due_on=timezone.localdate())
        )
    session_day = FIRST_SLOT + timedelta(days=9)
    book_session(course=course, kind="dosing", start=session_day)
    agenda_plan(now=session_day - timedelta(hours=12))
    render.render_new_rows()

    subjects = render.subjects
    assert sorted(subjects) == kind_names(), "a new kind needs a case here"
    assert subjects["consultation.booked"] == ["Booked: your call on Tue, Jan 12 at 12:00 PM"]
    assert subjects["consultation.therapist_notice"] == [
        "New booking: M. C., Tue, Jan 12 at 9:00 AM",
        "Moved: M. C., now Wed, Jan 13 at 9:00 AM",
        "Cancelled: M. C., Wed, Jan 13 at 9:00 AM",
    ]
    assert subjects["client.invitation"] == ["Your client portal is ready"]
    assert subjects["kap.safety_alert"] == ["Please look at a client's record"]
    assert subjects["kap.document_ready"] == ["A document is ready in your portal"]
    assert subjects["kap.estimate_ready"] == ["A document is ready in your portal"]
    assert subjects["kap.forms_due"] == ["Something is ready for you in your portal"]
    assert subjects["kap.form_ready"] == ["A short form is ready in your portal"]
    assert sorted(subjects["reminder.session"]) == [
        "Getting ready for your appointment on Thu, Jan 14",
        "Your appointment today at 9:00 AM",
        "Your appointment tomorrow at 9:00 AM",
    ]
    assert subjects["kap.agenda"] == ["Your day, Thu, Jan 14: 1 appointment"]
    assert subjects["newsletter.confirm"] == [
        "Confirm your subscription",
        "Reminder: confirm your subscription",
    ]
    for kind, lines in subjects.items():
        for subject in lines:
            assert len(subject) <= SUBJECT_MAX, (kind, subject)
            assert discretion_words_in(subject) == [], (kind, subject)
            assert "therap" not in subject.lower(), (kind, subject)
            assert LONG_LAST not in subject, (kind, subject)
