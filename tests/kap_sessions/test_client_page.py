"""The KAP panels of a client's page in the admin, and the open safety flags on Today.

A client is followed through preparation: invited (nothing yet), intake half
done, questionnaires due and answered, consents signed and missing, eligible
by the therapist's decision, and a safety flag open then acknowledged. Each
panel says what it should at each point, with the links the therapist uses.

"Now" is Monday 4 January 2027, 8:00 AM in Los Angeles (the practice's zone).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from kap_sessions.client_panels import SECTION_LABELS
from kap_sessions.models import (
    SECTIONS,
    ConsentDocument,
    ConsentKind,
    EligibilityStatus,
    Intake,
    SafetySource,
    ScreeningStatus,
)
from kap_sessions.services import eligibility_override, safety_flag_acknowledge
from practice import dashboard
from practice.client_panels import client_panels
from practice.models import Client, ClientDocument
from tests.factories import ClientDocumentFactory, ClientFactory, CourseFactory
from tests.kap_sessions.factories import (
    ConsentDocumentFactory,
    ConsentSignatureFactory,
    IntakeFactory,
    SafetyFlagFactory,
    ScreeningAssignmentFactory,
    ScreeningResponseFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 4, 16, 0, tzinfo=UTC)  # Mon, Jan 4, 8:00 AM in Los Angeles
LAST_MONTH = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)  # Mon, Dec 7, 2026, 10:30 AM

# Every part of the intake answered, with nothing that counts against her.
ANSWERS = {
    "blood_pressure": "normal",
    "heart_condition": False,
    "liver_condition": False,
    "bladder_condition": False,
    "glaucoma": False,
    "seizures": False,
    "psychosis_history": False,
    "mania_or_bipolar": False,
    "psychiatric_hospitalization": False,
    "current_suicidal_thoughts": False,
    "substance_use": "none",
    "medications": "Sertraline 50 mg daily",
    "allergies": "none",
    "pregnant": "no",
    "breastfeeding": True,
    "prior_ketamine": False,
    "prior_psychedelics": False,
    "driver_name": "Chidi Okafor",
    "driver_phone": "(510) 555-0199",
    "childcare_plan": "My mother takes the children for the day.",
    "state": "CA",
    "emergency_contact_name": "Chidi Okafor",
    "emergency_contact_phone": "(510) 555-0199",
}


@pytest.fixture(autouse=True)
def now():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def consent_documents(db):  # type: ignore[no-untyped-def]
    """The four documents every client signs, each in its current version (the test's own)."""
    ConsentDocument.objects.all().delete()
    kinds = [
        ConsentKind.KAP_INFORMED_CONSENT,
        ConsentKind.PRIVACY_NOTICE,
        ConsentKind.FINANCIAL_POLICY,
        ConsentKind.RELEASE_PRESCRIBER,
    ]
    return {
        kind: ConsentDocumentFactory(kind=kind, version=1, title=str(kind.label)) for kind in kinds
    }


@pytest.fixture
def amara(practice_profile) -> Client:  # type: ignore[no-untyped-def]
    return ClientFactory(first_name="Amara", last_name="Okafor", email="amara@example.com")


def answer(intake: Intake, *, parts: int) -> Intake:
    """Answer the first ``parts`` parts of her intake."""
    for section in SECTIONS[:parts]:
        for name in section.fields:
            if name in ANSWERS:
                setattr(intake, name, ANSWERS[name])
        for name in section.client_fields:
            if name in ANSWERS:
                setattr(intake.client, name, ANSWERS[name])
    intake.client.save()
    intake.save()
    return intake


def open_client_page(admin_client, client: Client):  # type: ignore[no-untyped-def]
    response = admin_client.get(reverse("admin:practice_client_change", args=[client.pk]))
    assert response.status_code == 200
    return response


def panel_data(response, name: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return next(p.data for p in response.context["client_panels"] if p.panel.name == name)


def panel_html(response, name: str) -> str:  # type: ignore[no-untyped-def]
    slug = name.replace(".", "-").replace("_", "-")
    html = response.content.decode()
    start = html.index(f'<section class="workspace-panel client-panel-{slug}"')
    return html[start : html.index("</section>", start)]


def panel_text(response, name: str) -> str:  # type: ignore[no-untyped-def]
    """The panel as read: tags dropped, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", panel_html(response, name)).split())


# --- The page's panels -------------------------------------------------------------------


def test_kap_registers_its_panels_on_the_client_page_in_reading_order():
    assert [(panel.name, panel.order) for panel in client_panels()] == [
        ("kap_sessions.safety", 10),
        ("kap_sessions.course_timeline", 15),
        ("kap_sessions.preparation", 20),
        ("kap_sessions.eligibility", 30),
        ("kap_sessions.scores", 40),
        ("kap_sessions.outstanding", 50),
        ("kap_sessions.consents", 60),
        ("practice.documents", 70),
        ("practice.access_history", 95),
    ]


def test_every_part_of_the_intake_has_a_name_for_the_therapist():
    assert sorted(SECTION_LABELS) == sorted(section.name for section in SECTIONS)


# --- Invited: nothing yet ------------------------------------------------------------------


def test_a_client_just_invited_has_nothing_yet_in_any_panel(
    admin_client_mfa, amara, consent_documents
):
    response = open_client_page(admin_client_mfa, amara)

    assert panel_text(response, "kap_sessions.safety") == "Safety flags None raised."
    assert panel_text(response, "kap_sessions.preparation") == (
        "Preparation No KAP course started yet. Start her course Intake: not started ."
    )
    assert "Not known yet: she has not started her intake." in panel_text(
        response, "kap_sessions.eligibility"
    )
    assert panel_text(response, "kap_sessions.scores") == (
        "Questionnaire scores No questionnaire answered yet."
    )
    assert "Nothing waiting for her." in panel_text(response, "kap_sessions.outstanding")
    assert panel_text(response, "kap_sessions.consents") == (
        "Consents 4 to sign before a dosing session. To sign "
        "Informed consent for ketamine-assisted psychotherapy , version 1 "
        "Notice of privacy practices , version 1 "
        "Financial policy , version 1 "
        "Permission to share information with your prescriber , version 1 "
        "Nothing signed yet."
    )


def test_with_no_course_yet_the_start_link_opens_the_course_form_for_her(admin_client_mfa, amara):
    response = open_client_page(admin_client_mfa, amara)
    start = panel_data(response, "kap_sessions.preparation")["start_url"]

    form = admin_client_mfa.get(start)

    assert start == f"/admin/kap_sessions/course/add/?client={amara.pk}"
    assert form.status_code == 200
    assert form.context["adminform"].form["client"].value() == str(amara.pk)


def test_once_her_course_has_started_the_panel_links_to_it_not_to_a_new_one(
    admin_client_mfa, amara
):
    course = CourseFactory(client=amara)

    data = panel_data(open_client_page(admin_client_mfa, amara), "kap_sessions.preparation")

    assert data["start_url"] == ""
    assert data["course_url"] == f"/admin/kap_sessions/course/{course.pk}/change/"


def test_the_assign_link_opens_the_assign_form_for_her(admin_client_mfa, amara):
    response = open_client_page(admin_client_mfa, amara)
    assign = panel_data(response, "kap_sessions.outstanding")["assign_url"]

    form = admin_client_mfa.get(assign)

    assert assign == f"/admin/kap_sessions/screeningassignment/assign/?client={amara.pk}"
    assert form.status_code == 200
    assert form.context["form"]["client"].value() == str(amara.pk)


# --- Intake half done ------------------------------------------------------------------------


def test_a_half_done_intake_shows_which_parts_are_done_and_which_are_missing(
    admin_client_mfa, amara
):
    CourseFactory(client=amara, started_on=date(2026, 12, 28))
    with time_machine.travel(NOW - timedelta(hours=20), tick=False):  # Sun, Jan 3, noon
        answer(IntakeFactory(client=amara), parts=4)

    response = open_client_page(admin_client_mfa, amara)

    data = panel_data(response, "kap_sessions.preparation")
    assert [(row.title, row.done) for row in data["sections"]] == [
        ("Physical health", True),
        ("Mental health", True),
        ("Alcohol and other substances", True),
        ("Medications and allergies", True),
        ("Pregnancy and breastfeeding", False),
        ("Past experience", False),
        ("Where she lives and who to call", False),
        ("Getting home and her children", False),
    ]
    text = panel_text(response, "kap_sessions.preparation")
    assert "KAP course: Preparation since Mon, Jan 4 · started Mon, Dec 28, 2026" in text
    assert "Intake: 4 of 8 parts answered, not sent yet · last saved Sun, Jan 3, 12:00 PM" in text
    assert "Done Medications and allergies Missing Pregnancy and breastfeeding" in text
    assert "(from her answers so far: her intake is not sent)" in panel_text(
        response, "kap_sessions.eligibility"
    )


def test_the_client_page_shows_no_intake_answer_in_words(admin_client_mfa, amara):
    answer(IntakeFactory(client=amara, submitted_at=NOW), parts=len(SECTIONS))

    html = open_client_page(admin_client_mfa, amara).content.decode()

    assert "Sertraline" not in html
    assert "My mother takes the children" not in html


def test_a_sent_intake_says_when_and_lists_no_parts(admin_client_mfa, amara):
    intake = IntakeFactory(
        client=amara, started_at=NOW - timedelta(days=3), submitted_at=NOW - timedelta(days=1)
    )
    answer(intake, parts=len(SECTIONS))

    response = open_client_page(admin_client_mfa, amara)

    assert panel_data(response, "kap_sessions.preparation")["sections"] == []
    assert "Intake: sent Sun, Jan 3, 8:00 AM ." in panel_text(response, "kap_sessions.preparation")
    assert panel_text(response, "kap_sessions.eligibility").startswith(
        "Eligibility Eligible No contraindication applies."
    )


# --- Questionnaires due, then answered -----------------------------------------------------


def test_open_questionnaires_are_listed_earliest_first_with_the_overdue_marked(
    admin_client_mfa, amara
):
    ScreeningAssignmentFactory(client=amara, instrument="epds", due_on=date(2027, 1, 12))
    late = ScreeningAssignmentFactory(client=amara, instrument="gad-7", due_on=date(2027, 1, 1))
    ScreeningAssignmentFactory(client=amara, instrument="phq-9", due_on=date(2027, 1, 4))
    ScreeningAssignmentFactory(
        client=amara, instrument="phq-9", due_on=date(2026, 12, 1), status=ScreeningStatus.WITHDRAWN
    )
    ScreeningAssignmentFactory(instrument="phq-9", due_on=date(2026, 12, 1))  # someone else's

    response = open_client_page(admin_client_mfa, amara)

    rows = panel_data(response, "kap_sessions.outstanding")["assignments"]
    assert [(row.name, row.due, row.overdue) for row in rows] == [
        ("GAD-7", "Fri, Jan 1", True),
        ("PHQ-9", "Mon, Jan 4", False),
        ("EPDS", "Tue, Jan 12", False),
    ]
    html = panel_html(response, "kap_sessions.outstanding")
    assert (
        f'<a href="/admin/kap_sessions/screeningassignment/{late.pk}/change/">GAD-7</a> '
        "· due Fri, Jan 1 · <strong"
    ) in html
    assert html.count(">overdue</strong>") == 1
    assert f'href="/admin/kap_sessions/screeningassignment/?client__id__exact={amara.pk}"' in html


def phq9(client: Client, total: int, band: str, at: datetime, **fields: object):  # type: ignore[no-untyped-def]
    return ScreeningResponseFactory(
        assignment__client=client,
        assignment__instrument="phq-9",
        total=total,
        band=band,
        completed_at=at,
        **fields,
    )


def test_scores_show_the_latest_with_its_band_change_and_trend(admin_client_mfa, amara):
    first = phq9(amara, 14, "Moderate", LAST_MONTH)
    phq9(amara, 11, "Moderate", LAST_MONTH + timedelta(days=14))
    latest = phq9(amara, 8, "Mild", NOW - timedelta(days=1))
    epds = ScreeningResponseFactory(
        assignment__client=amara,
        assignment__instrument="epds",
        total=12,
        band="Possible depression",
        completed_at=NOW - timedelta(days=1),
    )
    phq9(ClientFactory(), 27, "Severe", NOW)  # someone else's

    response = open_client_page(admin_client_mfa, amara)

    rows = panel_data(response, "kap_sessions.scores")["instruments"]
    assert [(row.name, row.latest.total, row.latest.band, row.change) for row in rows] == [
        ("PHQ-9", 8, "Mild", "-3 since the last (11)"),
        ("EPDS", 12, "Possible depression", "her first"),
    ]
    assert rows[0].trend_text == "14 → 11 → 8"
    text = panel_text(response, "kap_sessions.scores")
    assert "PHQ-9: 8 of 27 , Mild · -3 since the last (11) · Sun, Jan 3, 8:00 AM" in text
    assert "EPDS: 12 of 30 , Possible depression · her first" in text
    html = panel_html(response, "kap_sessions.scores")
    assert f'<a href="/admin/kap_sessions/screeningresponse/{first.pk}/change/">14<' in html
    assert f'<a href="/admin/kap_sessions/screeningresponse/{latest.pk}/change/">8<' in html
    assert "Earlier ones" not in html
    # Her only EPDS has no trend yet: a link to her answers.
    assert f'<a href="/admin/kap_sessions/screeningresponse/{epds.pk}/change/">Her answers<' in html


def test_the_trend_reads_the_last_five_and_links_to_the_earlier_ones(admin_client_mfa, amara):
    for i, total in enumerate([20, 18, 15, 14, 11, 9, 8]):
        phq9(amara, total, "Mild", LAST_MONTH + timedelta(days=i))

    response = open_client_page(admin_client_mfa, amara)

    [row] = panel_data(response, "kap_sessions.scores")["instruments"]
    assert row.trend_text == "15 → 14 → 11 → 9 → 8"
    assert row.earlier_url == (
        f"/admin/kap_sessions/screeningresponse/?client__id__exact={amara.pk}"
        "&instrument__exact=phq-9"
    )
    assert admin_client_mfa.get(row.earlier_url).status_code == 200


def test_a_score_whose_safety_item_was_above_zero_says_so(admin_client_mfa, amara):
    phq9(amara, 16, "Moderately severe", NOW - timedelta(hours=1), safety=True)

    response = open_client_page(admin_client_mfa, amara)

    assert "safety item above zero" in panel_text(response, "kap_sessions.scores")


# --- Consents -------------------------------------------------------------------------------


def test_consents_list_what_she_signed_with_the_pdf_and_what_is_left(
    admin_client_mfa, amara, consent_documents
):
    pdf = ClientDocumentFactory(client=amara, kind=ClientDocument.Kind.SIGNED_CONSENT)
    signed = ConsentSignatureFactory(
        client=amara,
        document=consent_documents[ConsentKind.KAP_INFORMED_CONSENT],
        signed_at=NOW - timedelta(days=2),
        pdf=pdf,
    )
    ConsentSignatureFactory(
        client=amara,
        document=consent_documents[ConsentKind.PRIVACY_NOTICE],
        signed_at=NOW - timedelta(days=2),
    )

    response = open_client_page(admin_client_mfa, amara)

    data = panel_data(response, "kap_sessions.consents")
    assert data["required_left"] == 2
    assert [row.title for row in data["to_sign"]] == [
        "Financial policy",
        "Permission to share information with your prescriber",
    ]
    assert [(row.title, row.current) for row in data["signed"]] == [
        ("Informed consent for ketamine-assisted psychotherapy", True),
        ("Notice of privacy practices", True),
    ]
    html = panel_html(response, "kap_sessions.consents")
    assert f'<a href="/admin/practice/clientdocument/{pdf.pk}/download/">PDF<' in html
    assert f'href="/admin/kap_sessions/consentsignature/{signed.pk}/change/"' in html
    assert "2 to sign before a dosing session." in panel_text(response, "kap_sessions.consents")


def test_a_new_version_asks_her_to_sign_again_and_marks_the_old_signature(
    admin_client_mfa, amara, consent_documents
):
    for document in consent_documents.values():
        ConsentSignatureFactory(client=amara, document=document)
    before = open_client_page(admin_client_mfa, amara)
    ConsentDocumentFactory(kind=ConsentKind.FINANCIAL_POLICY, version=2, title="Financial policy")

    after = open_client_page(admin_client_mfa, amara)

    assert "Everything she must sign before a dosing session is signed." in panel_text(
        before, "kap_sessions.consents"
    )
    data = panel_data(after, "kap_sessions.consents")
    assert [(row.title, row.version, row.again) for row in data["to_sign"]] == [
        ("Financial policy", 2, True)
    ]
    assert [row.title for row in data["signed"] if not row.current] == ["Financial policy"]
    text = panel_text(after, "kap_sessions.consents")
    assert "1 to sign before a dosing session." in text
    assert "Financial policy , version 2 · updated since she signed it" in text
    assert "an earlier version" in text


# --- Eligibility ------------------------------------------------------------------------------


def test_eligibility_lists_its_reasons_in_plain_words(admin_client_mfa, amara):
    intake = answer(IntakeFactory(client=amara), parts=len(SECTIONS))
    intake.blood_pressure = "high_uncontrolled"
    intake.pregnant = "yes"
    intake.save()

    response = open_client_page(admin_client_mfa, amara)

    result = panel_data(response, "kap_sessions.eligibility")["eligibility"]
    assert result.status == EligibilityStatus.NOT_ELIGIBLE
    text = panel_text(response, "kap_sessions.eligibility")
    assert "Not eligible (from her answers so far: her intake is not sent)" in text
    for reason in result.reasons:
        assert reason in text
    assert len(result.reasons) == 2


def test_eligibility_shows_the_decision_in_force_with_who_when_and_why(
    admin_client_mfa, amara, therapist
):
    answer(IntakeFactory(client=amara, submitted_at=NOW), parts=len(SECTIONS))
    with time_machine.travel(NOW - timedelta(hours=2), tick=False):
        eligibility_override(
            client=amara,
            status=EligibilityStatus.NEEDS_MEDICAL_REVIEW,
            note="Waiting for the letter from her prescriber.",
            actor=therapist,
        )

    response = open_client_page(admin_client_mfa, amara)

    text = panel_text(response, "kap_sessions.eligibility")
    assert "Needs medical review (your decision)" in text
    assert (
        "Decided by Lena Marsh, Mon, Jan 4, 6:00 AM: Waiting for the letter from her prescriber."
    ) in text
    assert "Her answers and marks alone say: Eligible." in text
    assert (
        f'href="/admin/kap_sessions/eligibilityoverride/client/{amara.pk}/">Review or override'
        in (panel_html(response, "kap_sessions.eligibility"))
    )


# --- Safety flags ------------------------------------------------------------------------------


def test_an_open_flag_comes_first_with_the_way_to_acknowledge_it(admin_client_mfa, amara):
    flag = SafetyFlagFactory(client=amara, raised_at=NOW - timedelta(minutes=30))

    response = open_client_page(admin_client_mfa, amara)

    assert response.context["client_panels"][0].panel.name == "kap_sessions.safety"
    text = panel_text(response, "kap_sessions.safety")
    assert text.startswith("Safety flags 1 open. Each stays until you acknowledge it with a note.")
    assert "Open , raised Mon, Jan 4, 7:30 AM by her intake" in text
    html = panel_html(response, "kap_sessions.safety")
    acknowledge = (
        f"/admin/kap_sessions/safetyflag/acknowledge/?ids={flag.pk}"
        f"&next=%2Fadmin%2Fpractice%2Fclient%2F{amara.pk}%2Fchange%2F"
    )
    assert f'<a class="panel-action" href="{escape(acknowledge)}">Acknowledge with a note' in html
    page = admin_client_mfa.get(acknowledge)
    assert page.status_code == 200
    assert page.context["flags"] == [flag]

    # What the page's form posts back.
    done = admin_client_mfa.post(
        acknowledge,
        {"ids": str(flag.pk), "next": page.context["next"], "note": "Called her."},
    )

    assert done["Location"] == f"/admin/practice/client/{amara.pk}/change/"


def test_flags_from_questionnaires_link_to_her_answers_and_can_be_acknowledged_together(
    admin_client_mfa, amara
):
    phq = phq9(amara, 12, "Moderate", NOW - timedelta(hours=3), safety=True)
    epds = ScreeningResponseFactory(
        assignment__client=amara, assignment__instrument="epds", safety=True
    )
    first = SafetyFlagFactory(
        client=amara, source=SafetySource.PHQ_9, screening_response=phq, raised_at=phq.completed_at
    )
    second = SafetyFlagFactory(client=amara, source=SafetySource.EPDS, screening_response=epds)

    response = open_client_page(admin_client_mfa, amara)

    data = panel_data(response, "kap_sessions.safety")
    assert [(row.flag, row.source) for row in data["open"]] == [
        (first, "her PHQ-9 (item 9)"),
        (second, "her EPDS (item 10)"),
    ]
    assert data["open"][0].response_url == (
        f"/admin/kap_sessions/screeningresponse/{phq.pk}/change/"
    )
    assert data["acknowledge_all_url"] == (
        f"/admin/kap_sessions/safetyflag/acknowledge/?ids={first.pk},{second.pk}"
        f"&next=%2Fadmin%2Fpractice%2Fclient%2F{amara.pk}%2Fchange%2F"
    )


def test_an_acknowledged_flag_says_who_and_when_without_the_note(
    admin_client_mfa, amara, therapist
):
    flag = SafetyFlagFactory(client=amara, raised_at=NOW - timedelta(days=1))
    safety_flag_acknowledge(flag=flag, actor=therapist, note="Called her; safe plan in place.")

    response = open_client_page(admin_client_mfa, amara)

    text = panel_text(response, "kap_sessions.safety")
    assert text.startswith("Safety flags None open. Acknowledged, newest first")
    assert "Raised Sun, Jan 3, 8:00 AM by her intake · Acknowledged by Lena Marsh, Mon, Jan 4" in (
        text
    )
    assert "safe plan" not in response.content.decode()
    assert f'href="/admin/kap_sessions/safetyflag/?client__id__exact={amara.pk}"' in panel_html(
        response, "kap_sessions.safety"
    )


# --- The Today page ------------------------------------------------------------------------------


def test_today_lists_open_safety_flags_first_with_her_name_and_the_way_to_acknowledge(
    admin_client_mfa, amara, therapist
):
    flag = SafetyFlagFactory(client=amara, raised_at=NOW - timedelta(hours=1))
    answered = SafetyFlagFactory(client=ClientFactory(first_name="Beth"))
    safety_flag_acknowledge(flag=answered, actor=therapist, note="Spoke with her this morning.")

    response = admin_client_mfa.get("/admin/")

    first = response.context["panels"][0]
    assert first.panel.title == "Safety flags to look at"
    assert [row.flag for row in first.data["flags"]] == [flag]
    html = response.content.decode()
    assert f'<a href="/admin/practice/client/{amara.pk}/change/">Amara Okafor</a>' in html
    assert "raised Mon, Jan 4, 7:00 AM by her intake" in html
    assert f'href="/admin/kap_sessions/safetyflag/acknowledge/?ids={flag.pk}"' in html


def test_today_shows_no_safety_panel_when_no_flag_is_open(admin_client_mfa):
    response = admin_client_mfa.get("/admin/")

    assert "Safety flags to look at" not in [p.panel.title for p in response.context["panels"]]


def test_the_safety_panel_comes_before_the_days_appointments():
    assert [(panel.name, panel.order) for panel in dashboard.panels()][:2] == [
        ("kap_sessions.safety_flags", 5),
        ("calendar.agenda", 10),
    ]
