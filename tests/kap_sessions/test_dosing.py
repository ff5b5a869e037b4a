"""The record of a medicine session through its services (kap_sessions/services/dosing.py).

Amara's second medicine session is booked for Tuesday 5 January 2027, 9:00 to
12:30 in Los Angeles; "now" is 10:30 that morning, the session started at 9:05.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from kap_sessions.models import CourseSession, CourseSettings, DosingRecord, VitalSign
from kap_sessions.services import (
    adverse_event_record,
    discharge_missing,
    dosing_discharge,
    dosing_record_update,
    presence_flag,
    vital_readings,
    vital_sign_record,
)
from practice.models import Appointment, AppointmentKind, AuditEvent
from tests.kap_sessions.factories_dosing import medicine_session, vitals_row

START = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)  # 9:00 AM in Los Angeles
STARTED = START + timedelta(minutes=5)
NOW = datetime(2027, 1, 5, 18, 30, tzinfo=UTC)  # 10:30 AM
LATER = datetime(2027, 1, 5, 20, 40, tzinfo=UTC)  # 12:40 PM


@pytest.fixture
def on_the_day():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def record(practice_profile, on_the_day) -> DosingRecord:  # type: ignore[no-untyped-def]
    return medicine_session(start=START, started_at=STARTED)


def _audit_lines(action: str, model: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=action, object_type=f"kap_sessions.{model}").order_by("id")
    )


# --- Vitals, once per entry key ---------------------------------------------------------


def test_a_row_of_vitals_is_stored_with_who_typed_it_and_one_audit_line(record, therapist):
    key = uuid.uuid4()

    vital = vital_sign_record(
        record=record,
        entry_key=key,
        taken_at=NOW,
        systolic=128,
        diastolic=84,
        heart_rate=76,
        spo2=97,
        actor=therapist,
    )

    stored = VitalSign.objects.get()
    assert (stored.pk, stored.entry_key, stored.taken_at) == (vital.pk, key, NOW)
    assert (stored.systolic, stored.diastolic, stored.heart_rate, stored.spo2) == (128, 84, 76, 97)
    assert stored.recorded_by == therapist
    [line] = _audit_lines(AuditEvent.Action.CREATE, "vitalsign")
    assert (line.actor_id, line.client_id, line.object_id) == (
        therapist.pk,
        record.session.course.client.pk,
        str(vital.pk),
    )


def test_a_row_sent_again_is_the_stored_row_not_a_second_one(record, therapist):
    key = uuid.uuid4()
    first = vital_sign_record(
        record=record, entry_key=key, taken_at=NOW, systolic=128, actor=therapist
    )

    again = vital_sign_record(
        record=record,
        entry_key=key,
        taken_at=NOW + timedelta(minutes=3),
        systolic=131,
        actor=therapist,
    )

    assert again.pk == first.pk
    assert (again.systolic, again.taken_at) == (128, NOW)
    assert VitalSign.objects.count() == 1
    assert len(_audit_lines(AuditEvent.Action.CREATE, "vitalsign")) == 1


def test_the_same_entry_key_on_another_record_is_another_row(record, practice_profile):
    other = medicine_session(start=START + timedelta(days=14), started=True)
    key = uuid.uuid4()

    mine = vital_sign_record(record=record, entry_key=key, taken_at=NOW, heart_rate=70)
    hers = vital_sign_record(record=other, entry_key=key, taken_at=NOW, heart_rate=90)

    assert mine.pk != hers.pk
    assert VitalSign.objects.filter(entry_key=key).count() == 2


def test_a_row_without_any_reading_is_refused(record):
    with pytest.raises(ValidationError) as refused:
        vital_sign_record(record=record, entry_key=uuid.uuid4(), taken_at=NOW)

    assert refused.value.messages == ["Enter at least one reading."]
    assert VitalSign.objects.count() == 0


def test_a_reading_no_person_can_have_is_refused_by_field(record):
    with pytest.raises(ValidationError) as refused:
        vital_sign_record(record=record, entry_key=uuid.uuid4(), taken_at=NOW, spo2=120)

    assert list(refused.value.message_dict) == ["spo2"]
    assert VitalSign.objects.count() == 0


def test_vitals_wait_for_the_start(practice_profile, on_the_day):
    not_started = medicine_session(start=START)

    with pytest.raises(ValidationError) as refused:
        vital_sign_record(record=not_started, entry_key=uuid.uuid4(), taken_at=NOW, systolic=120)

    assert refused.value.messages == ["Start the session before entering vitals."]


def test_out_of_range_readings_are_stored_and_marked_high_or_low(record):
    vital = vital_sign_record(
        record=record,
        entry_key=uuid.uuid4(),
        taken_at=NOW,
        systolic=172,
        diastolic=78,
        heart_rate=44,
        spo2=91,
    )

    readings = vital_readings(vital, CourseSettings.current())

    assert [(r.name, r.value, r.out_of_range) for r in readings] == [
        ("systolic", 172, "high"),
        ("diastolic", 78, ""),
        ("heart_rate", 44, "low"),
        ("spo2", 91, "low"),
    ]


def test_the_ranges_are_the_practice_settings(record):
    vital = vitals_row(record, systolic=150)
    settings = CourseSettings.current()
    settings.systolic_high = 145
    settings.save()

    readings = vital_readings(vital, CourseSettings.current())

    assert readings[0].out_of_range == "high"


@pytest.mark.django_db(transaction=True)
def test_sends_of_one_row_at_once_store_it_once(practice_profile):
    """The tablet and a reload, or two tabs, send the same row at the same moment."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    record = medicine_session(start=START, started_at=STARTED)
    key = uuid.uuid4()
    senders = 4
    barrier = threading.Barrier(senders)
    stored: list[int] = []
    failures: list[BaseException] = []

    def send(systolic: int) -> None:
        try:
            mine = DosingRecord.objects.select_related("session__course__client").get(pk=record.pk)
            barrier.wait(timeout=10)
            stored.append(
                vital_sign_record(record=mine, entry_key=key, taken_at=NOW, systolic=systolic).pk
            )
        except BaseException as exc:  # noqa: BLE001 (reported below, in the test's thread)
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(120 + n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert failures == []
    assert VitalSign.objects.count() == 1
    assert stored == [VitalSign.objects.get().pk] * senders


@pytest.mark.django_db(transaction=True)
def test_a_send_that_loses_the_race_answers_with_the_winners_row(practice_profile):
    """The loser passed the first read before the winner committed: the unique index settles it."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    record = medicine_session(start=START, started_at=STARTED)
    key = uuid.uuid4()
    inserted, release = threading.Event(), threading.Event()
    answered: list[VitalSign] = []
    failures: list[BaseException] = []

    def winner() -> None:
        try:
            with transaction.atomic():
                VitalSign.objects.create(record_id=record.pk, entry_key=key, taken_at=NOW, spo2=97)
                inserted.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def loser() -> None:
        try:
            mine = DosingRecord.objects.select_related("session__course__client").get(pk=record.pk)
            answered.append(vital_sign_record(record=mine, entry_key=key, taken_at=NOW, spo2=95))
        except BaseException as exc:  # noqa: BLE001 (reported below, in the test's thread)
            failures.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=winner)
    first.start()
    assert inserted.wait(timeout=10)
    second = threading.Thread(target=loser)
    second.start()
    second.join(timeout=1)
    waiting_on_the_winner = second.is_alive()
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert waiting_on_the_winner
    assert failures == []
    assert [vital.spo2 for vital in answered] == [97]
    assert VitalSign.objects.count() == 1


# --- What was given, observations, presence -----------------------------------------------


def test_the_medication_form_changes_only_its_fields_with_one_audit_line(record, therapist):
    record.observations = "Calm, eyes closed."
    record.save()
    given = STARTED + timedelta(minutes=10)

    updated = dosing_record_update(
        record=record,
        medication="Ketamine",
        route=DosingRecord.Route.SUBLINGUAL,
        dose_mg=Decimal("150.0"),
        lot_number="KX-4471",
        given_at=given,
        prescriber="Dr. Ana Whitcombe, MD",
        actor=therapist,
    )

    record.refresh_from_db()
    assert (record.route, record.dose_mg, record.lot_number, record.given_at) == (
        "sublingual",
        Decimal("150.0"),
        "KX-4471",
        given,
    )
    assert record.prescriber == "Dr. Ana Whitcombe, MD"
    assert record.observations == "Calm, eyes closed."
    assert updated.pk == record.pk
    [line] = _audit_lines(AuditEvent.Action.CHANGE, "dosingrecord")
    assert (line.actor_id, line.client_id) == (therapist.pk, record.session.course.client.pk)


def test_an_update_that_changes_nothing_writes_no_audit_line(record, therapist):
    dosing_record_update(record=record, observations="", actor=therapist)

    assert _audit_lines(AuditEvent.Action.CHANGE, "dosingrecord") == []


def test_observations_are_kept_encrypted(record, therapist):
    dosing_record_update(record=record, observations="Tearful at 9:40, settled.", actor=therapist)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT observations FROM kap_sessions_dosingrecord WHERE id = %s", [record.pk]
        )
        [stored] = cursor.fetchone()
    record.refresh_from_db()
    assert record.observations == "Tearful at 9:40, settled."
    assert "Tearful" not in stored


def test_a_dose_of_zero_is_refused(record):
    with pytest.raises(ValidationError) as refused:
        dosing_record_update(record=record, dose_mg=Decimal("0"))

    assert list(refused.value.message_dict) == ["dose_mg"]
    record.refresh_from_db()
    assert record.dose_mg is None


def test_a_presence_that_ends_before_it_starts_is_refused(record):
    with pytest.raises(ValidationError) as refused:
        dosing_record_update(record=record, present_until=STARTED - timedelta(minutes=1))

    assert refused.value.message_dict == {
        "present_until": ["Your presence must end after it starts."]
    }


# --- Adverse events -------------------------------------------------------------------------


def test_an_adverse_event_is_recorded_and_audited(record, therapist):
    event = adverse_event_record(
        record=record,
        at=NOW,
        severity="moderate",
        description="Nausea, vomited once.",
        action_taken="Ondansetron given per protocol.",
        actor=therapist,
    )

    [stored] = record.adverse_events.all()
    assert (stored.pk, stored.at, stored.severity) == (event.pk, NOW, "moderate")
    assert stored.description == "Nausea, vomited once."
    assert stored.recorded_by == therapist
    assert len(_audit_lines(AuditEvent.Action.CREATE, "adverseevent")) == 1


def test_an_adverse_event_needs_what_happened_and_a_known_severity(record):
    with pytest.raises(ValidationError) as no_words:
        adverse_event_record(record=record, at=NOW, severity="mild", description="  ")
    with pytest.raises(ValidationError) as unknown:
        adverse_event_record(record=record, at=NOW, severity="awful", description="Dizzy.")

    assert no_words.value.message_dict == {"description": ["Say what happened."]}
    assert list(unknown.value.message_dict) == ["severity"]
    assert record.adverse_events.count() == 0


# --- Discharge ---------------------------------------------------------------------------


def test_the_checklist_names_what_is_missing_in_order():
    assert discharge_missing(
        alert_and_oriented=True, steady_on_feet=False, driver_present=False
    ) == ["steady on her feet", "driver present"]


def test_discharge_is_refused_with_an_incomplete_checklist(record, therapist):
    with pytest.raises(ValidationError) as refused:
        dosing_discharge(
            record=record,
            alert_and_oriented=True,
            steady_on_feet=False,
            driver_present=False,
            actor=therapist,
        )

    assert refused.value.messages == ["Before she leaves: steady on her feet, driver present."]
    record.refresh_from_db()
    assert record.discharged_at is None
    assert record.session.appointment.status == Appointment.Status.BOOKED


def test_discharge_waits_for_the_start(practice_profile, on_the_day):
    not_started = medicine_session(start=START)

    with pytest.raises(ValidationError) as refused:
        dosing_discharge(
            record=not_started, alert_and_oriented=True, steady_on_feet=True, driver_present=True
        )

    assert refused.value.messages == ["The session has not started yet."]


def test_a_discharge_time_before_the_start_is_refused(record):
    with pytest.raises(ValidationError) as refused:
        dosing_discharge(
            record=record,
            alert_and_oriented=True,
            steady_on_feet=True,
            driver_present=True,
            discharged_at=START,
        )

    assert refused.value.message_dict == {
        "discharged_at": ["Discharge must come after the start at 9:05 AM."]
    }


@pytest.mark.usefixtures("weekly_hours")
def test_discharge_completes_the_session_books_the_check_in_and_proposes_integration(
    practice_profile, therapist
):
    with time_machine.travel(LATER, tick=False):
        record = medicine_session(start=START, started_at=STARTED)

        completed = dosing_discharge(
            record=record,
            alert_and_oriented=True,
            steady_on_feet=True,
            driver_present=True,
            actor=therapist,
        )

    record.refresh_from_db()
    assert (record.alert_and_oriented, record.steady_on_feet, record.driver_present) == (
        True,
        True,
        True,
    )
    assert record.discharged_at == LATER
    assert record.present_until == LATER  # she was there to discharge her
    assert record.session.appointment.status == Appointment.Status.COMPLETED
    check_in = CourseSession.objects.get(kind=AppointmentKind.CHECK_IN)
    assert completed.check_in == check_in
    assert check_in.appointment.start == START + timedelta(days=1)  # 9:00 AM the next day
    assert completed.integration_proposal is not None
    assert (
        LATER
        <= completed.integration_proposal
        <= record.session.appointment.end + timedelta(hours=72)
    )
    assert presence_flag(record) is None
    [line] = _audit_lines(AuditEvent.Action.CHANGE, "dosingrecord")
    assert line.actor_id == therapist.pk


def test_a_second_discharge_is_refused_and_changes_nothing(practice_profile, therapist):
    with time_machine.travel(LATER, tick=False):
        record = medicine_session(start=START, started_at=STARTED)
        dosing_discharge(
            record=record, alert_and_oriented=True, steady_on_feet=True, driver_present=True
        )

        with pytest.raises(ValidationError) as refused:
            dosing_discharge(
                record=record, alert_and_oriented=True, steady_on_feet=True, driver_present=True
            )

    assert refused.value.messages == ["She was discharged at 12:40 PM."]
    assert CourseSession.objects.filter(kind=AppointmentKind.CHECK_IN).count() == 1


# --- The presence flag ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("present_from", "present_until", "discharged_at", "flag"),
    [
        (STARTED, None, None, None),
        (STARTED, LATER, LATER, None),
        (STARTED - timedelta(minutes=10), LATER + timedelta(minutes=5), LATER, None),
        (
            STARTED + timedelta(minutes=20),
            LATER,
            LATER,
            "Your presence starts at 9:25 AM, after the session started at 9:05 AM.",
        ),
        (
            STARTED,
            LATER - timedelta(minutes=30),
            LATER,
            "Your presence ends at 12:10 PM, before her discharge at 12:40 PM.",
        ),
        (
            STARTED,
            NOW,
            None,
            "Your presence ends at 10:30 AM, and she is not discharged yet.",
        ),
        (None, None, None, "Your presence is not recorded."),
    ],
    ids=[
        "under-way",
        "start-to-discharge",
        "longer",
        "late",
        "left-early",
        "left-before-discharge",
        "not-recorded",
    ],
)
def test_a_presence_shorter_than_the_session_is_flagged(
    record, present_from, present_until, discharged_at, flag
):
    record.present_from = present_from
    record.present_until = present_until
    if discharged_at is not None:
        record.alert_and_oriented = record.steady_on_feet = record.driver_present = True
    record.discharged_at = discharged_at
    record.save()

    assert presence_flag(record) == flag


def test_no_presence_flag_before_the_start(practice_profile, on_the_day):
    assert presence_flag(medicine_session(start=START)) is None
