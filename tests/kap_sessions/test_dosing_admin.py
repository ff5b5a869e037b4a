"""The medicine session page in the admin, as a browser without JavaScript uses it.

Every part is a plain form POST answered by a redirect to its part of the
page (PRG); the vitals address answers dosing.js in JSON. Amara's session is
booked for Tuesday 5 January 2027, 9:00 to 12:30 in Los Angeles; "now" is
10:30 that morning.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from kap_sessions.models import CourseSession, DosingRecord, PregnancyAttestation, VitalSign
from practice.models import Appointment, AppointmentKind, AuditEvent
from tests.kap_sessions.factories_course import PregnancyAttestationFactory
from tests.kap_sessions.factories_dosing import DRIVER, medicine_session, vitals_row

START = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)  # 9:00 AM in Los Angeles
STARTED = START + timedelta(minutes=5)
NOW = datetime(2027, 1, 5, 18, 30, tzinfo=UTC)  # 10:30 AM


@pytest.fixture
def on_the_day():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def admin_client_mfa(client, therapist, on_the_day):  # type: ignore[no-untyped-def]
    """The therapist signed in on the day (a session from before would have timed out)."""
    client.force_login(therapist)
    return client


@pytest.fixture
def started(practice_profile, on_the_day) -> DosingRecord:  # type: ignore[no-untyped-def]
    return medicine_session(start=START, started_at=STARTED)


@pytest.fixture
def not_started(practice_profile, on_the_day) -> DosingRecord:  # type: ignore[no-untyped-def]
    return medicine_session(start=START)


def page_url(record: DosingRecord) -> str:
    return reverse("admin:kap_sessions_dosingrecord_change", args=[record.pk])


def vitals_url(record: DosingRecord) -> str:
    return reverse("admin:kap_sessions_dosingrecord_vitals", args=[record.pk])


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """The page's words, tags dropped and spaces collapsed."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def row_post(*, key: uuid.UUID | None = None, time: str = "10:30", **readings: object) -> dict:  # type: ignore[type-arg]
    data = {"form": "vital", "vital-entry_key": str(key or uuid.uuid4()), "vital-taken_at": time}
    for name in ("systolic", "diastolic", "heart_rate", "spo2"):
        data[f"vital-{name}"] = readings.get(name, "")
    return data


# --- The page -----------------------------------------------------------------------


def test_the_page_opens_with_her_first_name_the_time_and_the_driver(admin_client_mfa, started):
    response = admin_client_mfa.get(page_url(started))

    assert response.status_code == 200
    text = text_of(response)
    assert "Amara O." in text
    assert "Okafor" not in text
    assert "Tue, Jan 5, 9:00 AM to 12:30 PM" in text
    assert "Started 9:05 AM" in text
    assert f"Driver {DRIVER}, (510) 555-0163" in text
    assert 'href="tel:5105550163"' in response.content.decode()


def test_every_opening_of_the_page_is_audited(admin_client_mfa, started, therapist):
    admin_client_mfa.get(page_url(started))
    admin_client_mfa.get(page_url(started))

    views = AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_type="kap_sessions.dosingrecord"
    )
    assert [(view.actor_id, view.client_id, view.object_id) for view in views] == [
        (therapist.pk, started.session.course.client.pk, str(started.pk))
    ] * 2
    assert views.first().path == page_url(started)


def test_the_page_loads_its_script_and_styles_from_the_site_only(admin_client_mfa, started):
    html = admin_client_mfa.get(page_url(started)).content.decode()

    assert re.search(r'<script src="/static/kap_sessions/dosing[^"]*\.js" defer>', html)
    assert "<script>" not in html
    assert " style=" not in html


def test_the_list_shows_each_session_by_her_short_name_and_where_it_stands(
    admin_client_mfa, started
):
    response = admin_client_mfa.get(reverse("admin:kap_sessions_dosingrecord_changelist"))

    text = text_of(response)
    assert "Amara O." in text
    assert "Under way since 9:05 AM" in text


def test_staff_without_an_authenticator_are_sent_to_set_one_up(
    client, therapist_without_mfa, started
):
    client.force_login(therapist_without_mfa)

    response = client.get(page_url(started))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_signed_out_the_page_asks_for_the_sign_in(client, started):
    response = client.get(page_url(started))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_address_that_names_no_record_is_not_found(admin_client_mfa, started):
    malformed = page_url(started).replace("/change/", "/change/widgets.css/change/")

    assert admin_client_mfa.get(malformed).status_code == 404
    no_record = vitals_url(started).replace(f"/{started.pk}/", "/0/")
    assert admin_client_mfa.post(no_record).status_code == 404


def test_the_page_costs_the_same_queries_with_many_vitals(
    admin_client_mfa, started, django_assert_max_num_queries
):
    for minutes in (15, 30):
        vitals_row(started, minutes=minutes)
    with django_assert_max_num_queries(40) as few:
        admin_client_mfa.get(page_url(started))
    for minutes in range(45, 45 + 15 * 18, 15):
        vitals_row(started, minutes=minutes, systolic=170)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client_mfa.get(page_url(started))

    assert text_of(response).count("Recorded") == 20


# --- Start ------------------------------------------------------------------------------


def test_before_the_start_each_gate_is_shown_met_or_missing(admin_client_mfa, not_started):
    text = text_of(admin_client_mfa.get(page_url(not_started)))

    assert (
        "Missing Pregnancy status attested in the last days: No pregnancy-status attestation "
        "in the last 7 days: ask her and record it." in text
    )
    assert "Missing Blood pressure at the start under the limit" in text
    assert "Start the session" in text
    assert "Vitals are entered once the session has started." in text


def test_a_start_refused_by_its_gates_says_why_in_plain_words(admin_client_mfa, not_started):
    response = admin_client_mfa.post(
        page_url(not_started),
        {"form": "start", "start-baseline_systolic": "152", "start-baseline_diastolic": "94"},
    )

    assert response.status_code == 200
    text = text_of(response)
    assert "The session cannot start yet:" in text
    assert (
        "Pregnancy status attested in the last days: No pregnancy-status attestation in the "
        "last 7 days: ask her and record it." in text
    )
    assert (
        "Blood pressure at the start under the limit: 152/94 is not under the limit of 140/90."
        in text
    )
    assert "Missing Blood pressure at the start under the limit: 152/94 is not under" in text
    not_started.refresh_from_db()
    assert not_started.started_at is None


def test_a_start_without_her_blood_pressure_asks_for_it(admin_client_mfa, not_started):
    response = admin_client_mfa.post(page_url(not_started), {"form": "start"})

    assert response.status_code == 200
    assert text_of(response).count("Enter her blood pressure before the start.") == 2


def test_a_start_with_every_gate_met_starts_the_session(admin_client_mfa, not_started):
    PregnancyAttestationFactory(
        client=not_started.session.course.client, attested_at=NOW - timedelta(days=2)
    )

    response = admin_client_mfa.post(
        page_url(not_started),
        {"form": "start", "start-baseline_systolic": "128", "start-baseline_diastolic": "82"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{page_url(not_started)}#start"
    not_started.refresh_from_db()
    assert (not_started.started_at, not_started.present_from) == (NOW, NOW)
    assert (not_started.baseline_systolic, not_started.baseline_diastolic) == (128, 82)
    text = text_of(admin_client_mfa.get(response["Location"]))
    assert "The session has started." in text
    assert "Started at 10:30 AM, blood pressure before the start 128/82 mmHg." in text


def test_what_she_says_about_pregnancy_is_recorded_on_the_page_and_opens_the_gate(
    admin_client_mfa, not_started, therapist
):
    response = admin_client_mfa.post(
        page_url(not_started), {"form": "attestation", "attestation-status": "not_pregnant"}
    )

    assert response["Location"] == f"{page_url(not_started)}#start"
    [attestation] = PregnancyAttestation.objects.filter(client=not_started.session.course.client)
    assert (attestation.status, attestation.source, attestation.attested_at) == (
        "not_pregnant",
        "in_person",
        NOW,
    )
    assert attestation.recorded_by == therapist
    text = text_of(admin_client_mfa.get(page_url(not_started)))
    assert "Met Pregnancy status attested in the last days: Not pregnant, attested" in text
    assert "Record what she says" not in text


# --- What was given ---------------------------------------------------------------------


def test_the_medication_form_saves_and_comes_back(admin_client_mfa, started):
    response = admin_client_mfa.post(
        page_url(started),
        {
            "form": "medication",
            "medication-medication": "Ketamine",
            "medication-route": "intramuscular",
            "medication-dose_mg": "75",
            "medication-lot_number": "KX-4471",
            "medication-given_at": "09:12",
            "medication-prescriber": "Dr. Ana Whitcombe, MD",
        },
    )

    assert response["Location"] == f"{page_url(started)}#medication"
    started.refresh_from_db()
    assert (started.route, started.dose_mg, started.lot_number) == (
        "intramuscular",
        Decimal("75.0"),
        "KX-4471",
    )
    assert started.given_at == START + timedelta(minutes=12)
    html = admin_client_mfa.get(page_url(started)).content.decode()
    assert 'value="09:12"' in html
    assert 'value="KX-4471"' in html


def test_a_dose_of_zero_is_shown_back_beside_its_field(admin_client_mfa, started):
    response = admin_client_mfa.post(
        page_url(started),
        {"form": "medication", "medication-medication": "Ketamine", "medication-dose_mg": "0"},
    )

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0.1." in text_of(response)


# --- Vitals without JavaScript ------------------------------------------------------------


def test_a_row_of_vitals_is_added_and_the_page_comes_back_to_the_table(
    admin_client_mfa, started, therapist
):
    response = admin_client_mfa.post(
        page_url(started), row_post(time="10:25", systolic=126, diastolic=81, heart_rate=72)
    )

    assert response["Location"] == f"{page_url(started)}#vitals"
    vital = VitalSign.objects.get()
    assert vital.taken_at == datetime(2027, 1, 5, 18, 25, tzinfo=UTC)
    assert (vital.systolic, vital.diastolic, vital.heart_rate, vital.spo2) == (126, 81, 72, None)
    assert vital.recorded_by == therapist
    text = text_of(admin_client_mfa.get(response["Location"]))
    assert "10:25 AM 126 81 72 Recorded" in text


def test_the_entry_row_is_filled_with_the_time_now_and_a_fresh_entry_key(admin_client_mfa, started):
    first = admin_client_mfa.get(page_url(started)).content.decode()
    second = admin_client_mfa.get(page_url(started)).content.decode()

    key = re.compile(r'name="vital-entry_key" value="([0-9a-f-]{36})"')
    assert key.search(first).group(1) != key.search(second).group(1)
    assert re.search(r'type="time" name="vital-taken_at" value="10:30"', first)


def test_a_form_sent_twice_stores_its_row_once(admin_client_mfa, started):
    row = row_post(key=uuid.uuid4(), heart_rate=88)

    admin_client_mfa.post(page_url(started), row)
    admin_client_mfa.post(page_url(started), row)

    assert VitalSign.objects.count() == 1


def test_an_out_of_range_value_is_highlighted_in_colour_and_in_words(admin_client_mfa, started):
    vitals_row(started, systolic=172, spo2=91)

    html = admin_client_mfa.get(page_url(started)).content.decode()

    assert (
        '<td class="out-of-range out-high"><strong>172</strong> <span class="dosing-badge">'
        'high<span class="visually-hidden">, out of range</span></span></td>'
    ) in html
    assert '<td class="out-of-range out-low"><strong>91</strong>' in html
    assert html.count('class="out-of-range') == 2


def test_a_row_without_a_reading_is_shown_back_with_the_message(admin_client_mfa, started):
    response = admin_client_mfa.post(page_url(started), row_post())

    assert response.status_code == 200
    assert "Enter at least one reading." in text_of(response)
    assert VitalSign.objects.count() == 0


# --- Vitals sent by dosing.js -------------------------------------------------------------


def test_the_vitals_address_answers_with_the_stored_row_in_json(admin_client_mfa, started):
    key = uuid.uuid4()

    response = admin_client_mfa.post(
        vitals_url(started), row_post(key=key, time="10:28", systolic=165, spo2=96)
    )

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "row": {
            "entry_key": str(key),
            "taken_at": "10:28 AM",
            "readings": [
                {"name": "systolic", "value": 165, "out_of_range": "high"},
                {"name": "diastolic", "value": None, "out_of_range": ""},
                {"name": "heart_rate", "value": None, "out_of_range": ""},
                {"name": "spo2", "value": 96, "out_of_range": ""},
            ],
        },
    }


def test_a_row_sent_again_to_the_vitals_address_is_the_same_row(admin_client_mfa, started):
    key = uuid.uuid4()

    first = admin_client_mfa.post(vitals_url(started), row_post(key=key, heart_rate=70))
    again = admin_client_mfa.post(vitals_url(started), row_post(key=key, heart_rate=71))

    assert first.json() == again.json()
    assert VitalSign.objects.count() == 1


def test_a_row_the_server_can_never_store_gets_its_errors_in_json(admin_client_mfa, started):
    response = admin_client_mfa.post(vitals_url(started), row_post(spo2=140))
    empty = admin_client_mfa.post(vitals_url(started), row_post())

    assert response.status_code == 400
    assert response.json()["errors"]["spo2"][0]["message"] == (
        "Ensure this value is less than or equal to 100."
    )
    assert empty.json()["errors"]["__all__"][0]["message"] == "Enter at least one reading."


def test_signed_out_the_vitals_address_sends_to_the_sign_in_and_stores_nothing(client, started):
    response = client.post(vitals_url(started), row_post(heart_rate=70))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert VitalSign.objects.count() == 0


def test_the_vitals_address_takes_posts_only(admin_client_mfa, started):
    assert admin_client_mfa.get(vitals_url(started)).status_code == 405


# --- Adverse events, observations, presence ------------------------------------------------


def test_an_adverse_event_is_recorded_from_the_page(admin_client_mfa, started):
    response = admin_client_mfa.post(
        page_url(started),
        {
            "form": "adverse",
            "adverse-at": "10:02",
            "adverse-severity": "mild",
            "adverse-description": "Dizzy when sitting up.",
            "adverse-action_taken": "Lay back down, water.",
        },
    )

    assert response["Location"] == f"{page_url(started)}#adverse-events"
    text = text_of(admin_client_mfa.get(page_url(started)))
    assert "10:02 AM, mild: Dizzy when sitting up. What you did: Lay back down, water." in text


def test_an_adverse_event_without_words_opens_the_form_with_the_message(admin_client_mfa, started):
    response = admin_client_mfa.post(
        page_url(started), {"form": "adverse", "adverse-at": "10:02", "adverse-severity": "mild"}
    )

    html = response.content.decode()
    assert '<details class="dosing-details" open>' in html
    assert "This field is required." in text_of(response)


def test_observations_are_saved_from_the_page(admin_client_mfa, started):
    admin_client_mfa.post(
        page_url(started),
        {"form": "observations", "observations-observations": "Quiet, tearful at 9:40."},
    )

    started.refresh_from_db()
    assert started.observations == "Quiet, tearful at 9:40."


def test_a_presence_shorter_than_the_session_is_flagged_on_the_page(admin_client_mfa, started):
    admin_client_mfa.post(
        page_url(started),
        {"form": "presence", "presence-present_from": "09:05", "presence-present_until": "10:15"},
    )

    text = text_of(admin_client_mfa.get(page_url(started)))
    assert (
        "Presence shorter than the session. Your presence ends at 10:15 AM, "
        "and she is not discharged yet." in text
    )


def test_an_unknown_form_is_a_bad_request(admin_client_mfa, started):
    assert admin_client_mfa.post(page_url(started), {"form": "nothing"}).status_code == 400


# --- Discharge -----------------------------------------------------------------------------


def test_an_incomplete_checklist_is_refused_with_what_is_missing(admin_client_mfa, started):
    response = admin_client_mfa.post(
        page_url(started),
        {
            "form": "discharge",
            "discharge-alert_and_oriented": "on",
            "discharge-discharged_at": "10:30",
        },
    )

    assert response.status_code == 200
    assert "Before she leaves: steady on her feet, driver present." in text_of(response)
    started.refresh_from_db()
    assert started.discharged_at is None


@pytest.mark.usefixtures("weekly_hours")
def test_discharge_completes_the_session_and_books_the_check_in(admin_client_mfa, started):
    response = admin_client_mfa.post(
        page_url(started),
        {
            "form": "discharge",
            "discharge-alert_and_oriented": "on",
            "discharge-steady_on_feet": "on",
            "discharge-driver_present": "on",
            "discharge-discharged_at": "10:30",
        },
    )

    assert response["Location"] == f"{page_url(started)}#discharge"
    started.refresh_from_db()
    assert started.discharged_at == NOW
    assert started.session.appointment.status == Appointment.Status.COMPLETED
    check_in = CourseSession.objects.get(kind=AppointmentKind.CHECK_IN)
    assert check_in.appointment.start == START + timedelta(days=1)
    shown = admin_client_mfa.get(page_url(started))
    text = text_of(shown)
    assert "She is discharged and the session is completed." in text
    assert "Check-in booked for Wed, Jan 6, 9:00 AM." in text
    assert "First free time for the integration session:" in text
    page = shown.content.decode()
    book = reverse("admin:kap_sessions_course_book", args=[started.session.course_id])
    assert f'<a href="{book}?kind=integration&amp;start=' in page
    assert "Discharged at 10:30 AM: alert and oriented, steady on her feet, driver present." in text
