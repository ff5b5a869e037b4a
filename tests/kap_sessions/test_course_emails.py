"""A course's emails to her: reminders planned, moved, stopped, and every one discreet.

Beth Lindqvist (the demo's client in her medicine phase) has a course whose
sessions are booked on the shared calendar with reminders. The practice is
the demo's, tagline and all ("Ketamine-assisted psychotherapy ..."): nothing
of it but its name and contact details may reach an email.

Practice time is Los Angeles; "now" is Monday 4 January 2027, 8:00 AM there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar

from kap_sessions.course_emails import (
    FORM_READY_KIND,
    course_reminders_stop,
    length_words,
    measures_due_emails_plan,
    session_reminder,
)
from kap_sessions.models import Course, CourseSession
from kap_sessions.services import course_advance, course_start
from kap_sessions.services.sessions import session_book, session_move
from practice.calendar.ics import appointment_ics
from practice.calendar.reminders import reminders_pending
from practice.discretion import discretion_words_in
from practice.identity import practice_profile_forget
from practice.models import Appointment, AppointmentKind, MeetingMode, OutboxMessage
from practice.outbox.kinds import kind_named
from practice.outbox.services import outbox_send_due
from tests.kap_sessions.factories_emails import (
    BETH_EMAIL,
    BETH_PHONE,
    beth,
    book_session,
    client_named,
    course_measure,
    course_of,
)
from tests.support.calendar import NOW
from tests.support.smtp import html_part, text_part

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("weekly_hours", "frozen_now", "demo_practice"),
]

# Words no email or calendar file of the course may hold besides the
# discretion list: what the sessions are, and what the questionnaires are.
COURSE_WORDS = (
    "medicine",
    "integration",
    "psychotherapy",
    "treatment",
    "questionnaire",
    "phq",
    "gad-7",
    "epds",
)
VIDEO_ROOM = "https://meet.example.com/harbor-light"
ADDRESS = "2150 Shattuck Avenue, Suite 310, Berkeley, CA 94704"

# Practice time, in UTC (Los Angeles is 8 hours behind in January).
TUESDAY_TEN = datetime(2027, 1, 5, 18, 0, tzinfo=UTC)
WEDNESDAY_ELEVEN = datetime(2027, 1, 6, 19, 0, tzinfo=UTC)
FRIDAY_NINE = datetime(2027, 1, 8, 17, 0, tzinfo=UTC)
SATURDAY_TEN = datetime(2027, 1, 9, 18, 0, tzinfo=UTC)
MONDAY_TEN = datetime(2027, 1, 11, 18, 0, tzinfo=UTC)


@pytest.fixture
def demo_practice(practice_profile):  # type: ignore[no-untyped-def]
    practice_profile.tagline = "Ketamine-assisted psychotherapy for mothers in the East Bay"
    practice_profile.video_room_url = VIDEO_ROOM
    practice_profile.save()
    practice_profile_forget()
    return practice_profile


def full_course() -> tuple[Course, dict[str, CourseSession]]:
    """Preparation by video, the medicine session, the check-in by phone, integration."""
    course = course_of(beth())
    sessions = {
        "preparation": book_session(
            course=course,
            kind=AppointmentKind.PREPARATION,
            start=TUESDAY_TEN,
            mode=MeetingMode.VIDEO,
        ),
        "dosing": book_session(course=course, kind=AppointmentKind.DOSING, start=FRIDAY_NINE),
        "check_in": book_session(
            course=course,
            kind=AppointmentKind.CHECK_IN,
            start=SATURDAY_TEN,
            mode=MeetingMode.PHONE,
        ),
        "integration": book_session(
            course=course, kind=AppointmentKind.INTEGRATION, start=MONDAY_TEN
        ),
    }
    return course, sessions


def planned(session: CourseSession) -> list[tuple[str, str, datetime]]:
    return [
        (row.kind, row.params["reminder"], row.not_before)
        for row in reminders_pending(session.appointment)
    ]


def pending_about(course: Course) -> list[OutboxMessage]:
    appointment_ids = CourseSession.objects.filter(course=course).values("appointment_id")
    return list(
        OutboxMessage.objects.pending().filter(
            object_id__in=appointment_ids, kind="reminder.session"
        )
    ) + list(OutboxMessage.objects.pending().about(course.client))


# --- Planned, moved, stopped ---------------------------------------------------------------


def test_a_course_s_sessions_get_their_reminders_at_their_times():
    _, sessions = full_course()

    day, hour = timedelta(hours=24), timedelta(hours=1)
    assert planned(sessions["preparation"]) == [
        ("reminder.session", "day_before", TUESDAY_TEN - day),
        ("reminder.session", "hour_before", TUESDAY_TEN - hour),
    ]
    assert planned(sessions["dosing"]) == [
        ("reminder.session", "two_days_before", FRIDAY_NINE - 2 * day),
        ("reminder.session", "day_before", FRIDAY_NINE - day),
        ("reminder.session", "hour_before", FRIDAY_NINE - hour),
    ]
    assert planned(sessions["check_in"]) == [
        ("reminder.session", "day_before", SATURDAY_TEN - day),
        ("reminder.session", "hour_before", SATURDAY_TEN - hour),
    ]
    assert planned(sessions["integration"]) == [
        ("reminder.session", "day_before", MONDAY_TEN - day),
        ("reminder.session", "hour_before", MONDAY_TEN - hour),
    ]
    # Every row is to her, keyed once per appointment and reminder.
    keys = set(OutboxMessage.objects.values_list("idempotency_key", flat=True))
    assert f"reminder:{sessions['dosing'].appointment_id}:two_days_before" in keys
    assert OutboxMessage.objects.count() == 9


def test_a_moved_session_s_old_reminders_are_voided_and_new_ones_planned(mailoutbox):
    _, sessions = full_course()
    old = sessions["preparation"].appointment

    moved = session_move(session=sessions["preparation"], start=WEDNESDAY_ELEVEN)

    assert reminders_pending(old) == []
    assert set(OutboxMessage.objects.about(old).values_list("params__reminder", "status")) == {
        ("day_before", "voided"),
        ("hour_before", "voided"),
    }
    assert planned(moved) == [
        ("reminder.session", "day_before", WEDNESDAY_ELEVEN - timedelta(hours=24)),
        ("reminder.session", "hour_before", WEDNESDAY_ELEVEN - timedelta(hours=1)),
    ]
    # The old day-before time comes and goes: nothing is sent for the old time.
    with time_machine.travel(TUESDAY_TEN - timedelta(hours=23), tick=False):
        assert outbox_send_due().sent == 0
    with time_machine.travel(WEDNESDAY_ELEVEN - timedelta(hours=23), tick=False):
        assert outbox_send_due().sent == 1
    assert [m.subject for m in mailoutbox] == ["Your appointment tomorrow at 11:00 AM"]
    assert "Wednesday, January 6, 2027 at 11:00 AM" in mailoutbox[0].body


def test_withdrawal_voids_every_reminder_and_form_email_of_the_course():
    course, sessions = full_course()
    measures_due_emails_plan(assignment=course_measure(course=course, due_on=date(2027, 1, 12)))
    other = course_of(client_named("Carmen", "Reyes"))
    others = book_session(
        course=other, kind=AppointmentKind.PREPARATION, start=MONDAY_TEN + timedelta(days=1)
    )
    assert len(pending_about(course)) == 10

    stopped = course_reminders_stop(course=course, withdrawn=True, now=NOW)

    assert stopped == 10
    assert pending_about(course) == []
    assert OutboxMessage.objects.filter(status="voided", finished_at=NOW).count() == 10
    # Another client's course is not touched.
    assert [r for _, r, _ in planned(others)] == ["day_before", "hour_before"]
    assert all(s.appointment.status == Appointment.Status.BOOKED for s in sessions.values())


def test_a_withdrawn_course_sends_her_nothing_more(mailoutbox):
    # Through the course's own services: its start plans the baseline forms,
    # its sessions are booked with reminders, its withdrawal stops it all.
    course = course_start(client=beth())
    session_book(
        course=course,
        kind=AppointmentKind.PREPARATION,
        start=TUESDAY_TEN,
        mode=MeetingMode.VIDEO,
    )
    assert len(pending_about(course)) == 3  # the form (due today) and two reminders

    course_advance(course=course, to=Course.Phase.WITHDRAWN)

    assert pending_about(course) == []
    with time_machine.travel(TUESDAY_TEN - timedelta(minutes=30), tick=False):
        outbox_send_due()
    assert mailoutbox == []


def test_completion_stops_the_session_reminders_and_keeps_the_form_emails(mailoutbox):
    course, _ = full_course()
    follow_up = course_measure(course=course, due_on=date(2027, 2, 11), occasion="follow_up_1")
    assert measures_due_emails_plan(assignment=follow_up) is True

    stopped = course_reminders_stop(course=course, withdrawn=False, now=NOW)

    assert stopped == 9
    (form,) = pending_about(course)
    assert form.kind == FORM_READY_KIND
    # The follow-up's email still goes out on its morning (8:00 AM practice time).
    with time_machine.travel(datetime(2027, 2, 11, 16, 0, tzinfo=UTC), tick=False):
        assert outbox_send_due().sent == 1
    assert [(m.to, m.subject) for m in mailoutbox] == [
        ([BETH_EMAIL], "A short form is ready in your portal")
    ]


def test_a_reminder_of_a_course_closed_meanwhile_is_voided_at_send_time(mailoutbox):
    course, sessions = full_course()
    Course.objects.filter(pk=course.pk).update(phase=Course.Phase.WITHDRAWN, closed_on=NOW.date())

    with time_machine.travel(TUESDAY_TEN - timedelta(hours=23), tick=False):
        report = outbox_send_due()

    assert (report.sent, report.voided) == (0, 1)
    assert mailoutbox == []


# --- What she reads ----------------------------------------------------------------------


def test_a_medicine_session_s_emails_reach_her_through_the_outbox(smtp_sink):
    _, sessions = full_course()

    for before in (timedelta(hours=47), timedelta(hours=23), timedelta(minutes=50)):
        with time_machine.travel(FRIDAY_NINE - before, tick=False):
            assert outbox_send_due().sent == 1

    ready, tomorrow, today = smtp_sink.wait_for(3)
    assert [m["To"] for m in (ready, tomorrow, today)] == [BETH_EMAIL] * 3
    assert [m["Subject"] for m in (ready, tomorrow, today)] == [
        "Getting ready for your appointment on Fri, Jan 8",
        "Your appointment tomorrow at 9:00 AM",
        "Your appointment today at 9:00 AM",
    ]
    for part in (text_part(ready), html_part(ready)):
        assert "nothing to eat in the 4 hours before" in part
        assert "You cannot drive yourself home afterwards" in part
        assert "care for your children" in part
        assert "comfortable, loose clothes" in part
        assert "A water bottle and a light snack" in part
        assert "about 3 and a half hours" in part
        assert ADDRESS in part
    text = text_part(tomorrow)
    assert "When: Friday, January 8, 2027 at 9:00 AM (Pacific time, Los Angeles)" in text
    assert f"Where: {ADDRESS}" in text
    assert "- Please have nothing to eat in the 4 hours before." in text
    assert "nothing to eat" not in text_part(today)
    assert "Please come with your ride home arranged" in text_part(today)
    assert "Please come with your ride home arranged" in html_part(today)
    assert "reply to this email or call (510) 555-0142" in text_part(today)
    assert "http://localhost:8000/portal/" in text_part(today)
    assert 'href="http://localhost:8000/portal/"' in html_part(today)


@pytest.mark.parametrize(
    ("mode", "video_url", "phone", "says"),
    [
        (MeetingMode.IN_PERSON, "", BETH_PHONE, f"Where: {ADDRESS}"),
        (MeetingMode.VIDEO, "", BETH_PHONE, f"Video link: {VIDEO_ROOM}"),
        (
            MeetingMode.VIDEO,
            "https://meet.example.com/beth-only",
            BETH_PHONE,
            "Video link: https://meet.example.com/beth-only",
        ),
        (MeetingMode.PHONE, "", BETH_PHONE, f"Lena Marsh will call you at {BETH_PHONE}."),
        (MeetingMode.PHONE, "", "", "Lena Marsh will call you at the number you gave us."),
    ],
)
def test_a_reminder_says_where_or_how_we_meet(mode, video_url, phone, says):
    course = course_of(beth(phone=phone))
    session = book_session(
        course=course,
        kind=AppointmentKind.INTEGRATION,
        start=TUESDAY_TEN,
        mode=mode,
        video_url=video_url,
    )

    email = session_reminder(session=session, reminder="day_before")

    assert says in email.body
    html = email.alternatives[0][0]
    assert says.split(": ", 1)[-1].rstrip(".") in str(html)
    assert email.subject == "Your appointment tomorrow at 10:00 AM"
    assert "How long: about 50 minutes" in email.body


def test_a_reminder_reads_in_her_time_zone():
    course = course_of(beth(time_zone="America/New_York"))
    session = book_session(course=course, kind=AppointmentKind.PREPARATION, start=TUESDAY_TEN)

    with time_machine.travel(TUESDAY_TEN - timedelta(minutes=55), tick=False):
        email = session_reminder(session=session, reminder="hour_before")

    assert email.subject == "Your appointment today at 1:00 PM"
    assert "When: Tuesday, January 5, 2027 at 1:00 PM (Eastern time, New York)" in email.body


def test_lengths_read_as_people_say_them():
    assert [length_words(m) for m in (20, 50, 120, 210, 200)] == [
        "about 20 minutes",
        "about 50 minutes",
        "about 2 hours",
        "about 3 and a half hours",
        "about 3 hours 20 minutes",
    ]


# --- Nothing clinical, anywhere --------------------------------------------------------------

# Every kind of course session in every way it can be held (a medicine
# session is always in person), one day apart, from Thursday 7 January.
EVERY_SESSION = [
    (AppointmentKind.PREPARATION, MeetingMode.IN_PERSON),
    (AppointmentKind.PREPARATION, MeetingMode.VIDEO),
    (AppointmentKind.PREPARATION, MeetingMode.PHONE),
    (AppointmentKind.DOSING, MeetingMode.IN_PERSON),
    (AppointmentKind.CHECK_IN, MeetingMode.PHONE),
    (AppointmentKind.CHECK_IN, MeetingMode.VIDEO),
    (AppointmentKind.INTEGRATION, MeetingMode.IN_PERSON),
    (AppointmentKind.INTEGRATION, MeetingMode.VIDEO),
    (AppointmentKind.INTEGRATION, MeetingMode.PHONE),
]


def clinical_words_in(text: str) -> list[str]:
    return discretion_words_in(text) + discretion_words_in(text, words=COURSE_WORDS)


def test_every_email_and_calendar_file_of_the_course_names_nothing_clinical():
    course = course_of(beth())
    first = datetime(2027, 1, 7, 18, 0, tzinfo=UTC)
    sessions = [
        book_session(course=course, kind=kind, start=first + timedelta(days=n), mode=mode)
        for n, (kind, mode) in enumerate(EVERY_SESSION)
    ]
    for instrument in ("phq-9", "gad-7", "epds"):
        measures_due_emails_plan(
            assignment=course_measure(course=course, due_on=date(2027, 1, 7), instrument=instrument)
        )

    rendered: dict[str, list[str]] = {}
    for row in OutboxMessage.objects.pending().order_by("not_before", "id"):
        kind = kind_named(row.kind)
        assert kind is not None
        with time_machine.travel(row.not_before, tick=False):
            email = kind.build(row)
        assert email is not None, f"{row.kind} {row.params} was voided"
        assert email.to == [BETH_EMAIL]
        html = str(email.alternatives[0][0])
        rendered.setdefault(row.params.get("reminder", row.kind), []).append(
            "\n".join([email.subject, email.body, html])
        )
        assert len(email.subject) <= 60, email.subject
    calendar_files = [appointment_ics(session.appointment).content.decode() for session in sessions]

    assert {name: len(texts) for name, texts in rendered.items()} == {
        "two_days_before": 1,
        "day_before": 9,
        "hour_before": 9,
        FORM_READY_KIND: 1,
    }
    for texts in rendered.values():
        for text in texts:
            assert clinical_words_in(text) == [], text
            assert "Lindqvist" not in text.split("\n", 1)[0]  # not in the subject
    for content in calendar_files:
        assert clinical_words_in(content) == [], content
        event = Calendar.from_ical(content).walk("VEVENT")[0]
        assert str(event["summary"]) == "Appointment with Lena Marsh"
