"""The course in the admin: its page, its forms, every gate both ways, the session pages.

"Now" is frozen at Monday 4 January 2027, 08:00 in Los Angeles; the practice
keeps Monday to Friday 9:00-17:00 (tests/support/calendar.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kap_sessions.models import (
    ContraindicationOutcome,
    Course,
    CourseSession,
    CourseSettings,
    DosingRecord,
    MedicalClearance,
    PregnancyAttestation,
)
from kap_sessions.services import session_book
from practice.models import (
    Appointment,
    AppointmentKind,
    AuditEvent,
    MeetingMode,
    PracticeProfile,
)
from tests.kap_sessions.factories import ClientContraindicationFactory, ConsentDocumentFactory
from tests.kap_sessions.factories_course import (
    PregnancyAttestationFactory,
    held_session,
    ready_course,
)
from tests.support.calendar import NOW

pytestmark = pytest.mark.django_db


def la(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 1, day, 8, tzinfo=UTC) + timedelta(hours=hour, minutes=minute)


def book_url(course: Course) -> str:
    return reverse("admin:kap_sessions_course_book", args=[course.pk])


def post_booking(admin_client, course, **fields):
    data = {
        "kind": "dosing",
        "day": "2027-01-05",
        "at": "9:00 AM",
        "mode": "in_person",
        "video_url": "",
        "override_reason": "",
        **fields,
    }
    return admin_client.post(book_url(course), data)


@pytest.fixture(autouse=True)
def _frozen(frozen_now):
    """Frozen before the therapist signs in (her session must not look years old)."""


@pytest.fixture
def course(weekly_hours):
    return ready_course()


def medicine_sessions(course) -> list[CourseSession]:
    return list(CourseSession.objects.filter(course=course, kind="dosing"))


# --- Booking through the admin: every gate both ways -------------------------------------------


def test_a_ready_course_books_a_medicine_session_from_the_admin(
    admin_client_mfa, course, therapist
):
    response = post_booking(admin_client_mfa, course)

    assert response.status_code == 302
    assert response.url == reverse("admin:kap_sessions_course_change", args=[course.pk])
    [session] = medicine_sessions(course)
    assert (session.appointment.start, session.appointment.mode, session.created_by) == (
        la(5, 9),
        "in_person",
        therapist,
    )
    page = admin_client_mfa.get(response.url).content.decode()
    assert "Booked: Medicine session 1" in page


def _not_eligible(course):
    ClientContraindicationFactory(
        client=course.client,
        contraindication__plain_words="Uncontrolled high blood pressure",
        contraindication__outcome=ContraindicationOutcome.NOT_ELIGIBLE,
    )


def _consent_to_sign(course):
    ConsentDocumentFactory(title="Informed consent, 2027 edition")


def _no_clearance(course):
    course.clearances.all().delete()


def _no_preparation(course):
    CourseSession.objects.filter(course=course).update(kind="integration")


def _no_driver(course):
    Course.objects.filter(pk=course.pk).update(driver_name="")


@pytest.mark.parametrize(
    ("close", "detail"),
    [
        (_not_eligible, "Not eligible: Uncontrolled high blood pressure."),
        (_consent_to_sign, "Still to sign: Informed consent, 2027 edition."),
        (_no_clearance, "No clearance recorded yet."),
        (_no_preparation, "No preparation session held yet."),
        (_no_driver, "No driver named yet."),
    ],
)
def test_each_missing_gate_refuses_the_booking_in_the_admin_in_plain_words(
    admin_client_mfa, course, close, detail
):
    close(course)

    response = post_booking(admin_client_mfa, course)

    assert response.status_code == 200
    page = response.content.decode()
    assert "A medicine session cannot be booked yet: see what is missing." in page
    assert "Missing before a medicine session can be booked" in page
    assert detail in page
    assert medicine_sessions(course) == []


def test_the_admin_books_past_eligibility_with_a_reason(admin_client_mfa, course):
    _not_eligible(course)

    response = post_booking(
        admin_client_mfa, course, override_reason="Her cardiologist cleared her by phone."
    )

    assert response.status_code == 302
    [session] = medicine_sessions(course)
    assert session.gate_override_reason == "Her cardiologist cleared her by phone."


def test_a_reason_in_the_admin_does_not_pass_another_gate(admin_client_mfa, course):
    _not_eligible(course)
    _no_driver(course)

    response = post_booking(admin_client_mfa, course, override_reason="Cleared by phone.")

    page = response.content.decode()
    assert "No driver named yet." in page
    assert medicine_sessions(course) == []


def test_the_admin_refuses_a_medicine_session_by_video(admin_client_mfa, course):
    response = post_booking(admin_client_mfa, course, mode="video")

    assert "A medicine session is always in person" in response.content.decode()
    assert medicine_sessions(course) == []


def test_the_admin_refuses_a_taken_time(admin_client_mfa, course):
    held_session(course, start=la(5, 9, 30), status=Appointment.Status.BOOKED)

    response = post_booking(admin_client_mfa, course)

    assert "That time is taken on your calendar: choose another." in response.content.decode()


def test_the_booking_page_lists_the_gates(admin_client_mfa, course):
    _no_clearance(course)

    page = admin_client_mfa.get(book_url(course) + "?kind=integration").content.decode()

    assert "<strong>Missing</strong>: Medical clearance from the prescriber." in page
    assert "<strong>Met</strong>: A driver named to take her home." in page
    assert 'value="integration" selected' in page


@pytest.mark.parametrize(
    "start", ["tomorrow", "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"]
)
def test_a_proposed_time_edited_by_hand_opens_an_empty_booking_form(
    admin_client_mfa, course, start
):
    response = admin_client_mfa.get(book_url(course), {"kind": "integration", "start": start})

    form = response.context["form"]
    assert (form["kind"].value(), form["day"].value(), form["at"].value()) == (
        "integration",
        None,
        None,
    )


def test_a_proposed_time_fills_in_the_booking_form_in_practice_time(admin_client_mfa, course):
    start = datetime(2027, 1, 6, 17, 30, tzinfo=UTC).isoformat()  # 9:30 AM in Los Angeles

    response = admin_client_mfa.get(book_url(course), {"kind": "integration", "start": start})

    form = response.context["form"]
    assert (str(form["day"].value()), str(form["at"].value())) == ("2027-01-06", "09:30:00")


# --- Starting through the admin (the session record's start form) -------------------------------


@pytest.fixture
def booked(course):
    return session_book(
        course=course,
        kind=AppointmentKind.DOSING,
        start=la(5, 9),
        mode=MeetingMode.IN_PERSON,
        now=NOW,
    )


def post_start(admin_client, session, systolic, diastolic):
    record = DosingRecord.objects.get(session=session)
    url = reverse("admin:kap_sessions_dosingrecord_change", args=[record.pk])
    return admin_client.post(
        url,
        {
            "form": "start",
            "start-baseline_systolic": systolic,
            "start-baseline_diastolic": diastolic,
        },
    )


@pytest.mark.parametrize(
    ("attested", "systolic", "diastolic", "started", "words"),
    [
        (True, 128, 82, True, ""),
        (False, 128, 82, False, "No pregnancy-status attestation in the last 7 days"),
        (True, 140, 82, False, "140/82 is not under the limit of 140/90."),
    ],
)
def test_the_start_gates_through_the_admin(
    admin_client_mfa, therapist, booked, time_machine, attested, systolic, diastolic, started, words
):
    time_machine.move_to(la(5, 8, 45), tick=False)
    admin_client_mfa.force_login(therapist)  # a new day: she signs in again
    if attested:
        PregnancyAttestationFactory(client=booked.course.client, attested_at=la(5, 8, 30))

    response = post_start(admin_client_mfa, booked, systolic, diastolic)

    record = DosingRecord.objects.get(session=booked)
    assert record.is_started is started
    if words:
        assert words in response.content.decode()


# --- The course page ---------------------------------------------------------------------------


def test_the_course_page_shows_history_plan_gates_sessions_and_measures(
    admin_client_mfa, course, therapist
):
    PracticeProfile.objects.filter(pk=1).update(licensed_states=["CA"])
    Course.objects.filter(pk=course.pk).update(planned_end_on=date(2027, 1, 1))
    session_book(
        course=course,
        kind=AppointmentKind.PREPARATION,
        start=la(6, 10),
        mode=MeetingMode.VIDEO,
        location_state="NV",
        now=NOW,
    )
    dosing = session_book(
        course=course, kind=AppointmentKind.DOSING, start=la(5, 9), mode="in_person", now=NOW
    )

    response = admin_client_mfa.get(reverse("admin:kap_sessions_course_change", args=[course.pk]))

    page = response.content.decode()
    assert "This course is past its planned end (Fri, Jan 1, 2027)." in page
    assert "0 of 3 medicine sessions held, 1 booked." in page
    assert "<strong>Met</strong>: Medical clearance from the prescriber." in page
    # Its start would be blocked: no attestation yet; a way to reschedule.
    assert "No pregnancy-status attestation in the last 7 days" in page
    reschedule = reverse("admin:kap_sessions_coursesession_reschedule", args=[dosing.pk])
    assert "reschedule the session</a>" in page and reschedule in page
    assert "she is in Nevada, where you are not licensed" in page
    assert reverse("admin:kap_sessions_coursesession_change", args=[dosing.pk]) in page
    assert reverse("admin:kap_sessions_dosingrecord_change", args=[dosing.dosing_record.pk]) in page
    assert 'id="course-measures-heading"' in page
    assert reverse("kap_sessions:admin_course_summary_pdf", args=[course.pk]) in page
    assert AuditEvent.objects.filter(
        action="view",
        object_type="kap_sessions.course",
        client_id=course.client.pk,
        actor_id=therapist.pk,
    ).exists()


def test_the_start_gates_read_met_once_she_has_attested(admin_client_mfa, course, booked):
    PregnancyAttestationFactory(client=course.client, attested_at=NOW - timedelta(hours=1))

    page = admin_client_mfa.get(
        reverse("admin:kap_sessions_course_change", args=[course.pk])
    ).content.decode()

    assert "<strong>Met</strong>: Pregnancy status attested in the last days." in page
    assert "The start would be blocked" not in page


def test_the_course_page_costs_the_same_for_more_sessions(
    admin_client_mfa, course, django_assert_max_num_queries
):
    url = reverse("admin:kap_sessions_course_change", args=[course.pk])
    admin_client_mfa.get(url)
    with django_assert_max_num_queries(80) as few:
        admin_client_mfa.get(url)
    for day in range(8, 20):
        held_session(course, start=la(day, 10))
        held_session(course, kind=AppointmentKind.DOSING, start=la(day, 13))

    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client_mfa.get(url)


# --- The other forms of the course -------------------------------------------------------------


def test_the_clearance_form_records_it_with_its_letter(
    admin_client_mfa, course, therapist, settings, tmp_path
):
    settings.PRIVATE_FILES_ROOT = str(tmp_path)
    course.clearances.all().delete()
    letter = SimpleUploadedFile("letter.pdf", b"%PDF-1.7\n% letter\n", "application/pdf")

    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_course_clearance", args=[course.pk]),
        {
            "prescriber": "Dr. Ana Whitcombe, MD",
            "cleared_on": "2027-01-02",
            "note": "",
            "letter": letter,
        },
    )

    assert response.status_code == 302
    clearance = MedicalClearance.objects.get(course=course)
    assert (clearance.cleared_on, clearance.recorded_by) == (date(2027, 1, 2), therapist)
    assert clearance.letter is not None and clearance.letter.visible_to_client is False


def test_the_clearance_form_refuses_a_date_to_come(admin_client_mfa, course):
    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_course_clearance", args=[course.pk]),
        {"prescriber": "Dr. A", "cleared_on": "2027-02-01"},
    )

    assert "The clearance date cannot be in the future." in response.content.decode()


def test_the_attestation_form_records_what_she_said_in_person(admin_client_mfa, course, therapist):
    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_course_attestation", args=[course.pk]),
        {"status": "not_pregnant", "day": "2027-01-04", "at": "7:30 AM"},
    )

    assert response.status_code == 302
    attestation = PregnancyAttestation.objects.get(client=course.client)
    assert (attestation.status, attestation.source, attestation.recorded_by) == (
        "not_pregnant",
        "in_person",
        therapist,
    )
    assert attestation.attested_at == la(4, 7, 30)


def test_the_move_form_asks_for_a_reason_to_complete_early(admin_client_mfa, course):
    Course.objects.filter(pk=course.pk).update(phase="integration")
    url = reverse("admin:kap_sessions_course_advance", args=[course.pk])

    refused = admin_client_mfa.post(url, {"to": "completed", "reason": ""})
    done = admin_client_mfa.post(url, {"to": "completed", "reason": "Moving abroad."})

    assert "0 of 3 planned medicine sessions are held" in refused.content.decode()
    assert done.status_code == 302
    course.refresh_from_db()
    assert course.phase == "completed"
    assert course.phase_changes.get(phase="completed").note == "Moving abroad."


def test_a_course_added_in_the_admin_opens_through_the_service(admin_client_mfa, weekly_hours):
    from tests.factories import ClientFactory

    client = ClientFactory()

    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_course_add"),
        {
            "client": client.pk,
            "planned_dosing_sessions": 2,
            "planned_end_on": "",
            "driver_name": "Sam",
            "driver_phone": "",
            "closing_summary": "",
        },
    )

    assert response.status_code == 302
    course = Course.objects.get(client=client)
    assert (course.planned_dosing_sessions, course.driver_name) == (2, "Sam")
    assert [change.phase for change in course.phase_changes.all()] == ["preparation"]
    assert course.planned_end_on is not None


# --- The session pages -------------------------------------------------------------------------


def test_a_session_is_rescheduled_from_its_page(admin_client_mfa, booked):
    url = reverse("admin:kap_sessions_coursesession_reschedule", args=[booked.pk])

    held_session(booked.course, start=la(7, 9), status=Appointment.Status.BOOKED)
    overlapping = admin_client_mfa.post(url, {"day": "2027-01-07", "at": "9:00 AM"})
    moved = admin_client_mfa.post(url, {"day": "2027-01-08", "at": "10:00 AM"})

    assert "That time is taken" in overlapping.content.decode()
    assert moved.status_code == 302
    booked.refresh_from_db()
    assert booked.appointment.start == la(8, 10)


def test_a_session_is_held_or_cancelled_from_its_page(
    admin_client_mfa, therapist, course, time_machine
):
    preparation = session_book(
        course=course, kind="preparation", start=la(5, 9), mode="in_person", now=NOW
    )
    other = session_book(course=course, kind="integration", start=la(6, 9), mode="phone", now=NOW)

    early = admin_client_mfa.post(
        reverse("admin:kap_sessions_coursesession_do", args=[preparation.pk, "complete"]),
        follow=True,
    )
    time_machine.move_to(la(5, 10), tick=False)
    admin_client_mfa.force_login(therapist)
    admin_client_mfa.post(
        reverse("admin:kap_sessions_coursesession_do", args=[preparation.pk, "complete"])
    )
    admin_client_mfa.post(reverse("admin:kap_sessions_coursesession_do", args=[other.pk, "cancel"]))

    assert "cannot be marked before it has started" in early.content.decode()
    preparation.appointment.refresh_from_db()
    other.appointment.refresh_from_db()
    assert (preparation.appointment.status, other.appointment.status) == ("completed", "cancelled")


def test_the_list_actions_go_through_the_services(admin_client_mfa, booked):
    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_coursesession_changelist"),
        {"action": "complete", "_selected_action": [booked.pk]},
        follow=True,
    )

    notes = [str(m) for m in response.context["messages"]]
    assert notes == [
        f"{booked}: Start this session (her attestation and blood pressure) before marking it held."
    ]


def test_her_location_is_edited_on_the_session_page_with_a_licence_warning(
    admin_client_mfa, course, therapist
):
    PracticeProfile.objects.filter(pk=1).update(licensed_states=["CA", "OR"])
    video = session_book(course=course, kind="preparation", start=la(5, 9), mode="video", now=NOW)
    url = reverse("admin:kap_sessions_coursesession_change", args=[video.pk])

    admin_client_mfa.post(url, {"location_state": "WA"})
    page = admin_client_mfa.get(url).content.decode()

    video.refresh_from_db()
    assert video.location_state == "WA"
    assert "she is in Washington, where you are not licensed" in page
    assert AuditEvent.objects.filter(
        action="change", object_type="kap_sessions.coursesession", object_id=str(video.pk)
    ).exists()


# --- Settings ------------------------------------------------------------------------------------


def test_the_course_settings_open_as_one_row(admin_client_mfa):
    response = admin_client_mfa.get(reverse("admin:kap_sessions_coursesettings_changelist"))

    assert response.url == reverse("admin:kap_sessions_coursesettings_change", args=[1])
    assert CourseSettings.objects.get().baseline_systolic_limit == 140


def test_the_practice_profile_edits_the_licensed_states(admin_client_mfa, practice_profile):
    url = reverse("admin:practice_practiceprofile_change", args=[1])
    page = admin_client_mfa.get(url).content.decode()
    assert 'name="licensed_states"' in page
    data = {
        field: getattr(practice_profile, field)
        for field in [
            "practice_name",
            "tagline",
            "time_zone",
            "terms_version",
            "therapist_name",
            "therapist_credentials",
            "license_number",
            "therapist_bio",
            "phone",
            "email",
            "street_address",
            "locality",
            "region",
            "postal_code",
            "country",
            "video_room_url",
        ]
    }

    response = admin_client_mfa.post(url, {**data, "licensed_states": ["OR", "CA"]})

    assert response.status_code == 302
    assert PracticeProfile.objects.get().licensed_states == ["CA", "OR"]
