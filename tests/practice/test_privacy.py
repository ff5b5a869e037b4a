"""Her export (practice/privacy.py and its parts): the ZIP, from the admin and from her portal."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from practice.models import AuditEvent
from practice.privacy import client_export_zip
from tests.conftest import enrol_totp
from tests.factories import StaffFactory
from tests.kap_sessions.factories_documents import FIRST_DAY, vitals
from tests.practice.factories_privacy import (
    PDF,
    PROGRESS_TEXT,
    PSYCHOTHERAPY_TEXT,
    whole_record,
)

pytestmark = pytest.mark.django_db

RECORD_KEYS = {
    "format",
    "exported_at",
    "includes_psychotherapy_notes",
    "client",
    "appointments",
    "documents",
    "consultations",
    "intake",
    "questionnaires",
    "consents",
    "eligibility",
    "safety_flags",
    "courses",
    "session_notes",
    "superbills",
    "estimates",
}


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    return settings.PRIVATE_FILES_ROOT


def opened(content: bytes) -> tuple[dict, dict[str, bytes]]:  # type: ignore[type-arg]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop("record.json")), files


def note_texts(record: dict) -> list[str]:  # type: ignore[type-arg]
    return [
        section["text"]
        for note in record["session_notes"]
        for section in note["sections"]
        if section["text"]
    ]


def test_the_export_holds_her_record_as_json_and_her_documents_as_pdf(practice_profile):
    her = whole_record()

    record, files = opened(client_export_zip(client=her.client))

    assert set(record) == RECORD_KEYS
    assert record["client"]["id"] == her.client.pk
    assert record["client"]["email"] == her.client.email
    assert [course["id"] for course in record["courses"]] == [her.course.pk]
    course = record["courses"][0]
    assert [phase["phase"] for phase in course["phases"]] == [
        "preparation",
        "dosing",
        "integration",
        "completed",
    ]
    assert course["closing_summary"] == "Keep walking daily."
    medicine = [
        s["medicine_session_record"] for s in course["sessions"] if s["medicine_session_record"]
    ]
    assert [row["id"] for row in medicine] == [her.record.pk]
    assert len(medicine[0]["vitals"]) == 2
    assert medicine[0]["observations"] == her.record.observations
    assert [q["response"]["total"] for q in record["questionnaires"]] == [14]
    assert len(record["questionnaires"][0]["response"]["answers"]) == 1
    assert len(record["consents"]) == 1
    assert record["intake"][0]["id"] == her.client.intake.pk
    assert [c["id"] for c in record["consultations"]] == [her.consultation.pk]
    assert len(record["superbills"][0]["lines"]) == 1
    assert len(record["estimates"][0]["lines"]) == 1
    assert record["documents"][0]["file"] == f"documents/stored/{her.document.pk}-upload.pdf"
    assert "storage_name" not in record["documents"][0]
    assert files[f"documents/stored/{her.document.pk}-upload.pdf"] == PDF
    superbill = her.client.superbills.get()
    estimate = her.client.good_faith_estimates.get()
    assert sorted(files) == sorted(
        [
            f"documents/stored/{her.document.pk}-upload.pdf",
            f"documents/course-summary-{her.course.pk}.pdf",
            f"documents/superbill-{superbill.pk}.pdf",
            f"documents/good-faith-estimate-{estimate.pk}.pdf",
        ]
    )
    assert all(content.startswith(b"%PDF-") for content in files.values())


def test_psychotherapy_notes_are_left_out_unless_asked(practice_profile):
    her = whole_record()

    without, _ = opened(client_export_zip(client=her.client))
    with_them, _ = opened(client_export_zip(client=her.client, include_psychotherapy=True))

    assert [note["kind"] for note in without["session_notes"]] == ["progress"]
    assert PROGRESS_TEXT in note_texts(without)
    assert PSYCHOTHERAPY_TEXT not in json.dumps(without)
    assert without["includes_psychotherapy_notes"] is False
    assert [note["kind"] for note in with_them["session_notes"]] == ["progress", "psychotherapy"]
    assert PSYCHOTHERAPY_TEXT in note_texts(with_them)


def test_the_export_holds_nothing_of_another_client(practice_profile):
    her = whole_record()
    other = whole_record(
        first_name="Beth", last_name="Lindqvist", first_day=FIRST_DAY + timedelta(days=60)
    )

    content = client_export_zip(client=her.client, include_psychotherapy=True)

    record, files = opened(content)
    assert other.client.email.encode() not in content
    assert other.client.email not in json.dumps(record)
    assert {c["id"] for c in record["courses"]} == {her.course.pk}
    assert {a["client_id"] for a in record["appointments"]} == {her.client.pk}
    assert f"documents/stored/{other.document.pk}-upload.pdf" not in files


def test_the_export_reads_the_same_number_of_queries_however_much_she_has(practice_profile):
    small = whole_record()
    large = whole_record(
        first_name="Beth", last_name="Lindqvist", first_day=FIRST_DAY + timedelta(days=60)
    )
    for minutes in range(45, 200, 15):
        vitals(large.record, minutes)
    client_export_zip(client=small.client)  # the practice's profile, cached from here on

    with CaptureQueriesContext(connection) as small_queries:
        client_export_zip(client=small.client)
    with CaptureQueriesContext(connection) as large_queries:
        client_export_zip(client=large.client)

    assert len(large_queries) == len(small_queries)


# --- From the admin ------------------------------------------------------------------------


def export_url(client) -> str:  # type: ignore[no-untyped-def]
    return reverse("admin:practice_client_export", args=[client.pk])


def test_her_client_page_offers_the_export(admin_client_mfa):
    her = whole_record()

    response = admin_client_mfa.get(reverse("admin:practice_client_change", args=[her.client.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert f'action="{export_url(her.client)}"' in page
    assert 'name="include_psychotherapy"' in page


def test_the_therapist_downloads_her_export_and_it_is_audited(admin_client_mfa, therapist):
    her = whole_record()

    response = admin_client_mfa.post(export_url(her.client))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="client-record-')
    record, _ = opened(response.content)
    assert PSYCHOTHERAPY_TEXT not in json.dumps(record)
    exports = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT)
    assert [(e.actor_id, e.client_id, e.object_type) for e in exports] == [
        (therapist.pk, her.client.pk, "practice.client")
    ]


def test_the_therapist_may_ask_for_psychotherapy_notes(admin_client_mfa):
    her = whole_record()

    response = admin_client_mfa.post(export_url(her.client), {"include_psychotherapy": "1"})

    record, _ = opened(response.content)
    assert PSYCHOTHERAPY_TEXT in note_texts(record)


def test_staff_without_the_notes_permission_cannot_ask_for_them(client, practice_profile):
    her = whole_record()
    assistant = StaffFactory(email="assistant@harborlight.example", is_superuser=False)
    assistant.user_permissions.add(Permission.objects.get(codename="view_client"))
    enrol_totp(assistant)
    client.force_login(assistant)

    page = client.get(reverse("admin:practice_client_change", args=[her.client.pk]))
    refused = client.post(export_url(her.client), {"include_psychotherapy": "1"})
    allowed = client.post(export_url(her.client))

    assert 'name="include_psychotherapy"' not in page.content.decode()
    assert refused.status_code == 403
    assert allowed.status_code == 200
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


def test_a_get_of_the_export_address_downloads_nothing(admin_client_mfa):
    her = whole_record()

    response = admin_client_mfa.get(export_url(her.client))

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


# --- From her portal -----------------------------------------------------------------------


PORTAL_EXPORT = "/portal/export/"


def test_her_profile_links_to_download_my_data(client, client_user, practice_profile):
    client.force_login(client_user)

    profile = client.get("/portal/profile/")
    page = client.get(PORTAL_EXPORT)

    assert f'href="{PORTAL_EXPORT}"' in profile.content.decode()
    assert page.status_code == 200
    assert "Download my data" in page.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_she_downloads_her_own_data_without_psychotherapy_notes(
    client, client_user, practice_profile
):
    her = whole_record()
    other = client_user.client
    her.client.user = client_user
    other.user = None
    other.save()
    her.client.save()
    client.force_login(client_user)

    response = client.post(PORTAL_EXPORT, {"include_psychotherapy": "1"})

    assert response.status_code == 200
    record, files = opened(response.content)
    assert record["client"]["id"] == her.client.pk
    assert record["includes_psychotherapy_notes"] is False
    assert PSYCHOTHERAPY_TEXT not in json.dumps(record)
    assert PROGRESS_TEXT in note_texts(record)
    assert f"documents/stored/{her.document.pk}-upload.pdf" in files
    exports = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT)
    assert [(e.actor_id, e.client_id) for e in exports] == [(client_user.pk, her.client.pk)]


def test_her_export_never_holds_another_client_s_record(client, client_user, practice_profile):
    other = whole_record(first_name="Beth", last_name="Lindqvist")
    client.force_login(client_user)

    response = client.post(PORTAL_EXPORT)

    record, files = opened(response.content)
    assert record["client"]["id"] == client_user.client.pk
    assert record["courses"] == []
    assert files == {}
    assert other.client.email.encode() not in response.content


def test_staff_and_strangers_get_no_portal_export(client, therapist):
    anonymous = client.post(PORTAL_EXPORT)
    client.force_login(therapist)
    staff = client.post(PORTAL_EXPORT)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert staff.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()
