"""The therapist's agenda of the day, and "a short form is ready" on a measure's due date.

Practice time is Los Angeles; "now" is Monday 4 January 2027, 8:00 AM there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings

from kap_sessions.course_emails import (
    AGENDA_KIND,
    FORM_READY_KIND,
    agenda_lines,
    agenda_plan,
    initials,
    measures_due_emails_plan,
)
from kap_sessions.models import ScreeningStatus
from kap_sessions.tasks import agenda_plan_task
from practice.calendar.services import appointment_book
from practice.discretion import discretion_words_in
from practice.models import Appointment, AppointmentKind, MeetingMode, OutboxMessage
from practice.outbox.services import outbox_send_due
from tests.consultations.factories import ConsultationFactory
from tests.factories import AppointmentFactory
from tests.kap_sessions.factories_emails import (
    BETH_EMAIL,
    beth,
    book_session,
    client_named,
    course_measure,
    course_of,
)
from tests.support.calendar import NOW
from tests.support.smtp import html_part, text_part

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("practice_profile", "frozen_now")]

# Tuesday 5 January 2027 in Los Angeles, in UTC.
TUESDAY_SEVEN = datetime(2027, 1, 5, 15, 0, tzinfo=UTC)
TUESDAY_NINE = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)
TUESDAY = date(2027, 1, 5)
AGENDA_WORDS = ("medicine", "integration", "psychotherapy", "preparation session")


def agenda_rows() -> list[tuple[str, str, datetime]]:
    return [
        (row.idempotency_key, row.recipient, row.not_before)
        for row in OutboxMessage.objects.filter(kind=AGENDA_KIND).order_by("not_before")
    ]


def tuesday_with_three_appointments() -> None:
    """Beth's long session at 9, a free consultation at 2 PM, Carmen's follow-up by video at 4."""
    book_session(course=course_of(beth()), kind=AppointmentKind.DOSING, start=TUESDAY_NINE)
    ConsultationFactory(
        first_name="Nora",
        last_name="O'Neill",
        appointment__start=TUESDAY_NINE + timedelta(hours=5),
    )
    carmen = client_named("Carmen", "Reyes")
    book_session(
        course=course_of(carmen),
        kind=AppointmentKind.INTEGRATION,
        start=TUESDAY_NINE + timedelta(hours=7),
        mode=MeetingMode.VIDEO,
    )
    # Neither time off nor a cancelled appointment is on the agenda.
    appointment_book(
        kind=AppointmentKind.BLOCKED,
        start=TUESDAY_NINE + timedelta(hours=4),
        title="Dentist",
        offered_only=False,
    )
    AppointmentFactory(start=TUESDAY_NINE + timedelta(hours=6), status=Appointment.Status.CANCELLED)


# --- Planning: once a day, at its time ----------------------------------------------------


def test_the_next_agenda_is_today_s_before_its_time_and_tomorrow_s_after():
    with time_machine.travel(datetime(2027, 1, 5, 14, 0, tzinfo=UTC), tick=False):  # 6:00 AM
        assert agenda_plan() == TUESDAY
    with time_machine.travel(datetime(2027, 1, 5, 15, 1, tzinfo=UTC), tick=False):  # 7:01 AM
        assert agenda_plan() == date(2027, 1, 6)

    assert agenda_rows() == [
        ("kap.agenda:2027-01-05", "hello@harborlight.example", TUESDAY_SEVEN),
        ("kap.agenda:2027-01-06", "hello@harborlight.example", TUESDAY_SEVEN + timedelta(days=1)),
    ]


def test_beat_may_run_the_task_every_few_minutes_and_plans_one_row_a_day():
    for minutes in range(0, 60, 5):
        with time_machine.travel(NOW + timedelta(minutes=minutes), tick=False):
            assert agenda_plan_task() == "2027-01-05"

    assert agenda_rows() == [
        ("kap.agenda:2027-01-05", "hello@harborlight.example", TUESDAY_SEVEN),
    ]
    beat = django_settings.CELERY_BEAT_SCHEDULE["kap-agenda-plan"]
    assert beat == {"task": "kap_sessions.agenda_plan", "schedule": 300.0}
    assert agenda_plan_task.name == "kap_sessions.agenda_plan"


def test_the_agenda_time_is_a_setting_in_practice_time(settings):
    settings.KAP_AGENDA_TIME = "06:30"

    assert agenda_plan() == TUESDAY
    assert agenda_rows()[0][2] == datetime(2027, 1, 5, 14, 30, tzinfo=UTC)


# --- What it says --------------------------------------------------------------------------


def test_the_agenda_lists_times_initials_and_plain_kinds_only(smtp_sink):
    tuesday_with_three_appointments()
    agenda_plan()

    with time_machine.travel(TUESDAY_SEVEN, tick=False):
        outbox_send_due()  # the clients' reminders due by then go too

    assert OutboxMessage.objects.get(kind=AGENDA_KIND).status == OutboxMessage.Status.SENT
    (message,) = smtp_sink.to("hello@harborlight.example")
    assert message["Subject"] == "Your day, Tue, Jan 5: 3 appointments"
    text, html = text_part(message), html_part(message)
    assert text.splitlines()[2:7] == [
        "Tuesday, January 5:",
        "",
        "9:00 AM–12:30 PM  B. L.  Long session, in person",
        "2:00 PM–2:20 PM  N. O.  Free consultation, video call",
        "4:00 PM–4:50 PM  C. R.  Follow-up, video call",
    ]
    assert "http://localhost:8000/admin/" in text
    for part in (text, html):
        for name in ("Beth", "Lindqvist", "Nora", "O'Neill", "O&#x27;Neill", "Carmen", "Reyes"):
            assert name not in part
        assert "Dentist" not in part
        assert discretion_words_in(part) == []
        assert discretion_words_in(part, words=AGENDA_WORDS) == []
    assert '<td style="padding:4px 16px 4px 0">B. L.</td>' in html


def test_a_day_with_nothing_booked_sends_nothing(mailoutbox):
    appointment_book(
        kind=AppointmentKind.BLOCKED, start=TUESDAY_NINE, title="Day off", offered_only=False
    )
    agenda_plan()

    with time_machine.travel(TUESDAY_SEVEN, tick=False):
        report = outbox_send_due()

    assert (report.sent, report.voided) == (0, 1)
    assert mailoutbox == []


def test_an_agenda_the_sender_reaches_only_the_next_day_is_not_sent(mailoutbox):
    tuesday_with_three_appointments()
    agenda_plan()

    with time_machine.travel(TUESDAY_SEVEN + timedelta(days=1), tick=False):
        outbox_send_due()

    assert OutboxMessage.objects.get(kind=AGENDA_KIND).status == OutboxMessage.Status.VOIDED
    assert [m.to for m in mailoutbox if m.to == ["hello@harborlight.example"]] == []


def test_the_agenda_is_written_from_the_calendar_as_it_is_at_send_time(mailoutbox):
    agenda_plan()
    book_session(course=course_of(beth()), kind=AppointmentKind.PREPARATION, start=TUESDAY_NINE)

    with time_machine.travel(TUESDAY_SEVEN, tick=False):
        outbox_send_due()

    (email,) = [m for m in mailoutbox if m.to == ["hello@harborlight.example"]]
    assert email.subject == "Your day, Tue, Jan 5: 1 appointment"
    assert "9:00 AM–9:50 AM  B. L.  Preparation, in person" in email.body


def test_agenda_lines_cost_the_same_queries_however_many_appointments(
    django_assert_max_num_queries,
):
    tuesday_with_three_appointments()
    # Three more check-ins at 5:15, 5:45 and 6:15 PM.
    for n in range(3):
        client = client_named("Ada", f"Vance{n}")
        book_session(
            course=course_of(client),
            kind=AppointmentKind.CHECK_IN,
            start=datetime(2027, 1, 6, 1, 15, tzinfo=UTC) + timedelta(minutes=30 * n),
            mode=MeetingMode.PHONE,
        )

    # The appointments, the consultations' display hook, the profile.
    with django_assert_max_num_queries(4):
        lines = agenda_lines(TUESDAY)

    assert [line.initials for line in lines] == [
        "B. L.",
        "N. O.",
        "C. R.",
        "A. V.",
        "A. V.",
        "A. V.",
    ]


def test_initials_take_the_first_letter_of_each_name():
    assert initials("Maria-Guadalupe Castellanos-Whitfield") == "M. C."
    assert initials("Nora O'Neill") == "N. O."
    assert initials("") == ""


# --- A short form is ready -----------------------------------------------------------------


def test_a_measure_s_email_is_planned_for_the_morning_it_is_due():
    course = course_of(beth())

    for instrument in ("phq-9", "gad-7", "epds"):
        measure = course_measure(course=course, due_on=date(2027, 1, 12), instrument=instrument)
        assert measures_due_emails_plan(assignment=measure) is True

    # One email for the three, at 8:00 AM practice time on the due date.
    (row,) = OutboxMessage.objects.filter(kind=FORM_READY_KIND)
    assert (row.idempotency_key, row.recipient, row.not_before, row.params) == (
        f"kap.form_ready:{course.client_id}:2027-01-12",
        BETH_EMAIL,
        datetime(2027, 1, 12, 16, 0, tzinfo=UTC),
        {"due_on": "2027-01-12"},
    )


def test_a_measure_due_today_after_the_morning_is_asked_for_now():
    course = course_of(beth())
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        measures_due_emails_plan(assignment=course_measure(course=course, due_on=date(2027, 1, 4)))

    (row,) = OutboxMessage.objects.filter(kind=FORM_READY_KIND)
    assert row.not_before == NOW + timedelta(hours=3)


def test_no_form_email_without_a_portal_login_or_outside_a_course():
    no_login = course_of(client_named("Ada", "Vance"))
    by_hand = course_measure(course=course_of(beth()), due_on=date(2027, 1, 12))
    by_hand.course = None
    by_hand.save()

    assert (
        measures_due_emails_plan(
            assignment=course_measure(course=no_login, due_on=date(2027, 1, 12))
        )
        is False
    )
    assert measures_due_emails_plan(assignment=by_hand) is False
    assert not OutboxMessage.objects.filter(kind=FORM_READY_KIND).exists()


@pytest.mark.parametrize("outcome", [ScreeningStatus.COMPLETED, ScreeningStatus.WITHDRAWN])
def test_a_form_email_is_voided_when_the_form_was_dealt_with_first(outcome, mailoutbox):
    course = course_of(beth())
    measure = course_measure(course=course, due_on=date(2027, 1, 12))
    measures_due_emails_plan(assignment=measure)
    measure.status = outcome
    measure.save()

    with time_machine.travel(datetime(2027, 1, 12, 16, 0, tzinfo=UTC), tick=False):
        report = outbox_send_due()

    assert (report.sent, report.voided) == (0, 1)
    assert mailoutbox == []


def test_a_form_email_names_no_questionnaire(mailoutbox):
    course = course_of(beth())
    measures_due_emails_plan(
        assignment=course_measure(course=course, due_on=date(2027, 1, 12), instrument="epds")
    )

    with time_machine.travel(datetime(2027, 1, 12, 16, 0, tzinfo=UTC), tick=False):
        assert outbox_send_due().sent == 1

    (email,) = mailoutbox
    assert email.to == [BETH_EMAIL]
    assert email.subject == "A short form is ready in your portal"
    assert "Hello Beth," in email.body
    assert "http://localhost:8000/portal/" in email.body
    for part in (email.subject, email.body, str(email.alternatives[0][0])):
        assert discretion_words_in(part) == []
        assert discretion_words_in(part, words=("epds", "edinburgh", "questionnaire")) == []
