"""Retention (practice/privacy.py): what is purged, when, and what stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from consultations.models import Consultation
from kap_sessions.models import Course, DosingRecord, PsychotherapyNote, SessionNote
from practice.audit import audit_verify
from practice.models import Appointment, AuditEvent, Client, ClientDocument, User
from practice.privacy import retention_purge
from practice.private_files import private_file_path
from tests.consultations.factories import ConsultationFactory
from tests.factories import AppointmentFactory, UserFactory
from tests.kap_sessions.factories_documents import FIRST_DAY
from tests.practice.factories_privacy import whole_record

pytestmark = pytest.mark.django_db(transaction=False)

BUILT = datetime(2027, 2, 1, 17, 0, tzinfo=UTC)
# Her course closed on April 14, 2027; seven years on, and a day.
PAST_RETENTION = datetime(2034, 4, 16, 17, 0, tzinfo=UTC)
BEFORE_RETENTION = datetime(2034, 4, 10, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"


def closed_record(**fields):  # type: ignore[no-untyped-def]
    with time_machine.travel(BUILT, tick=False):
        her = whole_record(**fields)
        her.client.user = UserFactory(email=f"{her.client.first_name.lower()}@example.com")
        her.client.status = Client.Status.DISCHARGED
        her.client.save()
    return her


def test_a_closed_record_past_retention_is_purged_with_everything_hanging_off_it(
    practice_profile, django_capture_on_commit_callbacks
):
    her = closed_record()
    path = private_file_path(her.document)
    user_id = her.client.user_id
    viewed = AuditEvent.objects.filter(client_id=her.client.pk).count()

    with (
        time_machine.travel(PAST_RETENTION, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        report = retention_purge()

    assert report.client_ids == [her.client.pk]
    assert not Client.objects.filter(pk=her.client.pk).exists()
    assert not User.objects.filter(pk=user_id).exists()
    assert Course.objects.count() == 0
    assert SessionNote.objects.count() == 0
    assert PsychotherapyNote.objects.count() == 0
    assert DosingRecord.objects.count() == 0
    assert Appointment.objects.count() == 0
    assert Consultation.objects.count() == 0
    assert ClientDocument.objects.count() == 0
    assert not path.exists()
    # Her audit lines stay, with one more saying the record was deleted.
    kept = AuditEvent.objects.filter(client_id=her.client.pk)
    assert kept.count() == viewed + 1
    assert kept.filter(action=AuditEvent.Action.DELETE, object_type="practice.client").count() == 1
    check = audit_verify()
    assert check.ok, check.problem


def test_a_record_inside_retention_is_kept(practice_profile):
    her = closed_record()

    with time_machine.travel(BEFORE_RETENTION, tick=False):
        report = retention_purge()

    assert report.client_ids == []
    assert Client.objects.filter(pk=her.client.pk).exists()


def test_only_the_expired_record_goes_and_newer_ones_stay(practice_profile):
    expired = closed_record()
    later = closed_record(
        first_name="Beth", last_name="Lindqvist", first_day=FIRST_DAY + timedelta(days=60)
    )
    # Beth came back for one more appointment in 2030: her seven years start again.
    AppointmentFactory(client=later.client, start=datetime(2030, 1, 8, 17, 0, tzinfo=UTC))
    with time_machine.travel(BUILT, tick=False):
        active = whole_record(
            first_name="Cleo", last_name="Park", first_day=FIRST_DAY + timedelta(days=120)
        )

    with time_machine.travel(PAST_RETENTION, tick=False):
        report = retention_purge()

    assert report.client_ids == [expired.client.pk]
    assert set(Client.objects.values_list("pk", flat=True)) == {later.client.pk, active.client.pk}
    assert set(Course.objects.values_list("client_id", flat=True)) == {
        later.client.pk,
        active.client.pk,
    }
    assert audit_verify().ok


def test_an_open_course_keeps_the_record(practice_profile):
    her = closed_record()
    Course.objects.create(client=her.client, phase="preparation")

    with time_machine.travel(PAST_RETENTION, tick=False):
        report = retention_purge()

    assert report.client_ids == []


def test_a_dry_run_deletes_nothing(practice_profile, capsys):
    her = closed_record()
    path = private_file_path(her.document)

    with time_machine.travel(PAST_RETENTION, tick=False):
        call_command("purge_expired", "--dry-run")

    out = capsys.readouterr().out
    assert f"Would purge 1 client record(s): #{her.client.pk}" in out
    assert Client.objects.filter(pk=her.client.pk).exists()
    assert Course.objects.count() == 1
    assert path.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DELETE).exists()


def test_the_command_purges_and_says_what(practice_profile, capsys):
    her = closed_record()

    with time_machine.travel(PAST_RETENTION, tick=False):
        call_command("purge_expired")

    out = capsys.readouterr().out
    assert f"Purged 1 client record(s): #{her.client.pk}" in out
    assert her.client.email not in out
    assert not Client.objects.filter(pk=her.client.pk).exists()


def test_unconverted_consultation_requests_are_purged_after_the_configured_months(
    practice_profile, settings
):
    settings.CONSULTATION_RETENTION_MONTHS = 12
    with time_machine.travel(datetime(2027, 1, 2, tzinfo=UTC), tick=False):
        old = ConsultationFactory(
            appointment=AppointmentFactory(start=datetime(2027, 1, 5, 17, tzinfo=UTC))
        )
    with time_machine.travel(datetime(2027, 6, 1, tzinfo=UTC), tick=False):
        newer = ConsultationFactory(
            appointment=AppointmentFactory(start=datetime(2027, 6, 8, 17, tzinfo=UTC))
        )
    old_appointment = old.appointment_id

    with time_machine.travel(datetime(2028, 1, 10, tzinfo=UTC), tick=False):
        dry = retention_purge(dry_run=True)
        report = retention_purge()

    assert dry.deleted == {"practice.client": 0, "consultations.Consultation": 1}
    assert report.deleted["consultations.Consultation"] == 1
    assert list(Consultation.objects.all()) == [newer]
    assert not Appointment.objects.filter(pk=old_appointment).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
    assert (event.object_type, event.object_id) == ("consultations.consultation", str(old.pk))
    assert old.email not in event.object_repr
    assert audit_verify().ok


def test_beat_runs_the_purge_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["practice-purge-expired"]

    assert entry == {"task": "practice.purge_expired", "schedule": 24 * 3600.0}
