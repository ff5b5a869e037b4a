"""The calendar files in a real CalDAV server (Radicale, built on vobject).

A calendar app that receives the invitation stores its event on her calendar
server; these tests do the same and ask the server where it put the call.
Radicale read only the first value of a generated VTIMEZONE's RDATE lists and
placed a Sydney visitor's call an hour late; the files are now written in UTC.

Pure Python and started per test, so it runs everywhere, CI included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from consultations.ics import CalendarFile, consultation_ics, therapist_ics
from consultations.models import Consultation
from practice.models import Appointment
from tests.consultations.factories import ConsultationFactory
from tests.factories import AppointmentFactory
from tests.support.caldav import Radicale

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("practice_profile")]

LENGTH = timedelta(minutes=20)
# Wide enough to hold every time below.
WINDOW = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC))

# Booked in Sydney's summer time and moved past its end (4 April 2027), and
# in New York's winter time and moved past the start of its summer time
# (14 March 2027): each pair straddles a change of offset in her zone.
ACROSS_A_CHANGE = [
    pytest.param(
        "Australia/Sydney",
        datetime(2027, 1, 5, 17, 0, tzinfo=UTC),  # Wed 6 Jan, 4:00 AM there (UTC+11)
        datetime(2027, 4, 6, 16, 0, tzinfo=UTC),  # Wed 7 Apr, 2:00 AM there (UTC+10)
        id="sydney",
    ),
    pytest.param(
        "America/New_York",
        datetime(2027, 3, 12, 17, 0, tzinfo=UTC),  # Fri 12 Mar, 12:00 PM there (UTC-5)
        datetime(2027, 3, 16, 16, 0, tzinfo=UTC),  # Tue 16 Mar, 12:00 PM there (UTC-4)
        id="new-york",
    ),
]


@pytest.fixture
def radicale(tmp_path) -> Iterator[Radicale]:  # type: ignore[no-untyped-def]
    server = Radicale(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def calendar(radicale: Radicale) -> str:
    return radicale.make_calendar("calls")


def store(radicale: Radicale, calendar: str, name: str, file: CalendarFile) -> int:
    """PUT the file as a calendar app stores the event it received; the HTTP status.

    An object on a CalDAV server carries no iTIP METHOD (RFC 4791 section
    4.1), so that line goes; the rest is sent as it was attached.
    """
    stored, count = re.subn(rb"METHOD:[A-Z]+\r\n", b"", file.content)
    assert count == 1
    return radicale.put(calendar, name, stored)


def booked(time_zone: str, start: datetime) -> Consultation:
    return ConsultationFactory(
        time_zone=time_zone, appointment__start=start, appointment__end=start + LENGTH
    )


def moved(consultation: Consultation, start: datetime) -> Consultation:
    """What ``consultation_reschedule`` leaves: a new appointment, the sequence grown."""
    consultation.appointment.status = Appointment.Status.CANCELLED
    consultation.appointment.save(update_fields=["status"])
    consultation.appointment = AppointmentFactory(
        start=start, end=start + LENGTH, mode=consultation.meeting_mode
    )
    consultation.sequence += 1
    consultation.save(update_fields=["appointment", "sequence"])
    return consultation


def cancelled(consultation: Consultation) -> Consultation:
    """What ``consultation_transition(to="cancelled")`` leaves."""
    consultation.appointment.status = Appointment.Status.CANCELLED
    consultation.appointment.save(update_fields=["status"])
    consultation.sequence += 1
    consultation.save(update_fields=["sequence"])
    return consultation


@pytest.mark.parametrize(("time_zone", "first", "then"), ACROSS_A_CHANGE)
def test_a_caldav_server_places_her_call_at_the_booked_instant_across_a_clock_change(
    radicale, calendar, time_zone, first, then
):
    consultation = booked(time_zone, first)

    assert store(radicale, calendar, "call.ics", consultation_ics(consultation)) == 201
    assert radicale.busy(calendar, *WINDOW) == [(first, first + LENGTH)]

    moved(consultation, then)
    assert store(radicale, calendar, "call.ics", consultation_ics(consultation)) == 204
    assert radicale.busy(calendar, *WINDOW) == [(then, then + LENGTH)]
    # The server's own copy, read back, starts at the same instant.
    event = radicale.get(calendar, "call.ics").walk("VEVENT")[0]
    assert event.decoded("dtstart") == then
    assert int(event["sequence"]) == 1


@pytest.mark.parametrize(("time_zone", "first", "then"), ACROSS_A_CHANGE)
def test_a_caldav_server_finds_her_call_only_in_its_own_hour(
    radicale, calendar, time_zone, first, then
):
    store(radicale, calendar, "call.ics", consultation_ics(booked(time_zone, then)))

    assert radicale.standing_events(calendar, then, then + timedelta(minutes=1)) == [
        f"{calendar}call.ics"
    ]
    hour = timedelta(hours=1)
    assert radicale.standing_events(calendar, then + hour, then + 2 * hour) == []
    assert radicale.standing_events(calendar, then - hour, then) == []


def test_a_cancellation_file_frees_her_time_in_a_caldav_server(radicale, calendar):
    start = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)
    consultation = booked("Australia/Sydney", start)
    store(radicale, calendar, "call.ics", consultation_ics(consultation))
    assert radicale.standing_events(calendar, *WINDOW) == [f"{calendar}call.ics"]

    cancelled(consultation)
    replaced = store(radicale, calendar, "call.ics", consultation_ics(consultation, cancelled=True))

    assert replaced == 204
    assert radicale.busy(calendar, *WINDOW) == []
    assert radicale.standing_events(calendar, *WINDOW) == []


def test_the_therapist_s_event_and_hers_are_two_events_in_one_calendar(radicale, calendar):
    start = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)
    consultation = booked("America/New_York", start)

    assert store(radicale, calendar, "hers.ics", consultation_ics(consultation)) == 201
    assert store(radicale, calendar, "practice.ics", therapist_ics(consultation)) == 201
    assert radicale.standing_events(calendar, *WINDOW) == [
        f"{calendar}hers.ics",
        f"{calendar}practice.ics",
    ]

    cancelled(consultation)
    store(radicale, calendar, "practice.ics", therapist_ics(consultation))

    assert radicale.standing_events(calendar, *WINDOW) == [f"{calendar}hers.ics"]
    assert radicale.busy(calendar, *WINDOW) == [(start, start + LENGTH)]
