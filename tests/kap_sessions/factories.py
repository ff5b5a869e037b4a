"""Factories of the preparation records (the course's is in tests/factories.py).

The data migration writes version 1 of every consent document and the
built-in contraindications; these factories never depend on those rows (a
transactional test elsewhere may have flushed them) and never collide with
them (their versions and codes are their own).
"""

from __future__ import annotations

from datetime import date

import factory
from django.utils import timezone

from kap_sessions.instruments import INSTRUMENTS
from kap_sessions.models import (
    ClientContraindication,
    ConsentDocument,
    ConsentKind,
    ConsentSignature,
    Contraindication,
    ContraindicationOutcome,
    EligibilityOverride,
    EligibilityStatus,
    Intake,
    SafetyFlag,
    SafetySource,
    ScreeningAnswer,
    ScreeningAssignment,
    ScreeningResponse,
    ScreeningStatus,
)
from tests.factories import ClientFactory, StaffFactory


class IntakeFactory(factory.django.DjangoModelFactory):
    """An intake she has just opened: nothing answered yet."""

    class Meta:
        model = Intake

    client = factory.SubFactory(ClientFactory)


class ScreeningAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScreeningAssignment

    client = factory.SubFactory(ClientFactory)
    instrument = "phq-9"
    due_on = date(2027, 1, 12)


class ScreeningResponseFactory(factory.django.DjangoModelFactory):
    """A scored response to a completed assignment (the answers are not made)."""

    class Meta:
        model = ScreeningResponse

    assignment = factory.SubFactory(ScreeningAssignmentFactory, status=ScreeningStatus.COMPLETED)
    client = factory.SelfAttribute("assignment.client")
    instrument = factory.SelfAttribute("assignment.instrument")
    version = factory.LazyAttribute(lambda o: INSTRUMENTS[o.instrument].version)
    total = 6
    band = "Mild"
    completed_at = factory.LazyFunction(timezone.now)


class ScreeningAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScreeningAnswer

    response = factory.SubFactory(ScreeningResponseFactory)
    item_number = factory.Sequence(lambda n: n % 9 + 1)
    position = 1
    score = 1


class SafetyFlagFactory(factory.django.DjangoModelFactory):
    """An open flag raised by the intake."""

    class Meta:
        model = SafetyFlag

    client = factory.SubFactory(ClientFactory)
    source = SafetySource.INTAKE


class ContraindicationFactory(factory.django.DjangoModelFactory):
    """One the therapist configured and marks by hand (no intake rule)."""

    class Meta:
        model = Contraindication

    code = factory.Sequence(lambda n: f"configured-{n}")
    plain_words = factory.Sequence(lambda n: f"Configured contraindication {n}")
    outcome = ContraindicationOutcome.NEEDS_MEDICAL_REVIEW
    order = 200


class ClientContraindicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientContraindication

    client = factory.SubFactory(ClientFactory)
    contraindication = factory.SubFactory(ContraindicationFactory)
    noted_by = factory.SubFactory(StaffFactory)
    note = "Her cardiologist's letter of 3 January asks for clearance first."


class EligibilityOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EligibilityOverride

    client = factory.SubFactory(ClientFactory)
    status = EligibilityStatus.ELIGIBLE
    note = "Her prescriber cleared her after reviewing the blood pressure log."
    decided_by = factory.SubFactory(StaffFactory)


class ConsentDocumentFactory(factory.django.DjangoModelFactory):
    """A published version of the KAP consent, numbered past the migration's version 1."""

    class Meta:
        model = ConsentDocument

    kind = ConsentKind.KAP_INFORMED_CONSENT
    version = factory.Sequence(lambda n: n + 2)
    title = "Informed consent for ketamine-assisted psychotherapy"
    body = factory.LazyAttribute(lambda o: f"The text of version {o.version}.\n\nSecond paragraph.")
    published_at = factory.LazyFunction(timezone.now)


class ConsentSignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentSignature

    client = factory.SubFactory(ClientFactory)
    document = factory.SubFactory(ConsentDocumentFactory)
    typed_name = factory.LazyAttribute(lambda o: o.client.full_name)
    text_sha256 = factory.LazyAttribute(lambda o: o.document.text_sha256())
    ip_address = "203.0.113.7"
    user_agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)"
