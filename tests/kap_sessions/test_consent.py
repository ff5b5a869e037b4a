"""Informed consent: versions published by the therapist, signed by her in the portal.

Amara (``client_user``) signs; Beth (``other_client_user``) is the other
client whose signed PDF Amara must never reach. Every test starts from no
consent documents at all (the data migration's version 1 of each kind is
removed), so what she is asked to sign is exactly what the test publishes.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kap_sessions.models import ConsentDocument, ConsentKind, ConsentSignature, RecordIsFinal
from kap_sessions.services.consent import (
    consent_document_new_version,
    consent_document_publish,
    consent_sign,
    consents_complete,
    consents_to_sign,
)
from kap_sessions.services.portal_cache import portal_changed
from practice.models import AuditEvent, ClientDocument
from practice.private_files import private_file_path
from tests.factories import PASSWORD, ClientDocumentFactory
from tests.kap_sessions.factories import (
    ConsentDocumentFactory,
    ConsentSignatureFactory,
    ScreeningAssignmentFactory,
)

pytestmark = pytest.mark.django_db

SIGNED_AT = datetime(2027, 1, 5, 17, 14, tzinfo=UTC)  # 11:14 AM in Chicago (CST)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path / "private"
    settings.PRIVATE_FILES_ROOT = root
    return root


@pytest.fixture(autouse=True)
def no_starting_documents(db: None) -> None:
    ConsentDocument.objects.all().delete()


@pytest.fixture
def amara(client_user, practice_profile):  # type: ignore[no-untyped-def]
    client = client_user.client
    client.time_zone = "America/Chicago"
    client.save()
    return client


@pytest.fixture
def beth(other_client_user):  # type: ignore[no-untyped-def]
    return other_client_user.client


@pytest.fixture
def kap_consent() -> ConsentDocument:
    return ConsentDocumentFactory(
        kind=ConsentKind.KAP_INFORMED_CONSENT,
        version=3,
        title="Informed consent for ketamine-assisted psychotherapy",
        body="What a session is like.\n\nYou may stop at any time.",
    )


@pytest.fixture
def signed_in(client, client_user):  # type: ignore[no-untyped-def]
    client.force_login(client_user)
    return client


def sign(client, document: ConsentDocument, **overrides) -> ConsentSignature:  # type: ignore[no-untyped-def]
    arguments = {
        "client": client,
        "document": document,
        "typed_name": client.full_name,
        "ip": "203.0.113.7",
        "user_agent": IPHONE,
        **overrides,
    }
    return consent_sign(**arguments)


def consent_url(document: ConsentDocument) -> str:
    return reverse("kap_sessions:portal_consent", args=[document.pk])


def document_url(document: ClientDocument) -> str:
    return reverse("kap_sessions:portal_document", args=[document.pk])


def pdf_text(content: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "signed.pdf"
    path.write_bytes(content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- What she is asked to sign ---------------------------------------------------------


def test_she_is_asked_to_sign_each_current_version_in_reading_order(
    amara, django_assert_num_queries
):
    ConsentDocumentFactory(kind=ConsentKind.FINANCIAL_POLICY, version=1)
    old_kap = ConsentDocumentFactory(kind=ConsentKind.KAP_INFORMED_CONSENT, version=1)
    kap = ConsentDocumentFactory(kind=ConsentKind.KAP_INFORMED_CONSENT, version=2)
    ConsentDocumentFactory(kind=ConsentKind.PRIVACY_NOTICE, version=1, published_at=None)
    financial = ConsentDocument.objects.get(kind=ConsentKind.FINANCIAL_POLICY)
    ConsentSignatureFactory(client=amara, document=old_kap)

    with django_assert_num_queries(2):
        to_sign = consents_to_sign(amara)

    assert to_sign == [kap, financial]
    assert [document.signed_kind for document in to_sign] == [True, False]


def test_a_valid_signature_of_the_current_version_takes_it_off_her_list(amara, beth):
    kap = ConsentDocumentFactory(kind=ConsentKind.KAP_INFORMED_CONSENT, version=1)
    financial = ConsentDocumentFactory(kind=ConsentKind.FINANCIAL_POLICY, version=1)
    ConsentSignatureFactory(client=amara, document=kap)
    ConsentSignatureFactory(client=beth, document=financial)  # Beth's signs nothing of hers

    assert consents_to_sign(amara) == [financial]
    assert consents_complete(amara) is False


def test_the_support_person_release_is_asked_only_if_she_named_one(amara):
    release = ConsentDocumentFactory(kind=ConsentKind.RELEASE_SUPPORT_PERSON, version=1)

    assert consents_to_sign(amara) == []
    assert consents_complete(amara) is True

    amara.support_person_name = "Nneka Okafor"
    amara.save()

    assert consents_to_sign(amara) == [release]
    # Hers to choose: it never holds back a dosing session.
    assert consents_complete(amara) is True


def test_consents_are_complete_when_every_required_current_version_is_signed(amara, kap_consent):
    privacy = ConsentDocumentFactory(kind=ConsentKind.PRIVACY_NOTICE, version=1)
    sign(amara, kap_consent)
    assert consents_complete(amara) is False

    sign(amara, privacy)

    assert consents_to_sign(amara) == []
    assert consents_complete(amara) is True


# --- The therapist: drafts, publishing, new versions ------------------------------------


def test_a_new_version_is_a_draft_copy_with_the_next_number(kap_consent, therapist):
    draft = consent_document_new_version(document=kap_consent, actor=therapist)

    assert (draft.kind, draft.version, draft.title, draft.body) == (
        kap_consent.kind,
        4,
        kap_consent.title,
        kap_consent.body,
    )
    assert draft.is_published is False
    assert draft.created_by == therapist
    # Pressed twice: still one draft.
    assert consent_document_new_version(document=kap_consent, actor=therapist) == draft


def test_publishing_a_new_version_asks_her_to_sign_again(amara, kap_consent, therapist):
    first = sign(amara, kap_consent)
    assert consents_complete(amara) is True

    draft = consent_document_new_version(document=kap_consent, actor=therapist)
    draft.body += "\n\nA paragraph about driving home."
    draft.save()
    published = consent_document_publish(document=draft, actor=therapist)

    assert consents_to_sign(amara) == [published]
    assert consents_complete(amara) is False
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CHANGE, object_id=str(draft.pk), actor_id=therapist.pk
    ).exists()

    second = sign(amara, published)

    first.refresh_from_db()
    assert first.superseded_by == second
    assert consents_complete(amara) is True
    assert list(ConsentSignature.objects.for_client(amara)) == [second]


def test_a_published_version_is_not_published_again(kap_consent, therapist):
    with pytest.raises(ValidationError, match="already published"):
        consent_document_publish(document=kap_consent, actor=therapist)


def test_an_older_draft_is_not_published_over_a_newer_version(kap_consent, therapist):
    older = ConsentDocumentFactory(kind=kap_consent.kind, version=2, published_at=None)

    with pytest.raises(ValidationError, match="Version 3 is already published"):
        consent_document_publish(document=older, actor=therapist)

    older.refresh_from_db()
    assert older.is_published is False


# --- Her signature ---------------------------------------------------------------------------


def test_a_signature_records_time_address_browser_version_and_the_hash_of_the_text(
    amara, kap_consent
):
    with time_machine.travel(SIGNED_AT, tick=False):
        signature = sign(amara, kap_consent, typed_name="  amara   OKAFOR ")

    seen = "Informed consent for ketamine-assisted psychotherapy\n\n" + kap_consent.body
    assert signature.text_sha256 == hashlib.sha256(seen.encode()).hexdigest()
    assert (
        signature.client,
        signature.document,
        signature.document.version,
        signature.typed_name,
        signature.signed_at,
        signature.ip_address,
        signature.user_agent,
    ) == (amara, kap_consent, 3, "amara OKAFOR", SIGNED_AT, "203.0.113.7", IPHONE)


def test_the_signed_pdf_is_kept_privately_with_its_own_hash(amara, kap_consent, client_user):
    signature = sign(amara, kap_consent)

    pdf = signature.pdf
    content = private_file_path(pdf).read_bytes()
    assert content.startswith(b"%PDF-")
    assert (pdf.client, pdf.kind, pdf.content_type, pdf.visible_to_client) == (
        amara,
        ClientDocument.Kind.SIGNED_CONSENT,
        "application/pdf",
        True,
    )
    assert pdf.sha256 == hashlib.sha256(content).hexdigest() != signature.text_sha256
    assert pdf.created_by == client_user
    assert pdf.title == "Informed consent for ketamine-assisted psychotherapy (signed, version 3)"


def test_the_signed_pdf_holds_her_name_the_version_and_the_time_in_her_zone(
    amara, kap_consent, tmp_path
):
    with time_machine.travel(SIGNED_AT, tick=False):
        signature = sign(amara, kap_consent)

    text = pdf_text(private_file_path(signature.pdf).read_bytes(), tmp_path)

    assert "Harbor Light Therapy" in text  # the letterhead
    assert "Informed consent for ketamine-assisted psychotherapy" in text
    assert "You may stop at any time." in text
    assert "Signed by Amara Okafor" in text
    assert "Version 3" in text
    assert "Signed electronically on January 5, 2027 at 11:14 AM CST (America/Chicago)" in text
    assert signature.text_sha256[:32] in text.replace(" ", "")


@pytest.mark.parametrize(
    "typed", ["Amara Okafor", "amara okafor", "  AMARA\tOkafor ", "Amara  Okafor"]
)
def test_her_name_is_matched_whatever_its_case_and_spacing(amara, kap_consent, typed):
    assert sign(amara, kap_consent, typed_name=typed).pk is not None


@pytest.mark.parametrize("typed", ["Amara", "A. Okafor", "Beth Lindqvist", "", "   "])
def test_a_name_that_is_not_hers_is_refused_kindly(amara, kap_consent, typed, private_root):
    with pytest.raises(ValidationError) as refused:
        sign(amara, kap_consent, typed_name=typed)

    assert refused.value.code == "name"
    assert refused.value.messages == [
        "Please type your full name as we have it: Amara Okafor. If that is not your name, "
        "sign later and let us know, and we will correct it."
    ]
    assert ConsentSignature.objects.count() == 0
    assert files_under(private_root) == []


def test_only_the_current_version_can_be_signed(amara, kap_consent):
    newer = ConsentDocumentFactory(kind=kap_consent.kind, version=4)

    with pytest.raises(ValidationError) as refused:
        sign(amara, kap_consent)

    assert refused.value.code == "not_current"
    assert sign(amara, newer).document == newer


def test_signing_twice_signs_once(amara, kap_consent, private_root):
    first = sign(amara, kap_consent)
    again = sign(amara, kap_consent)

    assert again == first
    assert ConsentSignature.objects.count() == 1
    assert ClientDocument.objects.count() == 1
    assert files_under(private_root) == [private_file_path(first.pdf)]


@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_sign_once(client_user, private_root):
    amara = client_user.client
    document = ConsentDocumentFactory(kind=ConsentKind.FINANCIAL_POLICY, version=1)
    start = threading.Barrier(2)
    results: list[object] = []

    def submit() -> None:
        try:
            start.wait()
            results.append(sign(amara, document))
        except Exception as exc:  # reported below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    signature = ConsentSignature.objects.get()
    assert results == [signature, signature]
    assert ClientDocument.objects.get() == signature.pdf
    assert files_under(private_root) == [private_file_path(signature.pdf)]


def test_a_signed_record_cannot_be_edited_only_superseded(amara, kap_consent):
    signature = sign(amara, kap_consent)

    for field, value in [("typed_name", "Someone Else"), ("text_sha256", "0" * 64)]:
        changed = ConsentSignature.objects.get(pk=signature.pk)
        setattr(changed, field, value)
        with pytest.raises(RecordIsFinal):
            changed.save()

    stored = ConsentSignature.objects.get(pk=signature.pk)
    assert (stored.typed_name, stored.text_sha256) == (signature.typed_name, signature.text_sha256)


# --- The portal page ----------------------------------------------------------------------


def test_the_consent_page_shows_the_exact_text_and_the_sign_form(signed_in, kap_consent):
    response = signed_in.get(consent_url(kap_consent))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Informed consent for ketamine-assisted psychotherapy</h1>" in page
    assert "<p>What a session is like.</p>" in page
    assert "<p>You may stop at any time.</p>" in page
    assert f'value="{kap_consent.text_sha256()}"' in page
    assert '<label for="id_typed_name">Your full name</label>' in page
    assert "I have read and agree" in page
    # The tab's title names no treatment (a browser's history may be read by others).
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)  # type: ignore[union-attr]
    assert "ketamine" not in title.lower()


def post_sign(client, document, **data):  # type: ignore[no-untyped-def]
    form = {
        "typed_name": "Amara Okafor",
        "agree": "on",
        "shown_sha256": document.text_sha256(),
        **data,
    }
    return client.post(
        consent_url(document), form, REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT=IPHONE
    )


def test_she_signs_in_the_portal_and_sees_her_signed_copy(client, client_user, amara, kap_consent):
    with time_machine.travel(SIGNED_AT, tick=False):
        client.force_login(client_user)
        response = post_sign(client, kap_consent)

    assert response.status_code == 302
    assert response["Location"] == consent_url(kap_consent)
    signature = ConsentSignature.objects.get()
    assert (signature.ip_address, signature.user_agent) == ("198.51.100.23", IPHONE)
    page = client.get(consent_url(kap_consent)).content.decode()
    assert "You signed this on January 5, 2027 at 11:14 AM CST." in page
    assert f'href="{document_url(signature.pdf)}"' in page
    assert 'name="typed_name"' not in page


def test_a_wrong_name_keeps_her_on_the_page_with_a_kind_message(signed_in, kap_consent):
    response = post_sign(signed_in, kap_consent, typed_name="Amara O")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Please type your full name as we have it: Amara Okafor." in page
    assert 'value="Amara O"' in page
    assert 'aria-describedby="id_typed_name_error id_typed_name_helptext"' in page
    assert ConsentSignature.objects.count() == 0


def test_the_agree_box_must_be_ticked(signed_in, kap_consent):
    response = post_sign(signed_in, kap_consent, agree="")

    assert "Please tick “I have read and agree” to sign." in response.content.decode()
    assert ConsentSignature.objects.count() == 0


def test_a_text_other_than_the_one_shown_is_not_signed(signed_in, kap_consent):
    response = post_sign(signed_in, kap_consent, shown_sha256="0" * 64)

    assert "This document changed since the page opened" in response.content.decode()
    assert ConsentSignature.objects.count() == 0


def test_the_same_form_sent_twice_signs_once(signed_in, kap_consent):
    first = post_sign(signed_in, kap_consent)
    second = post_sign(signed_in, kap_consent)

    assert first.status_code == 302
    assert second.status_code == 200
    assert "You signed this on" in second.content.decode()
    assert ConsentSignature.objects.count() == 1


def test_an_older_version_she_never_signed_leads_to_the_current_one(signed_in, kap_consent):
    older = ConsentDocumentFactory(kind=kap_consent.kind, version=2)

    response = signed_in.get(consent_url(older))

    assert response.status_code == 302
    assert response["Location"] == consent_url(kap_consent)


def test_an_older_version_she_signed_shows_her_signature_and_the_newer_one(
    signed_in, amara, kap_consent
):
    signature = sign(amara, kap_consent)
    newer = ConsentDocumentFactory(kind=kap_consent.kind, version=4)

    page = signed_in.get(consent_url(kap_consent)).content.decode()

    assert f'href="{document_url(signature.pdf)}"' in page
    assert f'href="{consent_url(newer)}"' in page


def test_a_draft_is_not_found(signed_in, kap_consent):
    draft = ConsentDocumentFactory(kind=kap_consent.kind, version=4, published_at=None)

    assert signed_in.get(consent_url(draft)).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(client, amara, kap_consent):
    pdf = sign(amara, kap_consent).pdf

    for url in [consent_url(kap_consent), document_url(pdf)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"


# --- Her documents ---------------------------------------------------------------------------


def test_she_downloads_her_signed_pdf_and_it_is_audited(signed_in, amara, client_user, kap_consent):
    pdf = sign(amara, kap_consent).pdf

    response = signed_in.get(document_url(pdf))

    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == pdf.sha256
    day = timezone.localdate(pdf.created_at).isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="signed-consent-{day}.pdf"'
    assert {"private", "no-store"} <= {p.strip() for p in response["Cache-Control"].split(",")}
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert (event.actor_id, event.client_id, event.object_id) == (
        client_user.pk,
        amara.pk,
        str(pdf.pk),
    )


def test_another_clients_document_is_not_found(signed_in, beth):
    theirs = sign(beth, ConsentDocumentFactory(kind=ConsentKind.FINANCIAL_POLICY, version=1))

    response = signed_in.get(document_url(theirs.pdf))

    assert response.status_code == 404
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == 0


def test_a_document_kept_from_her_is_not_found(signed_in, amara):
    kept_back = ClientDocumentFactory(client=amara, visible_to_client=False)

    assert signed_in.get(document_url(kept_back)).status_code == 404


def test_the_therapist_downloads_her_signed_pdf_from_the_admin(
    admin_client_mfa, therapist, amara, kap_consent
):
    signature = sign(amara, kap_consent)
    signatures_page = admin_client_mfa.get(
        reverse("admin:kap_sessions_consentsignature_change", args=[signature.pk])
    ).content.decode()
    url = reverse("admin:practice_clientdocument_download", args=[signature.pdf.pk])
    assert f'href="{url}"' in signatures_page

    response = admin_client_mfa.get(url)

    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == signature.pdf.sha256
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.DOWNLOAD, actor_id=therapist.pk, client_id=amara.pk
        ).count()
        == 1
    )


# --- The admin: drafts, Publish, New version ------------------------------------------------


def change_url(document: ConsentDocument) -> str:
    return reverse("admin:kap_sessions_consentdocument_change", args=[document.pk])


def test_the_therapist_edits_a_draft_and_publishes_it_with_the_button(
    admin_client_mfa, amara, kap_consent
):
    sign(amara, kap_consent)
    draft = ConsentDocumentFactory(kind=kap_consent.kind, version=4, published_at=None)
    page = admin_client_mfa.get(change_url(draft)).content.decode()
    assert 'data-step="publish"' in page

    admin_client_mfa.post(
        change_url(draft),
        {"title": draft.title, "body": "The reviewed text.", "internal_note": ""},
    )
    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_consentdocument_publish", args=[draft.pk]), follow=True
    )

    draft.refresh_from_db()
    assert (draft.body, draft.is_published) == ("The reviewed text.", True)
    assert (
        "Version 4 is published. 1 client(s) who signed an earlier version are asked to sign it "
        "before their next dosing session." in response.content.decode()
    )
    assert consents_to_sign(amara) == [draft]


def test_a_published_version_is_read_only_in_the_admin(admin_client_mfa, kap_consent):
    page = admin_client_mfa.get(change_url(kap_consent)).content.decode()
    assert 'name="body"' not in page
    assert 'data-step="new_version"' in page

    admin_client_mfa.post(
        change_url(kap_consent),
        {"title": "Changed", "body": "Changed.", "internal_note": "Reviewed in March."},
    )

    kap_consent.refresh_from_db()
    assert (kap_consent.title, kap_consent.internal_note) == (
        "Informed consent for ketamine-assisted psychotherapy",
        "Reviewed in March.",
    )
    assert "Changed." not in kap_consent.body


def test_new_version_in_the_admin_opens_the_draft(admin_client_mfa, kap_consent):
    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_consentdocument_new_version", args=[kap_consent.pk])
    )

    draft = ConsentDocument.objects.get(kind=kap_consent.kind, version=4)
    assert response["Location"] == change_url(draft)
    assert draft.body == kap_consent.body


def test_a_new_document_added_in_the_admin_gets_the_next_version(admin_client_mfa, kap_consent):
    admin_client_mfa.post(
        reverse("admin:kap_sessions_consentdocument_add"),
        {
            "kind": kap_consent.kind,
            "title": "A rewritten consent",
            "body": "Fresh text.",
            "internal_note": "",
        },
    )

    added = ConsentDocument.objects.get(title="A rewritten consent")
    assert (added.version, added.is_published) == (4, False)


def test_a_signature_is_read_only_in_the_admin(admin_client_mfa, amara, kap_consent):
    signature = sign(amara, kap_consent)

    response = admin_client_mfa.post(
        reverse("admin:kap_sessions_consentsignature_change", args=[signature.pk]),
        {"typed_name": "Someone Else"},
    )

    assert response.status_code == 403
    assert ConsentSignature.objects.get().typed_name == "Amara Okafor"


def test_her_signed_pdf_is_view_only_in_the_admin(admin_client_mfa, amara, kap_consent):
    pdf = sign(amara, kap_consent).pdf
    url = reverse("admin:practice_clientdocument_change", args=[pdf.pk])

    page = admin_client_mfa.get(url)
    refused = admin_client_mfa.post(url, {"title": "Renamed", "visible_to_client": ""})

    assert page.status_code == 200
    assert 'name="title"' not in page.content.decode()
    assert refused.status_code == 403
    pdf.refresh_from_db()
    assert (pdf.title, pdf.visible_to_client) == (
        "Informed consent for ketamine-assisted psychotherapy (signed, version 3)",
        True,
    )


# --- Query budgets: constant in the number of documents ---------------------------------------


def _queries(callable_) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len(captured.captured_queries)


def _more_documents(client, count: int) -> None:  # type: ignore[no-untyped-def]
    for version in range(count):
        ConsentSignatureFactory(
            client=client,
            document=ConsentDocumentFactory(
                kind=ConsentKind.FINANCIAL_POLICY, version=version + 10
            ),
        )
        ClientDocumentFactory(client=client)
        ScreeningAssignmentFactory(client=client)


# 3 of them: the session saved on every request; 1 her view's audit line (one
# insert: it is sealed off the request).
CONSENT_PAGE_BUDGET = 10
DOWNLOAD_BUDGET = 8  # 1 of them: the download's audit line


def test_the_consent_page_and_a_download_cost_the_same_queries_with_more_documents(
    signed_in, amara, kap_consent, django_assert_max_num_queries
):
    pdf = sign(amara, kap_consent).pdf
    unsigned = ConsentDocumentFactory(kind=ConsentKind.PRIVACY_NOTICE, version=1)

    def measure() -> tuple[int, int, int]:
        # Each as the first page after a change of hers: her record is read again.
        portal_changed(client_id=amara.pk)
        with django_assert_max_num_queries(CONSENT_PAGE_BUDGET):
            signed_page = _queries(lambda: signed_in.get(consent_url(kap_consent)))
        portal_changed(client_id=amara.pk)
        with django_assert_max_num_queries(CONSENT_PAGE_BUDGET):
            sign_page = _queries(lambda: signed_in.get(consent_url(unsigned)))
        portal_changed(client_id=amara.pk)
        with django_assert_max_num_queries(DOWNLOAD_BUDGET):
            download = _queries(lambda: signed_in.get(document_url(pdf)))
        return signed_page, sign_page, download

    signed_in.get(consent_url(unsigned))  # the first page stores her CSRF token in the session
    few = measure()
    _more_documents(amara, 8)
    many = measure()

    assert few == many


# --- In Chromium, on a phone ----------------------------------------------------------------


@pytest.fixture
def amara_on_her_phone(live_server, phone_page, client_user, practice_profile):  # type: ignore[no-untyped-def]
    """Amara signed in through the real login page; lands on the consent to sign."""
    client = client_user.client
    client.time_zone = "America/Chicago"
    client.save()
    document = ConsentDocumentFactory(
        kind=ConsentKind.KAP_INFORMED_CONSENT,
        version=3,
        body="What a session is like.\n\nYou may stop at any time.",
    )
    url = consent_url(document)
    page = phone_page
    page.goto(f"{live_server.url}{url}")
    page.wait_for_url("**/accounts/login/**")
    page.locator("input[name=login]").fill(client_user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{url}")
    return page


@pytest.mark.browser
def test_she_signs_on_her_phone_and_downloads_the_pdf(amara_on_her_phone, tmp_path):
    from tests.practice.test_accessibility import violations

    page = amara_on_her_phone
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    found = violations(page)

    page.get_by_role("button", name="Sign", exact=True).click()  # nothing filled in yet
    page.get_by_role("alert").wait_for()
    found += violations(page)
    page.get_by_label("Your full name").fill("amara okafor")
    page.get_by_label("I have read and agree").check()
    page.get_by_role("button", name="Sign", exact=True).click()

    page.get_by_text("You signed this on").wait_for()
    found += violations(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download your signed copy (PDF)").click()
    saved = tmp_path / "download.pdf"
    download_info.value.save_as(saved)
    assert re.fullmatch(
        r"signed-consent-\d{4}-\d\d-\d\d\.pdf", download_info.value.suggested_filename
    )

    text = pdf_text(saved.read_bytes(), tmp_path)
    signature = ConsentSignature.objects.get()
    when = timezone.localtime(signature.signed_at, timezone=ZoneInfo("America/Chicago"))
    assert "Signed by amara okafor" in text
    assert "Name on record Amara Okafor" in text
    assert "Version 3" in text
    assert f"{when:%B} {when.day}, {when.year} at" in text
    assert "(America/Chicago)" in text, text
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert found == []
    assert errors == []
