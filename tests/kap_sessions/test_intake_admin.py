"""Her intake read in the admin: every answer in words, one audit line per opening."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from kap_sessions.client_panels import SECTION_LABELS
from kap_sessions.models import SECTIONS, Intake
from kap_sessions.views.intake import QUESTIONS
from practice.models import AuditEvent, Client
from tests.conftest import enrol_totp
from tests.factories import ClientFactory, StaffFactory
from tests.kap_sessions.factories import IntakeFactory

pytestmark = pytest.mark.django_db

SENT = datetime(2027, 3, 2, 15, 30, tzinfo=UTC)
NOTES = "Migraines since 2019.\nMild, once a month."


@pytest.fixture
def her(practice_profile) -> Client:  # type: ignore[no-untyped-def]
    return ClientFactory(
        first_name="Amara",
        last_name="Okafor",
        state="OR",
        emergency_contact_name="Tomas Okafor",
        emergency_contact_phone="(555) 201-3344",
    )


@pytest.fixture
def her_intake(her) -> Intake:  # type: ignore[no-untyped-def]
    return IntakeFactory(
        client=her,
        blood_pressure="high_controlled",
        heart_condition=False,
        seizures=True,
        medical_notes=NOTES,
        substance_use="some",
        pregnant="no",
        breastfeeding=True,
        medications="Sertraline 50 mg",
        submitted_at=SENT,
    )


def url_for(client: Client) -> str:
    return reverse("admin:kap_sessions_client_intake", args=[client.pk])


def answers(html: str) -> dict[str, str]:
    """Each question on the page with her answer, as text."""
    rows = re.findall(r'<th scope="row">(.*?)</th>\s*<td>(.*?)</td>', html, re.S)
    return {
        unescape(question): unescape(re.sub(r"<br>", "\n", re.sub(r"</?em>", "", answer)))
        for question, answer in rows
    }


def headings(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<div class="module">\s*<h2>(.*?)</h2>', html)]


def test_the_page_shows_every_section_and_her_answers_in_words(admin_client_mfa, her, her_intake):
    response = admin_client_mfa.get(url_for(her))

    assert response.status_code == 200
    html = response.content.decode()
    assert headings(html) == [SECTION_LABELS[section.name] for section in SECTIONS]
    shown = answers(html)
    every_question = [
        QUESTIONS[name]
        for section in SECTIONS
        for name in (*section.fields, *section.client_fields)
    ]
    assert list(shown) == every_question
    assert shown[QUESTIONS["blood_pressure"]] == "High, and kept under control with treatment"
    assert shown[QUESTIONS["heart_condition"]] == "No"
    assert shown[QUESTIONS["seizures"]] == "Yes"
    assert shown[QUESTIONS["liver_condition"]] == "Not answered"
    assert shown[QUESTIONS["medical_notes"]] == NOTES
    assert shown[QUESTIONS["substance_use"]] == "Some regular use (alcohol, cannabis or other)"
    assert shown[QUESTIONS["pregnant"]] == "No"
    assert shown[QUESTIONS["breastfeeding"]] == "Yes"
    assert shown[QUESTIONS["medications"]] == "Sertraline 50 mg"
    assert shown[QUESTIONS["state"]] == "Oregon"
    assert shown[QUESTIONS["emergency_contact_name"]] == "Tomas Okafor"
    assert shown[QUESTIONS["support_person_name"]] == "Not answered"
    assert "Sent <strong>Tue, Mar 2, 2027" in html


def test_an_intake_not_sent_says_so(admin_client_mfa, her):
    IntakeFactory(client=her, seizures=False)

    html = admin_client_mfa.get(url_for(her)).content.decode()

    assert "<strong>Not sent yet.</strong>" in html
    assert answers(html)[QUESTIONS["seizures"]] == "No"


def test_an_intake_not_started_shows_her_record_and_says_so(admin_client_mfa, her):
    html = admin_client_mfa.get(url_for(her)).content.decode()

    assert "She has not started her intake." in html
    shown = answers(html)
    assert (shown[QUESTIONS["seizures"]], shown[QUESTIONS["state"]]) == ("Not answered", "Oregon")
    assert Intake.objects.count() == 0  # reading writes no intake


def test_each_opening_writes_one_audit_line_naming_who_and_no_content(
    admin_client_mfa, therapist, her, her_intake
):
    admin_client_mfa.get(url_for(her))
    admin_client_mfa.get(url_for(her))

    lines = AuditEvent.objects.filter(client_id=her.pk).order_by("id")
    assert [
        (line.action, line.object_type, line.object_id, line.actor_id, line.path) for line in lines
    ] == [("view", "kap_sessions.intake", str(her_intake.pk), therapist.pk, url_for(her))] * 2
    assert "Migraines" not in lines[0].object_repr


def test_staff_without_the_intake_permission_are_refused(client, her, her_intake):
    assistant = StaffFactory(is_superuser=False)
    enrol_totp(assistant)
    assistant.user_permissions.add(Permission.objects.get(codename="view_client"))
    client.force_login(assistant)

    response = client.get(url_for(her))

    assert response.status_code == 403
    assert "Migraines" not in response.content.decode()
    assert AuditEvent.objects.filter(client_id=her.pk).count() == 0


def test_staff_with_the_intake_permission_may_read_it(client, her, her_intake):
    assistant = StaffFactory(is_superuser=False)
    enrol_totp(assistant)
    assistant.user_permissions.add(Permission.objects.get(codename="view_intake"))
    client.force_login(assistant)

    response = client.get(url_for(her))

    assert response.status_code == 200
    assert answers(response.content.decode())[QUESTIONS["seizures"]] == "Yes"


def test_a_client_signed_in_is_sent_to_the_admin_login(client, client_user, her, her_intake):
    client.force_login(client_user)

    response = client.get(url_for(her))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")
    assert AuditEvent.objects.filter(client_id=her.pk).count() == 0


def test_the_intake_list_row_opens_her_intake_page(admin_client_mfa, her, her_intake):
    change = reverse("admin:kap_sessions_intake_change", args=[her_intake.pk])

    response = admin_client_mfa.get(change)

    assert (response.status_code, response["Location"]) == (302, url_for(her))


def test_the_preparation_panel_links_to_her_intake(admin_client_mfa, her, her_intake):
    html = admin_client_mfa.get(
        reverse("admin:practice_client_change", args=[her.pk])
    ).content.decode()

    assert f'<a href="{url_for(her)}">Read her intake</a>' in html


def test_the_page_costs_the_same_queries_however_much_is_answered(
    admin_client_mfa, her, django_assert_max_num_queries
):
    admin_client_mfa.get(url_for(her))  # warm the per-process caches
    with django_assert_max_num_queries(20) as empty:
        admin_client_mfa.get(url_for(her))

    IntakeFactory(client=her, medical_notes=NOTES, psychiatric_notes=NOTES, childcare_plan=NOTES)
    for _ in range(5):
        IntakeFactory(medical_notes=NOTES)
    with django_assert_max_num_queries(20) as full:
        admin_client_mfa.get(url_for(her))

    assert len(full.captured_queries) == len(empty.captured_queries)
