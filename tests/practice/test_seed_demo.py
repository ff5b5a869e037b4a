from __future__ import annotations

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from kap_sessions.instruments import EPDS
from kap_sessions.models import (
    OPTIONAL_CONSENT_KINDS,
    ConsentDocument,
    ConsentSignature,
    Course,
    Intake,
    SafetyFlag,
    SafetySource,
    ScreeningAnswer,
)
from practice.models import Client, ClientDocument, PracticeProfile, User
from practice.outbox.models import OutboxMessage
from practice.private_files import private_file_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_root(settings, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path / "private"
    settings.PRIVATE_FILES_ROOT = root
    return root


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def required_current_documents() -> set[int]:
    return {
        document.pk
        for document in ConsentDocument.objects.current()
        if document.kind not in OPTIONAL_CONSENT_KINDS
    }


def test_seed_demo_builds_a_living_practice_and_prints_the_login():
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert "Therapist (admin): therapist@example.com / demo-therapist-2026" in out.getvalue()
    assert PracticeProfile.objects.get().practice_name == "Harbor Light Therapy"
    therapist = User.objects.get(email="therapist@example.com")
    assert therapist.is_staff is True
    assert therapist.check_password("demo-therapist-2026")
    phases = set(Course.objects.values_list("phase", flat=True))
    assert phases == set(Course.Phase.values)


def test_seed_demo_is_idempotent(private_root):
    from kap_sessions.models import ScreeningAssignment, ScreeningResponse
    from practice.models import Appointment, ClientInvitation

    models = (
        User,
        Client,
        Course,
        ClientInvitation,
        Intake,
        ScreeningAssignment,
        ScreeningResponse,
        ConsentSignature,
        ClientDocument,
        SafetyFlag,
        OutboxMessage,
        Appointment,
    )
    call_command("seed_demo", stdout=StringIO())
    counts = [model.objects.count() for model in models]
    files = files_under(private_root)

    call_command("seed_demo", stdout=StringIO())

    assert [model.objects.count() for model in models] == counts
    assert files_under(private_root) == files


def test_seed_demo_gives_every_client_past_preparation_her_intake_and_signed_consents(
    private_root,
):
    from kap_sessions.services.consent import consents_complete
    from kap_sessions.services.eligibility import eligibility_for

    call_command("seed_demo", stdout=StringIO())

    past_preparation = Client.objects.filter(courses__isnull=False).exclude(
        courses__phase=Course.Phase.PREPARATION
    )
    emails = {client.email for client in past_preparation}
    assert emails == {
        "beth.lindqvist@example.com",
        "carmen.reyes@example.com",
        "dana.whitfield@example.com",
        "esther.nakamura@example.com",
    }
    eligible = Client.objects.get(email="julia.moreno@example.com")
    required = required_current_documents()
    assert required
    for client in [*past_preparation, eligible]:
        intake = Intake.objects.get(client=client)
        assert intake.submitted_at is not None, client.email
        assert eligibility_for(client).status == "eligible", client.email
        assert consents_complete(client), client.email
        signatures = list(ConsentSignature.objects.for_client(client))
        assert {signature.document_id for signature in signatures} == required
        for signature in signatures:
            assert signature.matches(signature.document)
            pdf = signature.pdf
            assert pdf is not None, client.email
            assert pdf.kind == ClientDocument.Kind.SIGNED_CONSENT
            assert pdf.visible_to_client is True
            content = private_file_path(pdf).read_bytes()
            assert private_file_path(pdf).is_relative_to(private_root.resolve())
            assert content.startswith(b"%PDF-")
            assert hashlib.sha256(content).hexdigest() == pdf.sha256
    for course in Course.objects.exclude(phase=Course.Phase.PREPARATION):
        signed_at = ConsentSignature.objects.filter(client=course.client).values_list(
            "signed_at", flat=True
        )
        assert all(moment.date() > course.started_on for moment in signed_at)
        assert course.client.intake.submitted_at.date() > course.started_on


def test_seed_demo_client_pages_read_consents_signed_past_preparation(
    admin_client_mfa, private_root
):
    call_command("seed_demo", stdout=StringIO())
    beth = Client.objects.get(email="beth.lindqvist@example.com")

    page = admin_client_mfa.get(reverse("admin:practice_client_change", args=[beth.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "to sign before a dosing session" not in text
    assert "Everything she must sign before a dosing session is signed." in text


def test_seed_demo_eligible_client_downloads_her_signed_copies(client, private_root):
    call_command("seed_demo", stdout=StringIO())
    julia = Client.objects.get(email="julia.moreno@example.com")
    client.force_login(julia.user)

    home = client.get(reverse("kap_sessions:portal_home")).content.decode()

    documents = ClientDocument.objects.filter(client=julia, visible_to_client=True)
    assert documents.count() == len(required_current_documents())
    for document in documents:
        url = reverse("kap_sessions:portal_document", args=[document.pk])
        assert url in home
        download = client.get(url)
        assert download.status_code == 200
        assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_seed_demo_gives_signatures_an_earlier_seed_left_without_pdf_their_pdf(private_root):
    julia = Client.objects.create(
        email="julia.moreno@example.com", first_name="Julia", last_name="Moreno"
    )
    for pk in required_current_documents():
        document = ConsentDocument.objects.get(pk=pk)
        ConsentSignature.objects.create(
            client=julia,
            document=document,
            typed_name=julia.full_name,
            user_agent="Demo data",
            text_sha256=document.text_sha256(),
        )

    call_command("seed_demo", stdout=StringIO())

    signatures = ConsentSignature.objects.filter(client=julia)
    assert signatures.count() == len(required_current_documents())
    assert not signatures.filter(pdf__isnull=True).exists()
    assert len(files_under(private_root)) == ClientDocument.objects.count()


def test_seed_demo_raises_one_open_safety_flag_from_an_epds_with_its_alert_sent(private_root):
    out = StringIO()

    call_command("seed_demo", stdout=out)

    flag = SafetyFlag.objects.open().get()
    assert flag.client.email == "hana.petrova@example.com"
    assert flag.source == SafetySource.EPDS
    response = flag.screening_response
    assert response.safety is True
    assert flag.raised_at == response.completed_at
    item_10 = ScreeningAnswer.objects.get(response=response, item_number=EPDS.safety_item)
    assert EPDS.items[EPDS.safety_item - 1].options[item_10.position][0] == "Hardly ever"
    assert item_10.score == 1
    alert = OutboxMessage.objects.about(flag).get(kind="kap.safety_alert")
    assert alert.status == OutboxMessage.Status.SENT
    assert alert.recipient == PracticeProfile.objects.get().email
    assert not OutboxMessage.objects.pending().filter(kind="kap.safety_alert").exists()
    assert "Safety flags open: 1" in out.getvalue()


def test_seed_demo_adds_a_client_at_each_point_of_preparation_with_her_login():
    from kap_sessions.services.portal import portal_todo
    from practice.client_records import ClientInvitation

    out = StringIO()

    call_command("seed_demo", stdout=out)

    printed = out.getvalue()
    assert "Client portal (invited): fiona.adeyemi@example.com / invitation only" in printed
    fiona = Client.objects.get(email="fiona.adeyemi@example.com")
    assert fiona.user is None
    assert ClientInvitation.objects.outstanding().filter(client=fiona).count() == 1
    next_steps = {}
    for email in (
        "grace.holloway@example.com",
        "hana.petrova@example.com",
        "imani.brooks@example.com",
        "julia.moreno@example.com",
    ):
        assert f"{email} / demo-client-2026" in printed
        client = Client.objects.get(email=email)
        assert client.user.check_password("demo-client-2026")
        todos = portal_todo(client)
        next_steps[email] = todos[0].kind if todos else None
    assert next_steps == {
        "grace.holloway@example.com": "intake",
        "hana.petrova@example.com": "questionnaire",
        "imani.brooks@example.com": "consent",
        "julia.moreno@example.com": None,
    }
    assert Client.objects.get(email="julia.moreno@example.com").appointments.count() == 1
