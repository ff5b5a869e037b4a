"""Every clinical column is encrypted, rotation moves every row to a new key, searches skip them."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.contrib import admin
from django.core.management import call_command
from django.db import connection, models

from kap_sessions.models import CoursePhaseChange, NoteAddendum
from practice.encryption import (
    EncryptedTextField,
    UnreadableCiphertext,
    encrypted_columns,
)
from tests.consultations.factories import ConsultationFactory
from tests.factories import CourseFactory, StaffFactory
from tests.kap_sessions.factories import (
    ClientContraindicationFactory,
    EligibilityOverrideFactory,
    IntakeFactory,
    SafetyFlagFactory,
)
from tests.kap_sessions.factories_course import MedicalClearanceFactory
from tests.kap_sessions.factories_documents import (
    GoodFaithEstimateFactory,
    SuperbillFactory,
    adverse_event,
    dosing_record,
)
from tests.kap_sessions.factories_notes import (
    CourseSessionFactory,
    PsychotherapyNoteFactory,
    SessionNoteFactory,
)

pytestmark = pytest.mark.django_db

# Adding a clinical free-text field means adding it here, on purpose.
EXPECTED = {
    "consultations.Consultation": ("reason", "medications", "call_notes", "cancel_reason"),
    "kap_sessions.AdverseEvent": ("description", "action_taken"),
    "kap_sessions.ClientContraindication": ("note",),
    "kap_sessions.Course": ("closing_summary",),
    "kap_sessions.CoursePhaseChange": ("note",),
    "kap_sessions.CourseSession": ("gate_override_reason",),
    "kap_sessions.DosingRecord": ("observations",),
    "kap_sessions.EligibilityOverride": ("note",),
    "kap_sessions.GoodFaithEstimate": ("diagnosis_codes", "notes"),
    "kap_sessions.Intake": (
        "medical_notes",
        "psychiatric_notes",
        "substance_notes",
        "medications",
        "allergies",
        "prior_experience_notes",
        "childcare_plan",
    ),
    "kap_sessions.MedicalClearance": ("note",),
    "kap_sessions.NoteAddendum": ("text",),
    "kap_sessions.PsychotherapyNote": ("text",),
    "kap_sessions.SafetyFlag": ("acknowledgement_note",),
    "kap_sessions.SessionNote": ("presentation", "interventions", "response", "risk", "plan"),
    "kap_sessions.Superbill": ("diagnosis_codes",),
}


def secret(model: type[models.Model], column: str) -> str:
    return f"private words of {model._meta.label} {column}"


def raw(model: type[models.Model], column: str, pk: int) -> str:
    field = model._meta.get_field(column)
    assert isinstance(field, EncryptedTextField)
    table, name = model._meta.db_table, str(field.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(name)} FROM {connection.ops.quote_name(table)} "  # noqa: S608  (model names)
            "WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def one_of_each(practice_profile):  # type: ignore[no-untyped-def]
    """One row of every model with encrypted columns, each column holding its own text."""
    therapist = StaffFactory()
    # Years away from the session factories' days, so no appointment overlaps.
    record = dosing_record(start=datetime(2031, 3, 4, 17, 0, tzinfo=UTC))
    note = SessionNoteFactory()
    rows: list[models.Model] = [
        ConsultationFactory(),
        CourseFactory(),
        CoursePhaseChange.objects.create(course=CourseFactory(), phase="preparation"),
        SuperbillFactory(),
        GoodFaithEstimateFactory(),
        CourseSessionFactory(),
        MedicalClearanceFactory(),
        record,
        adverse_event(record, 30),
        ClientContraindicationFactory(),
        EligibilityOverrideFactory(),
        IntakeFactory(),
        note,
        PsychotherapyNoteFactory(),
        NoteAddendum.objects.create(session_note=note, author=therapist, text="Later."),
        SafetyFlagFactory(),
    ]
    made = {type(row): row.pk for row in rows}
    for model, columns in encrypted_columns().items():
        # update(): the field encrypts the text; save() guards of final records stay out of it.
        model._base_manager.filter(pk=made[model]).update(
            **{column: secret(model, column) for column in columns}
        )
    return made


def test_the_encrypted_columns_are_exactly_the_clinical_ones():
    found = {model._meta.label: columns for model, columns in encrypted_columns().items()}

    assert found == EXPECTED


def test_a_raw_select_shows_ciphertext_in_every_encrypted_column(one_of_each):
    for model, columns in encrypted_columns().items():
        pk = one_of_each[model]
        for column in columns:
            stored = raw(model, column, pk)
            assert stored.startswith("gAAAAA"), (model, column)
            assert "private words" not in stored
        fresh = model._base_manager.get(pk=pk)
        assert [getattr(fresh, column) for column in columns] == [
            secret(model, column) for column in columns
        ]


def test_rotation_moves_every_row_to_the_new_key_and_the_old_key_can_go(settings, one_of_each):
    key_a = settings.FIELD_ENCRYPTION_KEYS[0]
    key_b = Fernet.generate_key().decode()
    before = {
        (model, column): raw(model, column, one_of_each[model])
        for model, columns in encrypted_columns().items()
        for column in columns
    }
    settings.FIELD_ENCRYPTION_KEYS = [key_b, key_a]

    out = StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "1", stdout=out)

    values = sum(len(columns) for columns in EXPECTED.values())
    assert f"Rotated {values} values." in out.getvalue()
    assert "kap_sessions.Intake: 1 rows, 7 values, rotated 7" in out.getvalue()
    for (model, column), token in before.items():
        assert raw(model, column, one_of_each[model]) != token

    settings.FIELD_ENCRYPTION_KEYS = [key_b]
    for model, columns in encrypted_columns().items():
        fresh = model._base_manager.get(pk=one_of_each[model])
        assert [getattr(fresh, column) for column in columns] == [
            secret(model, column) for column in columns
        ]

    settings.FIELD_ENCRYPTION_KEYS = [key_a]
    for model in encrypted_columns():
        with pytest.raises(UnreadableCiphertext):
            model._base_manager.get(pk=one_of_each[model])


def test_rotation_is_idempotent_and_a_dry_run_writes_nothing(settings, one_of_each):
    key_a = settings.FIELD_ENCRYPTION_KEYS[0]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), key_a]
    consultation = next(m for m in one_of_each if m._meta.label == "consultations.Consultation")
    token = raw(consultation, "reason", one_of_each[consultation])

    dry = StringIO()
    call_command("rotate_encryption_keys", "--dry-run", stdout=dry)
    assert "Dry run: would rotate" in dry.getvalue()
    assert "consultations.Consultation: 1 rows, 4 values, would rotate 4" in dry.getvalue()
    assert raw(consultation, "reason", one_of_each[consultation]) == token

    call_command("rotate_encryption_keys", stdout=StringIO())
    rotated = raw(consultation, "reason", one_of_each[consultation])
    again = StringIO()
    call_command("rotate_encryption_keys", stdout=again)

    assert "Rotated 0 values." in again.getvalue()
    assert raw(consultation, "reason", one_of_each[consultation]) == rotated


def test_rotation_names_the_row_it_cannot_open_without_its_text(settings):
    consultation = ConsultationFactory(reason="Her private words.")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(Exception, match=f"consultations.Consultation {consultation.pk}") as error:
        call_command("rotate_encryption_keys", stdout=StringIO())
    assert "private" not in str(error.value)


def test_no_admin_search_field_points_at_encrypted_text():
    offending = []
    for model, model_admin in admin.site._registry.items():
        for search_field in model_admin.search_fields:
            path = search_field.lstrip("^=@").split("__")
            current: type[models.Model] = model
            for part in path:
                try:
                    field = current._meta.get_field(part)
                except Exception:  # noqa: BLE001  (a lookup such as "iexact" ends the path)
                    break
                if isinstance(field, EncryptedTextField):
                    offending.append(f"{model._meta.label}: {search_field}")
                    break
                if field.related_model is None:
                    break
                current = field.related_model

    assert offending == []
