"""Her intake in the portal: one section at a time, saved as she goes, resumed later."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kap_sessions.models import SECTIONS, Intake
from kap_sessions.services import intake_save_section, intake_submit
from practice.models import AuditEvent
from tests.factories import PASSWORD, ClientDocumentFactory
from tests.kap_sessions.factories import (
    SafetyFlagFactory,
    ScreeningAssignmentFactory,
)
from tests.kap_sessions.intake_steps import COMPLETE, INTAKE_URL, section_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def her(client_user):  # type: ignore[no-untyped-def]
    return client_user.client


@pytest.fixture
def signed_in(client, client_user, practice_profile):  # type: ignore[no-untyped-def]
    client.force_login(client_user)
    return client


def her_intake(her) -> Intake:  # type: ignore[no-untyped-def]
    return Intake.objects.get(client=her)


def page_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def answer(signed_in, section: str, action: str = "continue", **answers):  # type: ignore[no-untyped-def]
    return signed_in.post(INTAKE_URL, section_post(section, action, **answers))


# --- Where she lands ------------------------------------------------------------


def test_intake_opens_at_step_1_and_a_visit_writes_nothing(signed_in, her):
    response = signed_in.get(INTAKE_URL)

    page = page_of(response)
    assert response.status_code == 200
    assert "Step 1 of 8" in page
    assert "<h1>Your physical health</h1>" in page
    assert "Save and continue later" in page
    assert not Intake.objects.filter(client=her).exists()


def test_continue_moves_to_the_next_step_with_the_answers_saved(signed_in, her):
    response = answer(signed_in, "medical")

    assert response.status_code == 302
    assert response["Location"] == "/portal/intake/?section=mental_health"
    intake = her_intake(her)
    assert (intake.blood_pressure, intake.heart_condition, intake.seizures) == (
        "normal",
        False,
        False,
    )
    assert "Step 2 of 8" in page_of(signed_in.get(response["Location"]))


def test_the_intake_resumes_at_the_first_missing_section_in_a_new_session(
    client, client_user, practice_profile
):
    client.force_login(client_user)
    answer(client, "medical")
    answer(client, "mental_health")
    client.logout()

    client.force_login(client_user)
    page = page_of(client.get(INTAKE_URL))

    assert "Step 3 of 8" in page
    assert "<h1>Alcohol and other substances</h1>" in page


def test_a_section_can_be_opened_by_name(signed_in):
    page = page_of(signed_in.get(INTAKE_URL + "?section=people"))

    assert "Step 7 of 8" in page
    assert "<h1>Where you live and who to call</h1>" in page


# --- Saving as she goes -----------------------------------------------------------


def test_save_and_continue_later_keeps_a_half_filled_section(signed_in, her):
    response = signed_in.post(
        INTAKE_URL,
        {"section": "medical", "action": "later", "blood_pressure": "high_controlled"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    intake = her_intake(her)
    assert intake.blood_pressure == "high_controlled"
    assert intake.heart_condition is None
    page = page_of(signed_in.get(INTAKE_URL))
    assert "Step 1 of 8" in page
    assert re.search(
        r'<input type="radio" name="blood_pressure" value="high_controlled"[^>]* checked>', page
    )
    assert AuditEvent.objects.filter(object_type="kap_sessions.intake", action="change").exists()


def test_continue_asks_for_what_the_section_still_needs_and_keeps_the_rest(signed_in, her):
    response = signed_in.post(
        INTAKE_URL,
        {"section": "medical", "action": "continue", "blood_pressure": "normal", "glaucoma": "no"},
    )

    page = page_of(response)
    assert response.status_code == 200
    assert "A few answers are still needed" in page
    assert "Everything else you typed is saved." in page
    assert 'href="#id_heart_condition_0"' in page
    assert page.count("Please answer this question.") == 8  # four in the summary, four below
    intake = her_intake(her)
    assert (intake.blood_pressure, intake.glaucoma, intake.heart_condition) == (
        "normal",
        False,
        None,
    )


def test_an_ill_formed_phone_is_shown_back_and_the_other_answers_are_saved(signed_in, her):
    response = answer(
        signed_in, "people", "later", emergency_contact_phone="call my sister", state="OR"
    )

    page = page_of(response)
    assert response.status_code == 200
    assert "Please enter a phone number" in page
    assert 'value="call my sister"' in page
    her.refresh_from_db()
    assert (her.state, her.emergency_contact_name, her.emergency_contact_phone) == (
        "OR",
        "Chidi Okafor",
        "",
    )


def test_the_people_section_is_kept_on_her_client_record(signed_in, her):
    answer(signed_in, "people", support_person_email="ngozi@example.com")

    her.refresh_from_db()
    assert (her.state, her.emergency_contact_name, her.support_person_email) == (
        "CA",
        "Chidi Okafor",
        "ngozi@example.com",
    )
    assert AuditEvent.objects.filter(
        object_type="practice.client", object_id=str(her.pk), action="change"
    ).exists()


def test_back_saves_and_opens_the_step_before(signed_in, her):
    response = answer(signed_in, "substances", "back", substance_use="some")

    assert response["Location"] == "/portal/intake/?section=mental_health"
    assert her_intake(her).substance_use == "some"


def test_an_unknown_section_is_not_found(signed_in):
    response = signed_in.post(INTAKE_URL, {"section": "billing", "action": "continue"})

    assert response.status_code == 404


def test_a_field_of_another_section_is_refused_by_the_service(her, client_user):
    with pytest.raises(ValueError, match="has no field"):
        intake_save_section(
            client=her, section="medical", answers={"pregnant": "yes"}, actor=client_user
        )


# --- Sending ------------------------------------------------------------------------


def test_sending_lists_the_sections_still_to_answer(signed_in, her):
    answer(signed_in, "medical")

    response = answer(signed_in, "session_day", "submit")

    page = page_of(response)
    assert response.status_code == 200
    assert "These parts still need answers:" in page
    assert '<a href="/portal/intake/?section=mental_health">Your mental health</a>' in page
    assert her_intake(her).submitted_at is None


def test_a_complete_intake_is_sent_and_then_read_only(signed_in, her):
    for section in SECTIONS[:-1]:
        answer(signed_in, section.name)

    response = answer(signed_in, "session_day", "submit")

    assert response["Location"] == INTAKE_URL
    intake = her_intake(her)
    assert intake.submitted_at is not None
    assert intake.medications == COMPLETE["medications"]["medications"]
    assert "Thank you" in page_of(signed_in.get(INTAKE_URL))

    answer(signed_in, "medical", "later", blood_pressure="high_uncontrolled")
    assert her_intake(her).blood_pressure == "normal"
    with pytest.raises(ValidationError):
        intake_save_section(
            client=her, section="medical", answers={"glaucoma": True}, actor=her.user
        )


def test_sending_twice_changes_nothing(signed_in, her, client_user):
    for section in SECTIONS:
        answer(signed_in, section.name)
    first = intake_submit(client=her, actor=client_user)

    again = intake_submit(client=her, actor=client_user)

    assert again.submitted_at == first.submitted_at


# --- Who may open it ----------------------------------------------------------------


def test_anonymous_visitors_are_asked_to_sign_in(client):
    response = client.get(INTAKE_URL)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/portal/intake/"


def test_staff_are_not_clients(admin_client_mfa):
    response = admin_client_mfa.get(INTAKE_URL)

    assert response.status_code == 403


# --- Query budget: constant in what else she has -------------------------------------


@contextmanager
def counted():  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        yield captured


def _queries(signed_in, path: str) -> int:  # type: ignore[no-untyped-def]
    signed_in.get(path)  # warm the per-process caches
    with counted() as captured:
        response = signed_in.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", [INTAKE_URL, INTAKE_URL + "?section=people", "/portal/support/"])
def test_intake_pages_cost_the_same_queries_however_much_she_has(
    signed_in, her, django_assert_max_num_queries, path
):
    answer(signed_in, "medical")
    few = _queries(signed_in, path)

    for _ in range(5):
        SafetyFlagFactory(client=her, source="phq-9")
        ScreeningAssignmentFactory(client=her)
        ClientDocumentFactory(client=her)
    many = _queries(signed_in, path)

    assert many == few
    # 8, and 1 for her view's audit line (one insert: it is sealed off the request).
    with django_assert_max_num_queries(9):
        signed_in.get(path)


# --- In Chromium at a phone's size: saved half way, resumed in a new session ----------


PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


def log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/accounts/login/?next=/portal/intake/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/portal/intake/")


def choose(page, question: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("group", name=question).get_by_label(option, exact=True).check()


@pytest.mark.browser
def test_she_saves_half_way_on_her_phone_and_resumes_in_a_new_session(
    live_server, browser, client_user, practice_profile
):
    first = browser.new_context(**PHONE)
    page = first.new_page()
    log_in(page, live_server.url, client_user.email)
    assert page.get_by_text("Step 1 of 8").is_visible()
    page.get_by_label("High, and kept under control with treatment").check()
    for question in (
        "Do you have, or have you had, a heart condition?",
        "Do you have, or have you had, a liver condition?",
        "Do you have bladder or urinary problems?",
        "Do you have glaucoma, or raised pressure in the eye?",
        "Have you ever had seizures or epilepsy?",
    ):
        page.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Save and continue", exact=True).click()
    page.wait_for_url("**/portal/intake/?section=mental_health")
    assert page.get_by_text("Step 2 of 8").is_visible()
    for question in (
        "Have you ever seen or heard things",
        "Have you ever had mania",
        "Have you ever stayed in hospital",
        "Are you having thoughts of ending your life",
    ):
        page.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Save and continue", exact=True).click()
    page.wait_for_url("**/portal/intake/?section=substances")
    first.close()

    second = browser.new_context(**PHONE)
    try:
        page = second.new_page()
        log_in(page, live_server.url, client_user.email)

        assert page.get_by_text("Step 3 of 8").is_visible()
        assert page.get_by_role("heading", level=1).inner_text() == "Alcohol and other substances"
        page.goto(live_server.url + INTAKE_URL + "?section=medical")
        assert page.get_by_label("High, and kept under control with treatment").is_checked()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0
    finally:
        second.close()


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{page.url}: {rule['id']} ({rule['impact']}) at {node['target']}"
        for rule in found
        for node in rule["nodes"]
    ]


@pytest.mark.browser
def test_the_intake_pages_and_the_crisis_page_pass_axe(
    live_server, phone_page, client_user, practice_profile
):
    page = phone_page
    log_in(page, live_server.url, client_user.email)
    found = axe_violations(page)

    # Missing answers: the summary and the messages beside the questions.
    page.get_by_role("button", name="Save and continue", exact=True).click()
    assert page.get_by_text("A few answers are still needed").is_visible()
    found += axe_violations(page)

    for section in ("people", "session_day", "medications"):
        page.goto(f"{live_server.url}{INTAKE_URL}?section={section}")
        found += axe_violations(page)

    page.goto(f"{live_server.url}{INTAKE_URL}?section=mental_health")
    for question in (
        "Have you ever seen or heard things",
        "Have you ever had mania",
        "Have you ever stayed in hospital",
    ):
        page.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Are you having thoughts of ending your life").get_by_label(
        "Yes", exact=True
    ).check()
    page.get_by_role("button", name="Save and continue", exact=True).click()
    page.wait_for_url("**/portal/support/")
    assert page.get_by_role("link", name="Call 988").is_visible()
    assert page.get_by_text("has been told and will reach out to you soon").is_visible()
    found += axe_violations(page)

    Intake.objects.filter(client=client_user.client).update(submitted_at=timezone.now())
    page.goto(live_server.url + INTAKE_URL)
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    found += axe_violations(page)

    assert found == []
