"""Eligibility: reasons in plain words for each contraindication, and the therapist's override.

Then the kind "not a fit right now" path: a referral letter on the
letterhead with resources and no diagnosis, in her portal, and an email that
says only that a document is ready.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from kap_sessions.models import (
    ClientContraindication,
    Contraindication,
    EligibilityStatus,
    Intake,
)
from kap_sessions.services import (
    contraindication_mark,
    eligibility_for,
    eligibility_override,
    safety_flag_acknowledge,
)
from kap_sessions.services.referral import referral_letter_issue
from practice.discretion import discretion_words_in
from practice.models import AuditEvent, ClientDocument, OutboxMessage
from practice.outbox.services import outbox_send_due
from practice.private_files import private_file_path
from tests.factories import ClientFactory
from tests.kap_sessions.factories import (
    ContraindicationFactory,
    EligibilityOverrideFactory,
    IntakeFactory,
    SafetyFlagFactory,
)

pytestmark = pytest.mark.django_db

defaults = importlib.import_module("kap_sessions.migrations.0005_preparation_defaults")


@pytest.fixture(autouse=True)
def builtin_contraindications(db):  # type: ignore[no-untyped-def]
    """The rows migration 0005 writes (a transactional test elsewhere may have flushed them)."""
    for code, plain_words, outcome, intake_rule, order in defaults.CONTRAINDICATIONS:
        Contraindication.objects.update_or_create(
            code=code,
            defaults={
                "plain_words": plain_words,
                "outcome": outcome,
                "intake_rule": intake_rule,
                "order": order,
                "active": True,
            },
        )


@pytest.fixture
def her():  # type: ignore[no-untyped-def]
    return ClientFactory(first_name="Amara", last_name="Okafor", email="amara@example.com")


def with_intake(client, **answers) -> Intake:  # type: ignore[no-untyped-def]
    return IntakeFactory(client=client, **answers)


# --- Each rule computed from the intake ------------------------------------------


@pytest.mark.parametrize(
    ("answers", "reason", "status"),
    [
        (
            {"blood_pressure": "high_uncontrolled"},
            "Uncontrolled high blood pressure",
            "needs_medical_review",
        ),
        (
            {"psychosis_history": True},
            "A history of psychosis, mania or bipolar disorder",
            "not_eligible",
        ),
        (
            {"mania_or_bipolar": True},
            "A history of psychosis, mania or bipolar disorder",
            "not_eligible",
        ),
        ({"substance_use": "concerned"}, "Active substance use disorder", "not_eligible"),
        ({"pregnant": "yes"}, "Pregnancy", "not_eligible"),
        ({"current_suicidal_thoughts": True}, "Current suicidal thoughts", "not_eligible"),
        (
            {"heart_condition": True},
            "Heart condition (needs medical clearance)",
            "needs_medical_review",
        ),
        (
            {"liver_condition": True},
            "Liver condition (needs medical clearance)",
            "needs_medical_review",
        ),
        (
            {"bladder_condition": True},
            "Bladder or urinary problems (needs medical clearance)",
            "needs_medical_review",
        ),
        (
            {"glaucoma": True},
            "Glaucoma or raised eye pressure (needs medical clearance)",
            "needs_medical_review",
        ),
        (
            {"seizures": True},
            "Seizures or epilepsy (needs medical clearance)",
            "needs_medical_review",
        ),
    ],
    ids=[
        "hypertension",
        "psychosis",
        "mania",
        "substance-use",
        "pregnancy",
        "suicidal-thoughts",
        "heart",
        "liver",
        "bladder",
        "glaucoma",
        "seizures",
    ],
)
def test_eligibility_gives_each_intake_rule_as_a_reason_in_plain_words(
    her, answers, reason, status
):
    with_intake(her, **answers)

    eligibility = eligibility_for(her)

    assert eligibility.reasons == [reason]
    assert eligibility.status == status
    assert eligibility.computed_status == status
    assert eligibility.override is None


@pytest.mark.parametrize(
    "answers",
    [
        {"blood_pressure": "high_controlled"},
        {"blood_pressure": "unsure"},
        {"substance_use": "recovery"},
        {"substance_use": "some"},
        {"pregnant": "trying"},
        {"pregnant": "no", "breastfeeding": True},
        {"heart_condition": False, "current_suicidal_thoughts": False},
    ],
    ids=["bp-controlled", "bp-unsure", "recovery", "some-use", "trying", "breastfeeding", "noes"],
)
def test_answers_that_are_not_contraindications_leave_her_eligible(her, answers):
    with_intake(her, **answers)

    eligibility = eligibility_for(her)

    assert (eligibility.status, eligibility.reasons) == ("eligible", [])


def test_no_intake_yet_is_eligible_so_far_and_says_the_intake_is_not_complete(her):
    eligibility = eligibility_for(her)

    assert (eligibility.status, eligibility.reasons, eligibility.intake_complete) == (
        "eligible",
        [],
        False,
    )


def test_the_worst_outcome_wins_and_reasons_follow_the_therapists_order(her):
    with_intake(her, seizures=True, pregnant="yes", blood_pressure="high_uncontrolled")

    eligibility = eligibility_for(her)

    assert eligibility.status == "not_eligible"
    assert eligibility.reasons == [
        "Uncontrolled high blood pressure",
        "Pregnancy",
        "Seizures or epilepsy (needs medical clearance)",
    ]


def test_a_contraindication_turned_off_no_longer_counts(her):
    with_intake(her, glaucoma=True)
    Contraindication.objects.filter(code="glaucoma").update(active=False)

    assert eligibility_for(her).reasons == []


def test_the_therapist_may_reword_and_change_an_outcome(her):
    with_intake(her, heart_condition=True)
    Contraindication.objects.filter(code="heart_condition").update(
        plain_words="Heart condition: ask her cardiologist", outcome="not_eligible"
    )

    eligibility = eligibility_for(her)

    assert (eligibility.status, eligibility.reasons) == (
        "not_eligible",
        ["Heart condition: ask her cardiologist"],
    )


def test_an_open_safety_flag_counts_as_current_suicidal_thoughts(her, therapist):
    with_intake(her, current_suicidal_thoughts=False)
    flag = SafetyFlagFactory(client=her, source="phq-9")

    assert eligibility_for(her).reasons == ["Current suicidal thoughts"]

    safety_flag_acknowledge(flag=flag, actor=therapist, note="Passive thoughts; plan in place.")
    assert eligibility_for(her).reasons == []


# --- Marked by hand ---------------------------------------------------------------


def test_a_contraindication_marked_by_hand_is_a_reason(her, therapist):
    configured = ContraindicationFactory(
        plain_words="Recent head injury (needs medical clearance)", outcome="needs_medical_review"
    )

    contraindication_mark(
        client=her, contraindication=configured, note="Told me on the phone.", actor=therapist
    )

    eligibility = eligibility_for(her)
    assert (eligibility.status, eligibility.reasons) == (
        "needs_medical_review",
        ["Recent head injury (needs medical clearance)"],
    )
    mark = ClientContraindication.objects.get(client=her)
    assert (mark.noted_by, mark.note) == (therapist, "Told me on the phone.")
    assert (
        AuditEvent.objects.filter(
            action="create", object_type="kap_sessions.clientcontraindication", client_id=her.pk
        ).count()
        == 1
    )


def test_a_built_in_reason_both_answered_and_marked_is_listed_once(her, therapist):
    with_intake(her, pregnant="yes")
    contraindication_mark(
        client=her,
        contraindication=Contraindication.objects.get(code="pregnancy"),
        note="Confirmed by her midwife.",
        actor=therapist,
    )

    assert eligibility_for(her).reasons == ["Pregnancy"]


def test_marking_the_same_contraindication_twice_is_refused(her, therapist):
    configured = ContraindicationFactory()
    contraindication_mark(client=her, contraindication=configured, note="", actor=therapist)

    with pytest.raises(ValidationError, match="already marked"):
        contraindication_mark(client=her, contraindication=configured, note="", actor=therapist)


def test_a_mark_is_added_in_the_admin_through_the_service(admin_client_mfa, her, therapist):
    configured = ContraindicationFactory(plain_words="Recent stroke", outcome="not_eligible")

    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_clientcontraindication_add"),
        {"client": str(her.pk), "contraindication": str(configured.pk), "note": "From her GP."},
    )

    assert response.status_code == 302
    assert eligibility_for(her).reasons == ["Recent stroke"]
    assert ClientContraindication.objects.get().noted_by == therapist


# --- The therapist's override: the newest wins, with who and when -----------------------


def test_an_override_wins_and_keeps_who_when_and_why(her, therapist):
    with_intake(her, blood_pressure="high_uncontrolled")

    with time_machine.travel("2027-01-05 17:00 +00:00", tick=False):
        eligibility_override(
            client=her,
            status=EligibilityStatus.ELIGIBLE,
            note="Her prescriber reviewed two weeks of readings.",
            actor=therapist,
        )

    eligibility = eligibility_for(her)
    assert eligibility.status == "eligible"
    assert eligibility.computed_status == "needs_medical_review"
    assert eligibility.reasons == ["Uncontrolled high blood pressure"]
    assert eligibility.override is not None
    assert eligibility.override.decided_by == therapist
    assert eligibility.override.decided_at.isoformat() == "2027-01-05T17:00:00+00:00"
    assert eligibility.override.note == "Her prescriber reviewed two weeks of readings."
    assert (
        AuditEvent.objects.filter(
            actor_id=therapist.pk,
            action="create",
            object_type="kap_sessions.eligibilityoverride",
        ).count()
        == 1
    )


def test_the_newest_override_wins(her, therapist, therapist_without_mfa):
    with time_machine.travel("2027-01-05 17:00 +00:00", tick=False):
        eligibility_override(
            client=her, status="not_eligible", note="Waiting for records.", actor=therapist
        )
    with time_machine.travel("2027-01-12 17:00 +00:00", tick=False):
        eligibility_override(
            client=her, status="eligible", note="Records arrived.", actor=therapist_without_mfa
        )

    eligibility = eligibility_for(her)

    assert eligibility.status == "eligible"
    assert eligibility.override.decided_by == therapist_without_mfa
    assert eligibility.override.note == "Records arrived."


@pytest.mark.parametrize("note", ["", "  \n"])
def test_an_override_needs_a_note(her, therapist, note):
    with pytest.raises(ValidationError, match="a note is needed"):
        eligibility_override(client=her, status="eligible", note=note, actor=therapist)

    assert eligibility_for(her).override is None


def test_the_client_page_shows_reasons_and_records_a_decision(admin_client_mfa, her, therapist):
    with_intake(her, psychosis_history=True)
    url = reverse("admin:kap_sessions_client_eligibility", args=[her.pk])

    page = admin_client_mfa.get(url).content.decode()

    assert "Eligibility: Not eligible" in page
    assert "A history of psychosis, mania or bipolar disorder" in page
    assert "Issue the letter to her portal" in page
    assert AuditEvent.objects.filter(
        action="view", object_type="practice.client", object_id=str(her.pk)
    ).exists()

    empty = admin_client_mfa.post(url, {"status": "eligible", "note": ""})
    assert "a note is needed to override eligibility" in empty.content.decode()
    assert eligibility_for(her).override is None

    done = admin_client_mfa.post(
        url, {"status": "needs_medical_review", "note": "One episode, 2011; ask her psychiatrist."}
    )
    assert done.status_code == 302
    eligibility = eligibility_for(her)
    assert (eligibility.status, eligibility.override.decided_by) == (
        "needs_medical_review",
        therapist,
    )
    page = admin_client_mfa.get(url).content.decode()
    assert "Your decision applies:" in page
    assert "One episode, 2011; ask her psychiatrist." in page


def test_the_client_page_costs_the_same_queries_however_much_she_has(
    admin_client_mfa, her, django_assert_max_num_queries
):
    url = reverse("admin:kap_sessions_client_eligibility", args=[her.pk])
    with_intake(her, seizures=True)
    admin_client_mfa.get(url)
    with django_assert_max_num_queries(40) as few:
        admin_client_mfa.get(url)

    for _ in range(5):
        EligibilityOverrideFactory(client=her)
        SafetyFlagFactory(client=her, source="phq-9")
        ContraindicationFactory()
    with django_assert_max_num_queries(40) as many:
        admin_client_mfa.get(url)

    assert len(many.captured_queries) == len(few.captured_queries)


def test_overrides_are_final_in_the_admin(admin_client_mfa, her):
    decision = EligibilityOverrideFactory(client=her)

    response = admin_client_mfa.get(
        reverse("admin:kap_sessions_eligibilityoverride_change", args=[decision.pk])
    )

    assert response.status_code == 200
    assert 'name="note"' not in response.content.decode()


# --- "Not a fit right now": the referral letter ------------------------------------------

RESOURCES = [
    "Next steps and resources",
    "Dear Amara,",
    "988 Suicide & Crisis Lifeline",
    "Call or text 988",
    "Postpartum Support International HelpLine",
    "1-800-944-4773",
    "800-944-4773 (English)",
    "971-203-7773 (Spanish)",
    "Call 911",
    "psychiatrist or a perinatal specialist",
    "psidirectory.com",
    "Harbor Light Therapy",
    "Lena Marsh, LMFT",
]

# Words that would name why, or what she lives with: none belongs in the letter.
DIAGNOSIS_WORDS = [
    "diagnos",
    "depress",
    "anxiety",
    "psychosis",
    "psychotic",
    "mania",
    "bipolar",
    "hypertension",
    "blood pressure",
    "substance",
    "suicidal",
    "pregnan",
    "glaucoma",
    "seizure",
    "epilep",
    "heart",
    "liver",
    "bladder",
    "ketamine",
    "contraindicat",
    "not eligible",
    "eligib",
]


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def not_a_fit(her):  # type: ignore[no-untyped-def]
    with_intake(her, psychosis_history=True, pregnant="yes")
    return her


def test_a_referral_letter_holds_the_resources_and_no_diagnosis(
    not_a_fit, therapist, settings, tmp_path
):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"

    document = referral_letter_issue(client=not_a_fit, actor=therapist)

    assert (document.kind, document.visible_to_client, document.content_type) == (
        "referral_letter",
        True,
        "application/pdf",
    )
    assert document.created_by == therapist
    text = " ".join(pdf_text(private_file_path(document)).split())
    assert [phrase for phrase in RESOURCES if phrase not in text] == []
    assert [word for word in DIAGNOSIS_WORDS if word in text.lower()] == []
    assert list(ClientDocument.objects.shown_to(not_a_fit)) == [document]


def test_the_document_ready_email_names_nothing_clinical(
    not_a_fit, therapist, settings, tmp_path, smtp_sink
):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    document = referral_letter_issue(client=not_a_fit, actor=therapist)
    [row] = OutboxMessage.objects.filter(kind="kap.document_ready")
    assert (row.recipient, row.object_id) == ("amara@example.com", document.pk)

    assert outbox_send_due().sent == 1

    [message] = smtp_sink.messages
    assert smtp_sink.recipients == ["amara@example.com"]
    subject = str(message["Subject"])
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert subject == "A document is ready in your portal"
    assert "A document is ready for you in your portal." in text
    assert "/portal/" in text
    for part in (subject, text, html):
        assert discretion_words_in(part) == []
        lowered = part.lower()
        assert [word for word in DIAGNOSIS_WORDS if word in lowered] == []
        for word in ("referral", "letter", "resources", "fit", "988", "crisis"):
            assert word not in lowered


def test_a_referral_letter_is_only_for_a_client_who_is_not_eligible(her, therapist):
    with_intake(her, heart_condition=True)

    with pytest.raises(ValidationError, match="not eligible"):
        referral_letter_issue(client=her, actor=therapist)

    assert ClientDocument.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_an_override_to_not_eligible_allows_the_letter(her, therapist, settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    with_intake(her)
    eligibility_override(
        client=her, status="not_eligible", note="Not the right time for her.", actor=therapist
    )

    document = referral_letter_issue(client=her, actor=therapist)

    assert document.kind == "referral_letter"


def test_the_letter_is_issued_from_the_admin(admin_client_mfa, not_a_fit, settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"

    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_client_referral_letter", args=[not_a_fit.pk]), follow=True
    )

    page = response.content.decode()
    assert "The letter is in her portal." in page
    assert "A letter with next steps and resources" in page
    assert ClientDocument.objects.filter(client=not_a_fit, kind="referral_letter").count() == 1


def test_a_document_hidden_from_her_before_sending_is_not_announced(
    not_a_fit, therapist, settings, tmp_path, smtp_sink
):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    document = referral_letter_issue(client=not_a_fit, actor=therapist)
    ClientDocument.objects.filter(pk=document.pk).update(visible_to_client=False)

    report = outbox_send_due()

    assert (report.sent, report.voided) == (0, 1)
    assert smtp_sink.messages == []


def test_a_decision_added_in_the_admin_form_goes_through_the_service(
    admin_client_mfa, her, therapist
):
    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_eligibilityoverride_add"),
        {"client": str(her.pk), "status": "not_eligible", "note": "Not now; we spoke by phone."},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:kap_sessions_client_eligibility", args=[her.pk])
    eligibility = eligibility_for(her)
    assert (eligibility.status, eligibility.override.decided_by) == ("not_eligible", therapist)
    assert (
        AuditEvent.objects.filter(
            action="create", object_type="kap_sessions.eligibilityoverride"
        ).count()
        == 1
    )


def test_a_mark_removed_in_the_admin_is_audited(admin_client_mfa, her, therapist):
    mark = contraindication_mark(
        client=her, contraindication=ContraindicationFactory(), note="", actor=therapist
    )

    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_clientcontraindication_delete", args=[mark.pk]),
        {"post": "yes"},
    )

    assert response.status_code == 302
    assert ClientContraindication.objects.count() == 0
    assert (
        AuditEvent.objects.filter(
            action="delete", object_type="kap_sessions.clientcontraindication", client_id=her.pk
        ).count()
        == 1
    )


@pytest.mark.parametrize(
    "name",
    [
        "kap_sessions_safetyflag",
        "kap_sessions_contraindication",
        "kap_sessions_clientcontraindication",
        "kap_sessions_eligibilityoverride",
    ],
)
def test_the_admin_lists_and_pages_open(admin_client_mfa, her, therapist, name):
    flag = SafetyFlagFactory(client=her)
    mark = contraindication_mark(
        client=her, contraindication=ContraindicationFactory(), note="", actor=therapist
    )
    decision = EligibilityOverrideFactory(client=her)
    objects = {
        "kap_sessions_safetyflag": flag,
        "kap_sessions_contraindication": Contraindication.objects.get(code="pregnancy"),
        "kap_sessions_clientcontraindication": mark,
        "kap_sessions_eligibilityoverride": decision,
    }

    listed = admin_client_mfa.get(reverse(f"admin:{name}_changelist"))
    shown = admin_client_mfa.get(reverse(f"admin:{name}_change", args=[objects[name].pk]))

    assert (listed.status_code, shown.status_code) == (200, 200)
