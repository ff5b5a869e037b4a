"""The course's PDFs, read back as text (``pdftotext``): the right names, dates and figures.

Each document is rendered by its function in ``kap_sessions.documents`` and
read with poppler's ``pdftotext -layout`` (whitespace folded to one space,
so a table row reads left to right). Each costs the same queries whatever
the number of vitals, sessions or lines.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kap_sessions.documents import (
    course_summary_pdf,
    dosing_record_pdf,
    estimate_pdf,
    superbill_pdf,
)
from kap_sessions.models import CourseSettings
from practice.models import Appointment, AppointmentKind
from tests.factories import ClientFactory
from tests.kap_sessions.factories_documents import (
    FIRST_DAY,
    EstimateLineFactory,
    GoodFaithEstimateFactory,
    SuperbillFactory,
    SuperbillLineFactory,
    adverse_event,
    completed_course,
    dosing_record,
    measure,
    session_on,
    vitals,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(practice_profile):  # type: ignore[no-untyped-def]
    practice_profile.npi = "1234567893"
    practice_profile.tax_id = "94-3216549"
    practice_profile.save()
    return practice_profile


def pdf_text(content: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    assert content.startswith(b"%PDF-")
    path = tmp_path / "document.pdf"
    path.write_bytes(content)
    text = subprocess.run(  # noqa: S603 (a fixed program on a file of our own)
        ["pdftotext", "-layout", str(path), "-"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return " ".join(text.split())


def queries_of(render) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        render()
    return len(captured.captured_queries)


# --- The medicine session's record -------------------------------------------------------


def test_the_session_record_holds_her_name_the_day_and_what_was_given(practice, tmp_path):
    record = dosing_record()

    text = pdf_text(dosing_record_pdf(record), tmp_path)

    assert "Harbor Light Therapy" in text
    assert "Medicine session record" in text
    assert "Amara Okafor · Born June 14, 1991" in text
    assert "Tuesday, March 2, 2027 · 9:00 AM to 12:30 PM · Medicine session 1" in text
    assert "Medication Ketamine" in text
    assert "Route Sublingual" in text
    assert "Dose 56.0 mg" in text
    assert "Lot number KX-2291" in text
    assert "Time given 9:10 AM" in text
    assert "Prescriber Dr. Imani Reyes, MD" in text
    assert "Baseline BP 124/80 mmHg" in text
    assert "Started 9:05 AM" in text


def test_the_session_record_lists_each_vital_and_marks_those_out_of_range(practice, tmp_path):
    record = dosing_record()
    vitals(record, 15, systolic=132, diastolic=84, heart_rate=76, spo2=98)
    vitals(record, 30, systolic=172, diastolic=96, heart_rate=88, spo2=97)
    vitals(record, 45, systolic=118, diastolic=76, heart_rate=46, spo2=93)
    vitals(record, 60, systolic=None, diastolic=None, heart_rate=70, spo2=99)

    text = pdf_text(dosing_record_pdf(record), tmp_path)

    assert "Time Systolic Diastolic Heart rate SpO2" in text
    assert "9:20 AM 132 84 76 98" in text
    assert "9:35 AM 172 H 96 88 97" in text
    assert "9:50 AM 118 76 46 L 93 L" in text
    assert "10:05 AM – – 70 99" in text
    assert (
        "H above, L below the practice’s range: systolic 90–160, diastolic 50–100 mmHg, "
        "heart rate 50–120 bpm, SpO2 at least 94%." in text
    )


def test_the_session_record_reads_the_practice_s_own_ranges(practice, tmp_path):
    CourseSettings(systolic_high=130).save()
    record = dosing_record()
    vitals(record, 15, systolic=132)

    text = pdf_text(dosing_record_pdf(record), tmp_path)

    assert "9:20 AM 132 H 78 74 98" in text
    assert "systolic 90–130" in text


def test_the_session_record_shows_presence_adverse_events_and_the_discharge(practice, tmp_path):
    record = dosing_record()
    adverse_event(record, 40)

    text = pdf_text(dosing_record_pdf(record), tmp_path)

    assert "The therapist was present from 9:00 AM to 12:40 PM." in text
    assert "Present for the whole session." in text
    assert "Quiet, eyes closed; spoke of her daughter at 10:30." in text
    assert "9:45 AM Mild Nausea Ginger tea; settled in ten minutes." in text
    assert "Alert and oriented Yes" in text
    assert "Steady on her feet Yes" in text
    assert "Driver present Yes" in text
    assert "Discharged 12:35 PM" in text


def test_the_session_record_flags_a_presence_shorter_than_the_session(practice, tmp_path):
    record = dosing_record()
    record.present_until = FIRST_DAY + timedelta(minutes=150)  # 11:30 AM, before discharge
    record.save()

    text = pdf_text(dosing_record_pdf(record), tmp_path)

    assert "Flagged: Your presence ends at 11:30 AM, before her discharge at 12:35 PM." in text
    assert "Present for the whole session." not in text


def test_a_record_not_yet_filled_in_says_so(practice, tmp_path):
    record = dosing_record()
    record.started_at = record.given_at = record.dose_mg = record.discharged_at = None
    record.present_from = record.present_until = None
    record.lot_number = record.prescriber = ""
    record.save()

    text = pdf_text(dosing_record_pdf(record), tmp_path)

    assert "Dose Not recorded" in text
    assert "Lot number Not recorded" in text
    assert "Started Not started" in text
    assert "No vitals recorded." in text
    assert "Adverse events None recorded." in text
    assert "Discharged Not yet" in text


def test_the_session_record_costs_the_same_queries_with_more_vitals(practice, tmp_path):
    record = dosing_record()
    vitals(record, 15)
    adverse_event(record, 20)
    dosing_record_pdf(record)  # the practice's profile, read once per process
    few = queries_of(lambda: dosing_record_pdf(record))

    for minutes in range(30, 240, 15):
        vitals(record, minutes, systolic=170)
        adverse_event(record, minutes + 1)
    many = queries_of(lambda: dosing_record_pdf(record))

    assert few == many == 4


# --- The course summary -----------------------------------------------------------------------


def test_the_course_summary_shows_the_phases_with_their_dates(practice, tmp_path):
    course = completed_course()

    text = pdf_text(course_summary_pdf(course), tmp_path)

    assert "Course summary" in text
    assert "Amara Okafor" in text
    assert "March 1, 2027 to April 14, 2027 · Completed" in text
    assert "Preparation March 1, 2027 to March 10, 2027" in text
    assert "Dosing March 10, 2027 to March 11, 2027" in text
    assert "Integration March 11, 2027 to April 14, 2027" in text
    assert "Completed on April 14, 2027" in text


def test_a_course_with_no_opening_on_file_starts_its_timeline_on_its_start_date(practice, tmp_path):
    course = completed_course()
    course.phase_changes.filter(phase="preparation").delete()

    text = pdf_text(course_summary_pdf(course), tmp_path)

    assert "Preparation March 1, 2027 to March 10, 2027" in text


def test_the_course_summary_lists_the_sessions_held_and_only_those(practice, tmp_path):
    course = completed_course(sessions=2)
    session_on(
        course,
        AppointmentKind.INTEGRATION,
        FIRST_DAY + timedelta(days=20),
        status=Appointment.Status.CANCELLED,
    )
    session_on(
        course,
        AppointmentKind.CHECK_IN,
        FIRST_DAY + timedelta(days=21),
        mode="phone",
    )

    text = pdf_text(course_summary_pdf(course), tmp_path)

    assert "7 sessions, 2 of them medicine sessions (3 planned)." in text
    assert "Mar 2, 2027 Preparation session In person 50" in text
    assert "Mar 3, 2027 Medicine session 1 In person 210" in text
    assert "Mar 4, 2027 Integration session In person 50" in text
    assert "Mar 6, 2027 Medicine session 2 In person 210" in text
    assert "Mar 23, 2027 Check-in Phone call 20" in text
    assert "Mar 22, 2027" not in text  # the cancelled one


def test_the_course_summary_charts_her_measures_and_says_what_changed(practice, tmp_path):
    course = completed_course()
    measure(
        course,
        instrument="phq-9",
        occasion="baseline",
        total=18,
        at=datetime(2027, 3, 1, 19, 0, tzinfo=UTC),
    )
    measure(
        course,
        instrument="phq-9",
        occasion="after_integration",
        total=4,
        at=datetime(2027, 4, 13, 19, 0, tzinfo=UTC),
    )

    content = course_summary_pdf(course)
    text = pdf_text(content, tmp_path)

    assert (
        "PHQ-9: Baseline 18 of 27 on Mar 1, 2027. Latest 4 on Apr 13, 2027, 78% below baseline."
        in text
    )
    assert "Response (a drop of 50% or more) reached." in text
    assert "Remission (under 5) reached." in text
    assert "GAD-7" not in text  # no answers, no chart


def test_the_course_summary_ends_with_her_aftercare_plan(practice, tmp_path):
    plan = "Keep the Tuesday walks with Dana.\n\nCall the PSI line if sleep goes again."
    course = completed_course(closing_summary=plan)

    text = pdf_text(course_summary_pdf(course), tmp_path)

    assert (
        "Your aftercare plan Keep the Tuesday walks with Dana. "
        "Call the PSI line if sleep goes again." in text
    )


def test_the_course_summary_costs_the_same_queries_with_more_sessions_and_measures(practice):
    few_course = completed_course(sessions=1)
    many_course = completed_course(
        client=ClientFactory(), sessions=6, first_day=FIRST_DAY + timedelta(days=30)
    )
    for course in (few_course, many_course):
        for day in range(1, 4 if course is many_course else 2):
            measure(
                course,
                instrument="epds",
                occasion=f"check_{day}",
                total=14 - day,
                at=datetime(2027, 3, day, 19, 0, tzinfo=UTC),
            )
    course_summary_pdf(few_course)

    assert queries_of(lambda: course_summary_pdf(few_course)) == queries_of(
        lambda: course_summary_pdf(many_course)
    )
    assert queries_of(lambda: course_summary_pdf(many_course)) <= 4


# --- Superbill ---------------------------------------------------------------------------------


def test_the_superbill_names_the_provider_the_client_and_each_service(practice, tmp_path):
    client = ClientFactory(
        first_name="Amara",
        last_name="Okafor",
        date_of_birth=date(1991, 6, 14),
        state="CA",
        email="amara@example.com",
    )
    superbill = SuperbillFactory(client=client, diagnosis_codes="F53.0, F41.1")
    SuperbillLineFactory(
        superbill=superbill,
        service_date=date(2027, 3, 2),
        code="90837",
        description="Preparation session, 50 min",
        fee=Decimal("200.00"),
    )
    SuperbillLineFactory(
        superbill=superbill,
        service_date=date(2027, 3, 3),
        code="90837",
        modifier="95",
        description="Integration session, 50 min",
        units=2,
        fee=Decimal("180.00"),
    )

    text = pdf_text(superbill_pdf(superbill), tmp_path)

    assert f"Statement date April 15, 2027 · No. {superbill.pk}" in text
    assert "Services Mar 2, 2027 to Mar 3, 2027" in text
    assert "Lena Marsh, LMFT" in text
    assert "2150 Shattuck Avenue, Suite 310" in text
    assert "Berkeley, CA 94704" in text
    assert "(510) 555-0142" in text
    assert "License LMFT 118204" in text
    assert "NPI 1234567893" in text
    assert "Tax ID (EIN) 94-3216549" in text
    assert "Amara Okafor" in text
    assert "Date of birth June 14, 1991" in text
    assert "State California" in text
    assert "Diagnosis codes (ICD-10) F53.0, F41.1" in text
    assert "Mar 2, 2027 90837 – Preparation session, 50 min 1 $200.00 $200.00" in text
    assert "Mar 3, 2027 90837 95 Integration session, 50 min 2 $180.00 $360.00" in text
    assert "Total $560.00" in text
    assert "Provider’s signature" in text


def test_the_superbill_costs_the_same_queries_with_more_lines(practice):
    superbill = SuperbillLineFactory().superbill
    superbill_pdf(superbill)
    few = queries_of(lambda: superbill_pdf(superbill))

    SuperbillLineFactory.create_batch(12, superbill=superbill)
    many = queries_of(lambda: superbill_pdf(superbill))

    assert few == many == 2


# --- Good Faith Estimate --------------------------------------------------------------------------


def test_the_estimate_lists_the_expected_services_fees_and_period(practice, tmp_path):
    client = ClientFactory(first_name="Amara", last_name="Okafor", date_of_birth=date(1991, 6, 14))
    estimate = GoodFaithEstimateFactory(
        client=client, notes="Not included: the prescriber's fees and the medicine."
    )
    EstimateLineFactory(
        estimate=estimate,
        description="Preparation session, 50 min",
        code="90837",
        quantity=2,
        unit_fee=Decimal("200.00"),
    )
    EstimateLineFactory(
        estimate=estimate,
        description="Medicine session, 3.5 hours",
        code="90837",
        quantity=3,
        unit_fee=Decimal("750.00"),
    )

    text = pdf_text(estimate_pdf(estimate), tmp_path)

    assert f"Good Faith Estimate Issued February 20, 2027 · No. {estimate.pk}" in text
    assert "For services expected from March 1, 2027 to May 31, 2027" in text
    assert "This is an estimate, not a bill." in text
    assert "Amara Okafor" in text
    assert "Date of birth June 14, 1991" in text
    assert "NPI 1234567893" in text
    assert "Tax ID (EIN) 94-3216549" in text
    assert "(510) 555-0142 · hello@harborlight.example" in text
    assert "Preparation session, 50 min 90837 2 $200.00 $400.00" in text
    assert "Medicine session, 3.5 hours 90837 3 $750.00 $2,250.00" in text
    assert "Total estimated cost $2,650.00" in text
    assert "Not included: the prescriber's fees and the medicine." in text


def test_the_estimate_carries_her_rights_under_the_no_surprises_act(practice, tmp_path):
    estimate = EstimateLineFactory().estimate

    text = pdf_text(estimate_pdf(estimate), tmp_path)

    assert (
        "You have the right to receive a “Good Faith Estimate” explaining how much your "
        "medical care will cost" in text
    )
    assert (
        "If you receive a bill that is at least $400 more than your Good Faith Estimate, "
        "you can dispute the bill." in text
    )
    assert "within 120 calendar days (about 4 months)" in text
    assert "www.cms.gov/nosurprises or call 1-800-985-3059" in text
    assert "This Good Faith Estimate is not a contract" in text


def test_the_estimate_costs_the_same_queries_with_more_lines(practice):
    estimate = EstimateLineFactory().estimate
    estimate_pdf(estimate)
    few = queries_of(lambda: estimate_pdf(estimate))

    EstimateLineFactory.create_batch(12, estimate=estimate)
    many = queries_of(lambda: estimate_pdf(estimate))

    assert few == many == 2
