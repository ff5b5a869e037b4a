"""A client's whole record, for the export and retention tests.

Everything hangs off one client: a stored PDF (real bytes in the private
storage), an intake, a questionnaire with its answer, a signed consent, a
completed course with its phases and sessions, a medicine session record with
vitals, a progress note and a psychotherapy note, a superbill and an estimate,
a converted consultation and an invitation. Days are the course factories'
(March and April 2027).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from consultations.models import Consultation
from kap_sessions.models import Course, CourseSession, DosingRecord, Intake
from practice.models import Client, ClientDocument
from practice.private_files import private_file_save
from tests.consultations.factories import ConsultationFactory
from tests.factories import AppointmentFactory, ClientFactory, ClientInvitationFactory
from tests.kap_sessions.factories import ConsentSignatureFactory, ScreeningAnswerFactory
from tests.kap_sessions.factories_documents import (
    FIRST_DAY,
    EstimateLineFactory,
    SuperbillLineFactory,
    completed_course,
    dosing_record,
    measure,
    vitals,
)
from tests.kap_sessions.factories_notes import PsychotherapyNoteFactory, SessionNoteFactory

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PSYCHOTHERAPY_TEXT = "Transference: she sees me as the older sister who left."
PROGRESS_TEXT = "Tired, hopeful; slept four hours."


@dataclass
class Record:
    client: Client
    course: Course
    document: ClientDocument
    record: DosingRecord
    consultation: Consultation


def whole_record(
    *, first_name: str = "Amara", last_name: str = "Okafor", first_day: datetime = FIRST_DAY
) -> Record:
    client = ClientFactory(first_name=first_name, last_name=last_name)
    document = private_file_save(
        client=client,
        kind=ClientDocument.Kind.UPLOAD,
        title="Letter from her prescriber",
        content=PDF,
        content_type=ClientDocument.ContentType.PDF,
        created_by=None,
        visible_to_client=True,
    )
    Intake.objects.create(client=client)
    course = completed_course(
        client=client, closing_summary="Keep walking daily.", first_day=first_day
    )
    measure(course, instrument="phq-9", occasion="baseline", total=14, at=first_day)
    ScreeningAnswerFactory(response=course.client.screenings.get())
    ConsentSignatureFactory(client=client)
    record = dosing_record(course=course, start=first_day + timedelta(days=10))
    vitals(record, 15)
    vitals(record, 30)
    session = CourseSession.objects.filter(course=course).order_by("appointment__start").first()
    SessionNoteFactory(session=session, presentation=PROGRESS_TEXT)
    PsychotherapyNoteFactory(session=session, text=PSYCHOTHERAPY_TEXT)
    SuperbillLineFactory(superbill__client=client, superbill__course=course)
    EstimateLineFactory(estimate__client=client, estimate__course=course)
    consultation = ConsultationFactory(
        client=client,
        email=client.email,
        appointment=AppointmentFactory(start=first_day - timedelta(days=20), client=client),
    )
    ClientInvitationFactory(client=client)
    return Record(
        client=client, course=course, document=document, record=record, consultation=consultation
    )
