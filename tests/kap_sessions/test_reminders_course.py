"""Extra reminders by kind of appointment (``CALENDAR_REMINDER_EXTRA_OFFSETS``).

The calendar's general mechanism, as the course uses it: a medicine session
gets the practical notes two days ahead besides the 24-hour and 1-hour
reminders every appointment gets; other kinds (a free consultation among
them) keep just those two; an extra reminder neither gives way to a closer
regular one nor makes one give way.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from practice.calendar.reminders import (
    reminder_email,
    reminder_offsets,
    reminder_outbox_kind,
    reminders_pending,
    reminders_plan,
)
from practice.models import AppointmentKind, OutboxMessage
from practice.outbox.services import outbox_send_due
from tests.consultations.factories import ConsultationFactory
from tests.kap_sessions.factories_emails import beth, book_session, course_of
from tests.support.calendar import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("practice_profile", "frozen_now")]

# Friday 8 January 2027, 9:00 AM in Los Angeles.
FRIDAY_NINE = NOW + timedelta(days=4, hours=1)


def planned(appointment) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    return [(r.params["reminder"], r.not_before) for r in reminders_pending(appointment)]


def test_offsets_are_the_regular_ones_plus_the_kind_s_own():
    assert reminder_offsets() == {
        "day_before": timedelta(hours=24),
        "hour_before": timedelta(hours=1),
    }
    assert reminder_offsets(AppointmentKind.DOSING) == {
        "day_before": timedelta(hours=24),
        "hour_before": timedelta(hours=1),
        "two_days_before": timedelta(hours=48),
    }
    assert reminder_offsets(AppointmentKind.CONSULTATION) == reminder_offsets()


def test_a_medicine_session_gets_the_two_day_reminder_and_the_regular_ones():
    session = book_session(course=course_of(beth()), kind=AppointmentKind.DOSING, start=FRIDAY_NINE)

    assert planned(session.appointment) == [
        ("two_days_before", FRIDAY_NINE - timedelta(hours=48)),
        ("day_before", FRIDAY_NINE - timedelta(hours=24)),
        ("hour_before", FRIDAY_NINE - timedelta(hours=1)),
    ]
    assert {r.kind for r in reminders_pending(session.appointment)} == {"reminder.session"}


def test_a_consultation_keeps_its_two_reminders_and_its_kind(settings):
    settings.CALENDAR_REMINDER_EXTRA_OFFSETS = {"dosing": {"two_days_before": 48 * 60}}
    consultation = ConsultationFactory(appointment__start=FRIDAY_NINE)

    assert reminders_plan(appointment=consultation.appointment) == 2
    assert planned(consultation.appointment) == [
        ("day_before", FRIDAY_NINE - timedelta(hours=24)),
        ("hour_before", FRIDAY_NINE - timedelta(hours=1)),
    ]
    assert reminder_outbox_kind(AppointmentKind.CONSULTATION) == "reminder.consultation"


def test_an_extra_offset_set_for_another_kind_applies_to_that_kind_only(settings):
    settings.CALENDAR_REMINDER_EXTRA_OFFSETS = {"integration": {"week_before": 7 * 24 * 60}}
    course = course_of(beth())
    integration = book_session(
        course=course, kind=AppointmentKind.INTEGRATION, start=FRIDAY_NINE + timedelta(days=7)
    )
    dosing = book_session(course=course, kind=AppointmentKind.DOSING, start=FRIDAY_NINE)

    assert [name for name, _ in planned(integration.appointment)] == [
        "week_before",
        "day_before",
        "hour_before",
    ]
    assert [name for name, _ in planned(dosing.appointment)] == ["day_before", "hour_before"]


def test_a_booking_inside_two_days_plans_only_the_reminders_still_ahead():
    start = NOW + timedelta(hours=30)
    session = book_session(course=course_of(beth()), kind=AppointmentKind.DOSING, start=start)

    assert planned(session.appointment) == [
        ("day_before", start - timedelta(hours=24)),
        ("hour_before", start - timedelta(hours=1)),
    ]


def test_an_extra_reminder_due_with_a_closer_regular_one_still_goes_out(mailoutbox):
    # The sender was down from two days before until 30 hours before.
    with time_machine.travel(FRIDAY_NINE - timedelta(days=3), tick=False):
        session = book_session(
            course=course_of(beth()), kind=AppointmentKind.DOSING, start=FRIDAY_NINE
        )

    with time_machine.travel(FRIDAY_NINE - timedelta(hours=23), tick=False):
        report = outbox_send_due()

    assert (report.sent, report.voided) == (2, 0)
    sent = OutboxMessage.objects.filter(status="sent").order_by("not_before")
    assert [r.params["reminder"] for r in sent] == ["two_days_before", "day_before"]
    assert [m.subject for m in mailoutbox] == [
        "Getting ready for your appointment on Fri, Jan 8",
        "Your appointment tomorrow at 9:00 AM",
    ]
    assert planned(session.appointment) == [("hour_before", FRIDAY_NINE - timedelta(hours=1))]


def test_of_two_regular_reminders_due_together_only_the_closer_goes_out(mailoutbox):
    with time_machine.travel(FRIDAY_NINE - timedelta(days=3), tick=False):
        book_session(course=course_of(beth()), kind=AppointmentKind.DOSING, start=FRIDAY_NINE)

    with time_machine.travel(FRIDAY_NINE - timedelta(minutes=30), tick=False):
        report = outbox_send_due()

    assert (report.sent, report.voided) == (2, 1)
    assert [m.subject for m in mailoutbox] == [
        "Getting ready for your appointment on Fri, Jan 8",
        "Your appointment today at 9:00 AM",
    ]
    (voided,) = OutboxMessage.objects.filter(status="voided")
    assert voided.params["reminder"] == "day_before"


def test_a_reminder_kind_is_registered_once_per_appointment_kind():
    with pytest.raises(ValueError, match="has a reminder builder already"):
        reminder_email(AppointmentKind.DOSING, name="reminder.other")(lambda **kwargs: None)
    with pytest.raises(ValueError, match="starts with"):
        reminder_email(AppointmentKind.BLOCKED, name="blocked")(lambda **kwargs: None)
