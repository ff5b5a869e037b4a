"""What the preparation records guarantee by themselves, before any service runs."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction

from kap_sessions.models import (
    OPTIONAL_CONSENT_KINDS,
    SECTIONS,
    BloodPressure,
    ClientContraindication,
    ConsentDocument,
    ConsentKind,
    ConsentSignature,
    Contraindication,
    ContraindicationOutcome,
    EligibilityOverride,
    EligibilityStatus,
    Intake,
    IntakeRule,
    Pregnancy,
    RecordIsFinal,
    SafetyFlag,
    ScreeningAnswer,
    ScreeningAssignment,
    ScreeningResponse,
    ScreeningStatus,
    SubstanceUse,
)
from practice.encryption import EncryptedTextField
from practice.models import Client
from practice.transitions import InvalidTransition, transitions_complete
from tests.factories import ClientDocumentFactory, ClientFactory, CourseFactory, StaffFactory
from tests.kap_sessions.factories import (
    ClientContraindicationFactory,
    ConsentDocumentFactory,
    ConsentSignatureFactory,
    ContraindicationFactory,
    EligibilityOverrideFactory,
    IntakeFactory,
    SafetyFlagFactory,
    ScreeningAnswerFactory,
    ScreeningAssignmentFactory,
    ScreeningResponseFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)
PREPARATION_MODELS = (
    Intake,
    ScreeningAssignment,
    ScreeningResponse,
    ScreeningAnswer,
    SafetyFlag,
    Contraindication,
    ClientContraindication,
    EligibilityOverride,
    ConsentDocument,
    ConsentSignature,
)


def assert_refused(instance: models.Model, *, constraint: str, message: str | None) -> None:
    """Django's check gives the friendly message; the database refuses the row by name."""
    with pytest.raises(ValidationError) as checked:
        instance.validate_constraints()
    if message is not None:
        assert checked.value.messages == [message]
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        instance.save()
    if connection.vendor == "postgresql":  # SQLite names only CHECK constraints
        assert constraint in str(refused.value)


# --- Every named constraint trips -----------------------------------------------


def _intake_on_an_unknown_section() -> models.Model:
    return IntakeFactory.build(client=ClientFactory(), current_section="astrology")


def _intake_submitted_before_it_started() -> models.Model:
    return IntakeFactory.build(
        client=ClientFactory(), started_at=NOW, submitted_at=NOW - timedelta(minutes=1)
    )


def _assignment_of_an_unknown_instrument() -> models.Model:
    return ScreeningAssignmentFactory.build(client=ClientFactory(), instrument="bdi-ii")


def _second_measure_of_an_occasion() -> models.Model:
    first = ScreeningAssignmentFactory(course=CourseFactory(), occasion="baseline")
    return ScreeningAssignmentFactory.build(
        client=first.client, course=first.course, instrument=first.instrument, occasion="baseline"
    )


def _response_of_an_unknown_instrument() -> models.Model:
    assignment = ScreeningAssignmentFactory(status=ScreeningStatus.COMPLETED)
    return ScreeningResponseFactory.build(
        assignment=assignment, client=assignment.client, instrument="bdi-ii", version="BDI-II"
    )


def _second_answer_to_an_item() -> models.Model:
    first = ScreeningAnswerFactory(item_number=9)
    return ScreeningAnswerFactory.build(response=first.response, item_number=9)


def _answer_to_item_zero() -> models.Model:
    return ScreeningAnswerFactory.build(response=ScreeningResponseFactory(), item_number=0)


def _flag_acknowledged_by_nobody() -> models.Model:
    return SafetyFlagFactory.build(
        client=ClientFactory(), status=SafetyFlag.Status.ACKNOWLEDGED, acknowledged_at=NOW
    )


def _intake_flag_naming_a_response() -> models.Model:
    response = ScreeningResponseFactory()
    return SafetyFlagFactory.build(client=response.client, screening_response=response)


def _second_flag_for_a_response() -> models.Model:
    response = ScreeningResponseFactory()
    SafetyFlagFactory(client=response.client, source="phq-9", screening_response=response)
    return SafetyFlagFactory.build(
        client=response.client, source="phq-9", screening_response=response
    )


def _second_open_intake_flag() -> models.Model:
    first = SafetyFlagFactory()
    return SafetyFlagFactory.build(client=first.client)


def _second_contraindication_for_a_rule() -> models.Model:
    rule = IntakeRule.SEIZURES
    if not Contraindication.objects.filter(intake_rule=rule).exists():
        ContraindicationFactory(intake_rule=rule)
    return ContraindicationFactory.build(intake_rule=rule)


def _contraindication_that_makes_her_eligible() -> models.Model:
    return ContraindicationFactory.build(outcome=EligibilityStatus.ELIGIBLE)


def _contraindication_marked_twice() -> models.Model:
    first = ClientContraindicationFactory()
    return ClientContraindicationFactory.build(
        client=first.client, contraindication=first.contraindication, noted_by=first.noted_by
    )


def _override_to_an_unknown_status() -> models.Model:
    return EligibilityOverrideFactory.build(
        client=ClientFactory(), decided_by=StaffFactory(), status="maybe"
    )


def _second_copy_of_a_version() -> models.Model:
    first = ConsentDocumentFactory()
    return ConsentDocumentFactory.build(kind=first.kind, version=first.version)


def _version_zero() -> models.Model:
    return ConsentDocumentFactory.build(version=0)


def _document_of_an_unknown_kind() -> models.Model:
    return ConsentDocumentFactory.build(kind="waiver")


def _published_document_without_text() -> models.Model:
    return ConsentDocumentFactory.build(body="")


def _second_signature_on_a_version() -> models.Model:
    first = ConsentSignatureFactory()
    return ConsentSignatureFactory.build(client=first.client, document=first.document)


def _signature_without_a_name() -> models.Model:
    return ConsentSignatureFactory.build(
        client=ClientFactory(), document=ConsentDocumentFactory(), typed_name=""
    )


def _signature_with_a_text_hash_that_is_not_hex() -> models.Model:
    return ConsentSignatureFactory.build(
        client=ClientFactory(), document=ConsentDocumentFactory(), text_sha256="not a hash"
    )


def _signature_superseded_by_itself() -> models.Model:
    signature = ConsentSignatureFactory()
    signature.superseded_by = signature
    return signature


VIOLATIONS: dict[str, tuple[Callable[[], models.Model], str | None]] = {
    "kap_sessions_intake_current_section_known": (_intake_on_an_unknown_section, None),
    "kap_sessions_intake_submitted_after_started": (_intake_submitted_before_it_started, None),
    "kap_sessions_screeningassignment_instrument_known": (
        _assignment_of_an_unknown_instrument,
        "Choose one of the questionnaires.",
    ),
    "kap_sessions_screeningassignment_once_per_occasion": (_second_measure_of_an_occasion, None),
    "kap_sessions_screeningresponse_instrument_known": (_response_of_an_unknown_instrument, None),
    "kap_sessions_screeninganswer_one_per_item": (_second_answer_to_an_item, None),
    "kap_sessions_screeninganswer_item_number_positive": (_answer_to_item_zero, None),
    "kap_sessions_safetyflag_acknowledged_matches_status": (
        _flag_acknowledged_by_nobody,
        "An acknowledged flag needs who acknowledged it and when; an open flag has neither.",
    ),
    "kap_sessions_safetyflag_intake_has_no_response": (_intake_flag_naming_a_response, None),
    "kap_sessions_safetyflag_one_per_response": (_second_flag_for_a_response, None),
    "kap_sessions_safetyflag_one_open_intake_flag_per_client": (_second_open_intake_flag, None),
    "kap_sessions_contraindication_one_per_intake_rule": (
        _second_contraindication_for_a_rule,
        "Another contraindication already uses this intake rule.",
    ),
    "kap_sessions_contraindication_outcome_known": (
        _contraindication_that_makes_her_eligible,
        "Choose what this contraindication does to eligibility.",
    ),
    "kap_sessions_clientcontraindication_once_per_client": (
        _contraindication_marked_twice,
        "This contraindication is already marked on her record.",
    ),
    "kap_sessions_eligibilityoverride_status_known": (
        _override_to_an_unknown_status,
        "Choose a status.",
    ),
    "kap_sessions_consentdocument_one_per_version": (
        _second_copy_of_a_version,
        "This version of this document already exists.",
    ),
    "kap_sessions_consentdocument_version_positive": (
        _version_zero,
        "Versions are numbered from 1.",
    ),
    "kap_sessions_consentdocument_kind_known": (_document_of_an_unknown_kind, None),
    "kap_sessions_consentdocument_published_has_text": (
        _published_document_without_text,
        "A published document needs a title and a text.",
    ),
    "kap_sessions_consentsignature_one_per_version": (
        _second_signature_on_a_version,
        "She has already signed this version.",
    ),
    "kap_sessions_consentsignature_typed_name_given": (
        _signature_without_a_name,
        "Please type your full name.",
    ),
    "kap_sessions_consentsignature_text_sha256_is_hex": (
        _signature_with_a_text_hash_that_is_not_hex,
        None,
    ),
    "kap_sessions_consentsignature_not_superseded_by_itself": (
        _signature_superseded_by_itself,
        None,
    ),
}


@pytest.mark.parametrize("constraint", sorted(VIOLATIONS))
def test_preparation_constraint_refuses_its_violation(constraint):
    build, message = VIOLATIONS[constraint]

    assert_refused(build(), constraint=constraint, message=message)


def test_preparation_constraints_are_all_tried_above():
    declared = {
        constraint.name for model in PREPARATION_MODELS for constraint in model._meta.constraints
    }
    assert declared == set(VIOLATIONS)


def test_every_person_facing_constraint_has_a_message():
    # Those a form or the admin can trip; the others guard what services write.
    with_message = {
        constraint.name
        for model in PREPARATION_MODELS
        for constraint in model._meta.constraints
        if constraint.violation_error_message != constraint.default_violation_error_message
    }
    assert with_message == {name for name, (_, message) in VIOLATIONS.items() if message}


# --- Intake -------------------------------------------------------------------


BOOKKEEPING = {"id", "client", "current_section", "started_at", "updated_at", "submitted_at"}


def test_sections_ask_every_intake_answer_exactly_once():
    answers = [f.name for f in Intake._meta.concrete_fields if f.name not in BOOKKEEPING]
    asked = [name for section in SECTIONS for name in section.fields]

    assert sorted(asked) == sorted(answers)
    assert len(asked) == len(set(asked))


def test_sections_ask_her_contacts_and_state_from_her_client_record():
    asked = [name for section in SECTIONS for name in section.client_fields]
    client_fields = {f.name for f in Client._meta.concrete_fields}

    assert set(asked) <= client_fields
    assert {"state", "emergency_contact_name", "support_person_name"} <= set(asked)
    for section in SECTIONS:
        assert set(section.optional) <= {*section.fields, *section.client_fields}


def test_a_half_done_intake_is_a_valid_row_and_knows_what_is_missing():
    intake = IntakeFactory(
        current_section="substances",
        blood_pressure=BloodPressure.NORMAL,
        heart_condition=False,
        liver_condition=False,
        bladder_condition=False,
        glaucoma=False,
        seizures=False,
        psychosis_history=False,
    )
    intake.full_clean()

    intake = Intake.objects.with_client().get(pk=intake.pk)

    assert [section.name for section in intake.missing_sections()] == [
        "mental_health",
        "substances",
        "medications",
        "pregnancy",
        "experience",
        "people",
        "session_day",
    ]
    assert intake.resume_section.name == "substances"
    assert intake.is_submitted is False


def test_a_fully_answered_intake_misses_nothing():
    client = ClientFactory(
        state="CA", emergency_contact_name="Rosa Diaz", emergency_contact_phone="510 555 0199"
    )
    intake = IntakeFactory(
        client=client,
        blood_pressure=BloodPressure.HIGH_CONTROLLED,
        heart_condition=False,
        liver_condition=False,
        bladder_condition=False,
        glaucoma=False,
        seizures=False,
        psychosis_history=False,
        mania_or_bipolar=False,
        psychiatric_hospitalization=False,
        current_suicidal_thoughts=False,
        substance_use=SubstanceUse.NONE,
        medications="none",
        allergies="penicillin",
        pregnant=Pregnancy.NO,
        breastfeeding=True,
        prior_ketamine=False,
        prior_psychedelics=False,
        driver_name="Sam Diaz",
        driver_phone="510 555 0123",
        childcare_plan="My mother has the children overnight.",
    )

    assert intake.missing_sections() == []
    assert intake.resume_section.name == "medical"


def test_an_empty_intake_resumes_at_the_first_section():
    intake = IntakeFactory()

    assert len(intake.missing_sections()) == len(SECTIONS)
    assert intake.resume_section == SECTIONS[0]


def _raw(table: str, pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_intake_free_text_is_ciphertext_in_the_database():
    texts = {
        field.name: f"{field.name} says sertraline 50 mg"
        for field in Intake._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    }
    intake = IntakeFactory(**texts)

    assert set(texts) == {
        "medical_notes",
        "psychiatric_notes",
        "substance_notes",
        "medications",
        "allergies",
        "prior_experience_notes",
        "childcare_plan",
    }
    for name in texts:
        raw = _raw("kap_sessions_intake", intake.pk, name)
        assert raw.startswith("gAAAAA")  # a Fernet token
        assert "sertraline" not in raw
    assert Intake.objects.get(pk=intake.pk).medications == texts["medications"]


def test_clinical_free_text_of_preparation_is_always_encrypted():
    # Every text column a person writes about a client; the consent
    # documents' text is the practice's own and public to her.
    plain_text = {
        (model.__name__, field.name)
        for model in PREPARATION_MODELS
        for field in model._meta.concrete_fields
        if isinstance(field, models.TextField) and not isinstance(field, EncryptedTextField)
    }
    assert plain_text == {("ConsentDocument", "body"), ("ConsentDocument", "internal_note")}


# --- Screening ------------------------------------------------------------------


def test_screening_and_safety_maps_cover_every_state():
    assert transitions_complete(ScreeningAssignment) == []
    assert transitions_complete(SafetyFlag) == []


def test_an_assignment_is_completed_or_withdrawn_once():
    assignment = ScreeningAssignmentFactory()

    assignment.move_to(ScreeningStatus.COMPLETED)
    assignment.save()

    with pytest.raises(InvalidTransition):
        assignment.move_to(ScreeningStatus.OPEN)
    assignment.status = ScreeningStatus.WITHDRAWN
    with pytest.raises(InvalidTransition):
        assignment.save()


def test_open_assignments_are_hers_earliest_due_first():
    client = ClientFactory()
    later = ScreeningAssignmentFactory(client=client, instrument="epds", due_on=date(2027, 2, 1))
    sooner = ScreeningAssignmentFactory(client=client, due_on=date(2027, 1, 15))
    same_day = ScreeningAssignmentFactory(
        client=client, instrument="gad-7", due_on=date(2027, 1, 15)
    )
    ScreeningAssignmentFactory(client=client, status=ScreeningStatus.COMPLETED)
    ScreeningAssignmentFactory(client=client, status=ScreeningStatus.WITHDRAWN)
    ScreeningAssignmentFactory()  # another client's

    assert list(ScreeningAssignment.objects.open_for(client)) == [sooner, same_day, later]
    assert sooner.is_overdue(date(2027, 1, 16)) is True
    assert later.is_overdue(date(2027, 1, 16)) is False


def test_responses_for_a_client_are_one_instrument_newest_first():
    client = ClientFactory()
    old = ScreeningResponseFactory(assignment__client=client, completed_at=NOW)
    new = ScreeningResponseFactory(assignment__client=client, completed_at=NOW + timedelta(days=14))
    ScreeningResponseFactory(assignment__client=client, assignment__instrument="gad-7")
    ScreeningResponseFactory(completed_at=NOW)  # another client's PHQ-9

    assert list(ScreeningResponse.objects.for_client(client, "phq-9")) == [new, old]
    assert new.version == "PHQ-9 (Kroenke, Spitzer & Williams, 2001)"


# --- Safety flags ---------------------------------------------------------------


def test_open_flags_are_the_unacknowledged_ones_oldest_first():
    therapist = StaffFactory()
    first = SafetyFlagFactory(raised_at=NOW)
    second = SafetyFlagFactory(raised_at=NOW + timedelta(minutes=5))
    done = SafetyFlagFactory(raised_at=NOW - timedelta(days=1))
    done.move_to(SafetyFlag.Status.ACKNOWLEDGED)
    done.acknowledged_at = NOW
    done.acknowledged_by = therapist
    done.acknowledgement_note = "Called her; she is safe and has her sister with her."
    done.save()

    assert list(SafetyFlag.objects.open()) == [first, second]
    with pytest.raises(InvalidTransition):
        done.move_to(SafetyFlag.Status.OPEN)


def test_an_acknowledged_intake_flag_lets_a_new_one_be_raised():
    flag = SafetyFlagFactory()
    flag.move_to(SafetyFlag.Status.ACKNOWLEDGED)
    flag.acknowledged_at = NOW
    flag.acknowledged_by = StaffFactory()
    flag.save()

    again = SafetyFlagFactory(client=flag.client)

    assert list(SafetyFlag.objects.open()) == [again]


# --- Eligibility ----------------------------------------------------------------


def test_the_newest_eligibility_decision_applies_and_the_history_stays():
    client = ClientFactory()
    first = EligibilityOverrideFactory(
        client=client, status=EligibilityStatus.NOT_ELIGIBLE, decided_at=NOW
    )
    second = EligibilityOverrideFactory(
        client=client, status=EligibilityStatus.ELIGIBLE, decided_at=NOW + timedelta(days=2)
    )
    EligibilityOverrideFactory(decided_at=NOW + timedelta(days=5))  # another client's

    assert EligibilityOverride.objects.current_for(client) == second
    assert list(EligibilityOverride.objects.for_client(client)) == [second, first]
    assert EligibilityOverride.objects.current_for(ClientFactory()) is None


def test_an_eligibility_decision_is_never_edited():
    decision = EligibilityOverrideFactory(status=EligibilityStatus.NOT_ELIGIBLE)

    decision.status = EligibilityStatus.ELIGIBLE
    with pytest.raises(RecordIsFinal):
        decision.save()

    assert EligibilityOverride.objects.get(pk=decision.pk).status == "not_eligible"


def test_contraindication_outcomes_are_eligibility_statuses():
    assert set(ContraindicationOutcome.values) < set(EligibilityStatus.values)
    assert EligibilityStatus.ELIGIBLE not in ContraindicationOutcome.values


def test_hand_marked_contraindications_are_listed_for_her():
    mark = ClientContraindicationFactory()
    ClientContraindicationFactory()  # another client's

    assert list(ClientContraindication.objects.for_client(mark.client)) == [mark]


# --- Consent --------------------------------------------------------------------


def test_a_draft_can_be_edited_and_then_published():
    draft = ConsentDocumentFactory(published_at=None, body="First try.")

    draft.body = "The reviewed text."
    draft.save()
    draft.published_at = NOW
    draft.save()

    assert ConsentDocument.objects.get(pk=draft.pk).body == "The reviewed text."


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "A new title"),
        ("body", "A quietly changed text."),
        ("version", 999),
        ("kind", ConsentKind.FINANCIAL_POLICY),
        ("published_at", None),
    ],
)
def test_a_published_documents_text_never_changes(field, value):
    document = ConsentDocumentFactory()
    before = document.text_sha256()

    setattr(document, field, value)
    with pytest.raises(RecordIsFinal):
        document.save()

    assert ConsentDocument.objects.get(pk=document.pk).text_sha256() == before


def test_a_published_documents_internal_note_can_change():
    document = ConsentDocumentFactory()

    document.internal_note = "Reviewed with counsel in March."
    document.save()

    assert ConsentDocument.objects.get(pk=document.pk).internal_note == (
        "Reviewed with counsel in March."
    )


def test_current_documents_are_the_newest_published_version_of_each_kind(
    django_assert_num_queries,
):
    # Start from no documents at all (the data migration's may be present).
    ConsentDocument.objects.all().delete()
    ConsentDocumentFactory(version=1)
    kap_v2 = ConsentDocumentFactory(version=2)
    ConsentDocumentFactory(version=3, published_at=None)  # a draft
    privacy = ConsentDocumentFactory(kind=ConsentKind.PRIVACY_NOTICE, version=1)

    with django_assert_num_queries(1):
        current = list(ConsentDocument.objects.current())

    assert current == [kap_v2, privacy]
    assert ConsentDocument.objects.published().count() == 3


def test_the_signature_hash_is_of_the_text_she_saw():
    document = ConsentDocumentFactory(title="Financial policy", body="Fees are due.")

    signature = ConsentSignatureFactory(document=document)

    assert signature.text_sha256 == hashlib.sha256(b"Financial policy\n\nFees are due.").hexdigest()
    assert signature.matches(document) is True
    assert signature.matches(ConsentDocumentFactory()) is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("typed_name", "Someone Else"),
        ("signed_at", NOW),
        ("ip_address", "198.51.100.1"),
        ("user_agent", "curl/8"),
        ("text_sha256", "0" * 64),
    ],
)
def test_a_signature_is_never_edited(field, value):
    signature = ConsentSignatureFactory()

    setattr(signature, field, value)
    with pytest.raises(RecordIsFinal):
        signature.save()


def test_a_signatures_pdf_and_successor_are_set_once():
    first = ConsentSignatureFactory()
    newer = ConsentSignatureFactory(
        client=first.client, document=ConsentDocumentFactory(kind=first.document.kind)
    )
    pdf = ClientDocumentFactory(client=first.client)

    first.pdf = pdf
    first.superseded_by = newer
    first.save()

    first.pdf = ClientDocumentFactory(client=first.client)
    with pytest.raises(RecordIsFinal):
        first.save()
    first.pdf = pdf
    first.superseded_by = None
    with pytest.raises(RecordIsFinal):
        first.save()
    stored = ConsentSignature.objects.get(pk=first.pk)
    assert (stored.pdf_id, stored.superseded_by_id) == (pdf.pk, newer.pk)


def test_valid_signatures_are_those_not_superseded():
    first = ConsentSignatureFactory()
    newer = ConsentSignatureFactory(
        client=first.client, document=ConsentDocumentFactory(kind=first.document.kind)
    )
    first.superseded_by = newer
    first.save()

    assert list(ConsentSignature.objects.valid().filter(client=first.client)) == [newer]
    assert list(ConsentSignature.objects.for_client(first.client)) == [newer]
    assert first.is_superseded is True


def test_only_the_support_person_permission_is_optional():
    assert OPTIONAL_CONSENT_KINDS == (ConsentKind.RELEASE_SUPPORT_PERSON,)


# --- The data migration's rows ----------------------------------------------------
#
# Run as the migration runs them, on an empty table: a transactional test
# elsewhere may have flushed the rows the test database was migrated with.

DEFAULTS = importlib.import_module("kap_sessions.migrations.0005_preparation_defaults")


def run_the_defaults_migration() -> None:
    ClientContraindication.objects.all().delete()
    Contraindication.objects.all().delete()
    ConsentDocument.objects.all().delete()
    (operation,) = DEFAULTS.Migration.operations
    operation.code(django_apps, None)


def test_the_practice_starts_with_the_built_in_contraindications():
    run_the_defaults_migration()

    rules = dict(
        Contraindication.objects.exclude(intake_rule="").values_list("intake_rule", "outcome")
    )

    assert rules == {
        "uncontrolled_hypertension": "needs_medical_review",
        "psychosis_or_mania": "not_eligible",
        "active_substance_use": "not_eligible",
        "pregnancy": "not_eligible",
        "active_suicidal_ideation": "not_eligible",
        "heart_condition": "needs_medical_review",
        "liver_condition": "needs_medical_review",
        "bladder_condition": "needs_medical_review",
        "glaucoma": "needs_medical_review",
        "seizures": "needs_medical_review",
    }
    assert set(rules) == set(IntakeRule.values)
    assert set(Contraindication.objects.filter(intake_rule="").values_list("code", flat=True)) == {
        "raised_intracranial_pressure",
        "ketamine_hypersensitivity",
    }
    assert Contraindication.objects.active().count() == 12


def test_the_practice_starts_with_a_published_version_of_every_consent_document():
    run_the_defaults_migration()

    current = list(ConsentDocument.objects.current())

    assert [(d.kind, d.version) for d in current] == [(kind, 1) for kind in ConsentKind.values]
    for document in current:
        assert document.is_published
        assert document.internal_note.startswith("Starting text")
    kap = current[0]
    for words in ("3.5 hours", "prescribe", "must not drive", "988", "stop KAP"):
        assert words in kap.body


def test_the_defaults_migration_runs_twice_and_goes_back():
    run_the_defaults_migration()
    (operation,) = DEFAULTS.Migration.operations

    operation.code(django_apps, None)
    assert (Contraindication.objects.count(), ConsentDocument.objects.count()) == (12, 5)

    operation.reverse_code(django_apps, None)
    assert (Contraindication.objects.count(), ConsentDocument.objects.count()) == (0, 0)
