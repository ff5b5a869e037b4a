"""Every admin change list costs as many queries for 12 rows as for 3.

The design's budget: admin change lists have a query count that does not grow
with the data. A model newly registered in the admin must be added here (with
a way to make its rows) or to ``FIXED_SIZE`` with the reason its list cannot
grow; the first test fails until it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from practice.models import AuditEvent, AvailabilityException, WorkerHeartbeat
from practice.services import audit_record
from tests.consultations.factories import ConsultationFactory, WaitlistEntryFactory
from tests.factories import (
    AppointmentFactory,
    ClientDocumentFactory,
    ClientFactory,
    CourseFactory,
    OutboxMessageFactory,
    StaffFactory,
    WeeklyHoursFactory,
)
from tests.kap_sessions.factories import (
    ClientContraindicationFactory,
    ConsentDocumentFactory,
    ConsentSignatureFactory,
    ContraindicationFactory,
    EligibilityOverrideFactory,
    IntakeFactory,
    SafetyFlagFactory,
    ScreeningAssignmentFactory,
    ScreeningResponseFactory,
)
from tests.kap_sessions.factories_documents import EstimateLineFactory, SuperbillLineFactory
from tests.kap_sessions.factories_dosing import medicine_session
from tests.kap_sessions.factories_notes import (
    CourseSessionFactory,
    PsychotherapyNoteFactory,
    SessionNoteFactory,
)
from tests.newsletter.factories import ArticleFactory, CampaignFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

BUDGET = 14
START = datetime(2027, 3, 1, 17, tzinfo=UTC)


def _appointment(i: int):  # type: ignore[no-untyped-def]
    # Apart, so the calendar's no-overlap rule holds.
    return AppointmentFactory(start=START + timedelta(hours=i))


def _audit_event(i: int) -> AuditEvent:
    client = ClientFactory()
    return audit_record(actor=StaffFactory(), action=AuditEvent.Action.VIEW, obj=client)


def _time_off(i: int) -> AvailabilityException:
    day = date(2027, 3, 1) + timedelta(days=i)
    return AvailabilityException.objects.create(first_day=day, last_day=day, note="Holiday")


def _heartbeat(i: int) -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(hostname=f"worker{i}@host", seen_at=START)


MAKERS: dict[str, Callable[[int], object]] = {
    "practice.client": lambda i: ClientFactory(),
    "practice.user": lambda i: StaffFactory(),
    "practice.appointment": _appointment,
    "practice.outboxmessage": lambda i: OutboxMessageFactory(),
    "practice.weeklyhours": lambda i: WeeklyHoursFactory(
        weekday=i % 7, start_time=time(6 + i // 7), end_time=time(7 + i // 7)
    ),
    "practice.availabilityexception": _time_off,
    "practice.auditevent": _audit_event,
    "practice.workerheartbeat": _heartbeat,
    "consultations.consultation": lambda i: ConsultationFactory(appointment=_appointment(i)),
    "consultations.waitlistentry": lambda i: WaitlistEntryFactory(),
    "kap_sessions.course": lambda i: CourseFactory(),
    "practice.clientdocument": lambda i: ClientDocumentFactory(),
    "kap_sessions.consentdocument": lambda i: ConsentDocumentFactory(),
    "kap_sessions.consentsignature": lambda i: ConsentSignatureFactory(),
    "kap_sessions.screeningassignment": lambda i: ScreeningAssignmentFactory(),
    "kap_sessions.screeningresponse": lambda i: ScreeningResponseFactory(),
    "kap_sessions.safetyflag": lambda i: SafetyFlagFactory(),
    "kap_sessions.contraindication": lambda i: ContraindicationFactory(),
    "kap_sessions.clientcontraindication": lambda i: ClientContraindicationFactory(),
    "kap_sessions.eligibilityoverride": lambda i: EligibilityOverrideFactory(),
    "kap_sessions.intake": lambda i: IntakeFactory(),
    "kap_sessions.superbill": lambda i: SuperbillLineFactory().superbill,
    "kap_sessions.goodfaithestimate": lambda i: EstimateLineFactory().estimate,
    "kap_sessions.coursesession": lambda i: CourseSessionFactory(),
    "kap_sessions.dosingrecord": lambda i: medicine_session(start=START + timedelta(days=i)),
    "kap_sessions.sessionnote": lambda i: SessionNoteFactory(),
    "kap_sessions.psychotherapynote": lambda i: PsychotherapyNoteFactory(),
    "newsletter.subscriber": lambda i: SubscriberFactory(),
    "newsletter.article": lambda i: ArticleFactory(),
    "newsletter.campaign": lambda i: CampaignFactory(),
}

# Lists that cannot grow with the practice's data, or belong to a library.
FIXED_SIZE = {
    "practice.practiceprofile": "one row (the singleton)",
    "kap_sessions.screeningsettings": "one row (the singleton)",
    "kap_sessions.coursesettings": "one row (the singleton)",
    "practice.calendarfeedtoken": "one per subscription link the therapist makes",
    "practice.kindsettings": "one row per appointment kind",
    "sites.site": "one row",
    "auth.group": "a handful of staff roles",
    "account.emailaddress": "allauth's; one per staff login",
    "mfa.authenticator": "allauth's; two per staff login",
    "newsletter.subscriberexport": "one per export the therapist makes; rows hold no data",
}


def test_every_registered_list_has_a_budget_here():
    registered = {model._meta.label_lower for model in admin.site._registry}

    assert registered - set(MAKERS) - set(FIXED_SIZE) == set()


def _queries(admin_client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("label", sorted(MAKERS))
def test_a_change_list_costs_the_same_for_more_rows(label, admin_client_mfa):
    app_label, model_name = label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    make = MAKERS[label]
    for i in range(3):
        make(i)
    admin_client_mfa.get(url)  # warm the per-process caches
    few = _queries(admin_client_mfa, url)

    for i in range(3, 12):
        make(i)
    many = _queries(admin_client_mfa, url)

    assert many == few, f"{label}: {few} queries for 3 rows, {many} for 12"
    assert many <= BUDGET, f"{label}: {many} queries"
