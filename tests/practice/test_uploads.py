"""Uploads and private files, attacked: another client's file, a path traversal,
a file that lies about its type, a file over the limit.

Each test keeps its files under a ``PRIVATE_FILES_ROOT`` of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import ValidationError
from django.urls import reverse

from practice.models import AuditEvent, Client, ClientDocument
from practice.private_files import (
    PrivateUploadField,
    private_file_path,
    private_file_save,
)
from tests.factories import ClientFactory
from tests.practice.test_private_files import HTML, JPEG, PDF, PNG

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
ADD = "/admin/practice/clientdocument/add/"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path / "private"
    settings.PRIVATE_FILES_ROOT = root
    return root


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def keep(client: Client, content: bytes = PDF, content_type: str = "application/pdf", **fields):  # type: ignore[no-untyped-def]
    return private_file_save(
        client=client,
        kind=ClientDocument.Kind.UPLOAD,
        title=fields.pop("title", "Letter"),
        content=content,
        content_type=content_type,
        created_by=None,
        visible_to_client=fields.pop("visible_to_client", True),
    )


def upload_post(admin_client, client: Client, name: str, content: bytes, declared: str):  # type: ignore[no-untyped-def]
    return admin_client.post(
        ADD,
        {
            "client": client.pk,
            "title": "Prescriber's letter",
            "visible_to_client": "on",
            "file": SimpleUploadedFile(name, content, content_type=declared),
        },
    )


# --- Another client's file ----------------------------------------------------------------


@pytest.mark.django_db
def test_another_clients_file_is_a_404_in_her_portal(client, client_user, other_client_user):
    hers = keep(Client.objects.get(user=client_user))
    theirs = keep(Client.objects.get(user=other_client_user))
    client.force_login(client_user)

    own = client.get(reverse("kap_sessions:portal_document", args=[hers.pk]))
    other = client.get(reverse("kap_sessions:portal_document", args=[theirs.pk]))
    missing = client.get(reverse("kap_sessions:portal_document", args=[theirs.pk + 1000]))

    assert b"".join(own.streaming_content) == PDF
    assert other.status_code == 404
    assert b"%PDF" not in other.content

    # The same answer as an id that does not exist: nothing tells her it is someone's.
    def page(response, pk: int) -> str:  # type: ignore[no-untyped-def]
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
        return text.replace(f"/portal/documents/{pk}/", "PATH")

    assert missing.status_code == 404
    assert page(other, theirs.pk) == page(missing, theirs.pk + 1000)
    downloads = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD)
    assert [event.object_id for event in downloads] == [str(hers.pk)]


@pytest.mark.django_db
def test_her_file_kept_from_her_is_a_404_too(client, client_user):
    hidden = keep(Client.objects.get(user=client_user), visible_to_client=False)
    client.force_login(client_user)

    response = client.get(reverse("kap_sessions:portal_document", args=[hidden.pk]))

    assert response.status_code == 404
    assert b"%PDF" not in response.content


@pytest.mark.django_db
def test_a_client_cannot_reach_the_admins_download(client, client_user):
    document = keep(Client.objects.get(user=client_user))
    client.force_login(client_user)

    response = client.get(reverse("admin:practice_clientdocument_download", args=[document.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- Path traversal -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["../../../../etc/cron.d/evil.pdf", "..\\..\\evil.pdf", "/etc/passwd.pdf"]
)
def test_a_traversing_upload_name_is_stored_under_a_random_name_in_the_root(
    admin_client_mfa, private_root, name
):
    response = upload_post(admin_client_mfa, ClientFactory(), name, PDF, "application/pdf")

    assert response.status_code == 302
    document = ClientDocument.objects.get()
    path = private_file_path(document)
    assert path.is_relative_to(private_root.resolve())
    assert ".." not in document.storage_name
    assert "evil" not in document.storage_name and "passwd" not in document.storage_name
    assert files_under(private_root) == [path]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "storage_name", ["../outside.pdf", "ab/../../outside.pdf", "/etc/passwd", "", "."]
)
def test_a_storage_name_outside_the_root_is_refused(private_root, storage_name):
    document = keep(ClientFactory())
    outside = private_root.parent / "outside.pdf"
    outside.write_bytes(PDF)
    ClientDocument.objects.filter(pk=document.pk).update(storage_name=storage_name)
    document.refresh_from_db()

    with pytest.raises(SuspiciousFileOperation):
        private_file_path(document)


@pytest.mark.django_db
def test_a_traversing_storage_name_is_never_served(admin_client_mfa, private_root):
    document = keep(ClientFactory())
    outside = private_root.parent / "outside.pdf"
    outside.write_bytes(PDF)
    ClientDocument.objects.filter(pk=document.pk).update(storage_name="../outside.pdf")

    response = admin_client_mfa.get(
        reverse("admin:practice_clientdocument_download", args=[document.pk])
    )

    # Django answers a SuspiciousOperation with 400 and logs it.
    assert response.status_code == 400
    assert b"%PDF" not in response.content
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == 0


@pytest.mark.django_db
def test_a_symlink_out_of_the_root_is_refused(private_root):
    document = keep(ClientFactory())
    outside = private_root.parent / "outside.pdf"
    outside.write_bytes(PDF)
    link = private_root / "ab" / "link.pdf"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(outside)
    ClientDocument.objects.filter(pk=document.pk).update(storage_name="ab/link.pdf")
    document.refresh_from_db()

    with pytest.raises(SuspiciousFileOperation):
        private_file_path(document)


# --- A file that lies about its type -----------------------------------------------------------


def clean_upload(name: str, content: bytes, declared: str = "application/octet-stream"):  # type: ignore[no-untyped-def]
    return PrivateUploadField().clean(SimpleUploadedFile(name, content, content_type=declared))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "scan.png",
            PDF,
            "This file is named as a PNG picture but its content is a PDF document.",
        ),
        (
            "letter.pdf",
            PNG,
            "This file is named as a PDF document but its content is a PNG picture.",
        ),
        (
            "photo.jpg",
            PNG,
            "This file is named as a JPEG picture but its content is a PNG picture.",
        ),
        ("letter.exe", PDF, "This file is named as a program but its content is a PDF document."),
        (
            "page.html",
            JPEG,
            "This file is named as a web page but its content is a JPEG picture.",
        ),
    ],
)
def test_an_upload_whose_name_lies_about_its_content_is_refused(name, content, message):
    with pytest.raises(ValidationError) as refused:
        clean_upload(name, content)

    assert refused.value.messages == [
        message + " Save it again in the format its name says (or rename it) and upload it again."
    ]
    assert refused.value.error_list[0].code == "mismatch"


@pytest.mark.parametrize(
    ("name", "content"),
    [("letter.pdf", HTML), ("letter.pdf", EXE), ("setup.exe", EXE), ("image.png", HTML)],
)
def test_an_upload_that_is_no_kept_type_is_refused_whatever_its_name(name, content):
    with pytest.raises(ValidationError) as refused:
        clean_upload(name, content, "application/pdf")

    assert refused.value.messages == ["Only PDF documents and PNG or JPEG pictures can be kept."]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "shown"),
    [
        ("letter.pdf", EXE, "Only PDF documents and PNG or JPEG pictures can be kept."),
        ("letter.pdf", HTML, "Only PDF documents and PNG or JPEG pictures can be kept."),
        ("scan.png", PDF, "named as a PNG picture but its content is a PDF document"),
    ],
)
def test_a_lying_file_is_refused_in_the_admin_and_nothing_is_kept(
    admin_client_mfa, private_root, name, content, shown
):
    response = upload_post(admin_client_mfa, ClientFactory(), name, content, "application/pdf")

    assert response.status_code == 200
    assert shown in response.content.decode()
    assert ClientDocument.objects.count() == 0
    assert files_under(private_root) == []


@pytest.mark.django_db
def test_the_save_itself_refuses_content_that_is_not_its_type(private_root):
    with pytest.raises(ValueError, match="not a kept type"):
        keep(ClientFactory(), content=HTML, content_type="application/pdf")

    assert files_under(private_root) == []
    assert ClientDocument.objects.count() == 0


# --- A file over the limit ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused_with_its_size_and_nothing_is_kept(
    admin_client_mfa, settings, private_root
):
    settings.PRIVATE_UPLOAD_MAX_BYTES = 4096
    big = PDF + b"0" * 6000

    response = upload_post(admin_client_mfa, ClientFactory(), "big.pdf", big, "application/pdf")

    page = response.content.decode()
    assert response.status_code == 200
    assert "This file is 5.9\xa0KB; files up to 4.0\xa0KB can be kept." in page
    assert ClientDocument.objects.count() == 0
    assert files_under(private_root) == []


@pytest.mark.django_db
def test_a_file_at_the_limit_is_kept(admin_client_mfa, settings, private_root):
    settings.PRIVATE_UPLOAD_MAX_BYTES = 4096
    exact = PDF + b"0" * (4096 - len(PDF))

    response = upload_post(admin_client_mfa, ClientFactory(), "big.pdf", exact, "application/pdf")

    assert response.status_code == 302
    assert private_file_path(ClientDocument.objects.get()).read_bytes() == exact


@pytest.mark.django_db
def test_a_large_upload_spooled_to_disk_is_refused_too(admin_client_mfa, settings, private_root):
    # Past FILE_UPLOAD_MAX_MEMORY_SIZE Django writes the upload to a temporary
    # file first; the field still reads no more than the limit from it.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.PRIVATE_UPLOAD_MAX_BYTES = 8192
    big = PDF + b"0" * 20_000

    response = upload_post(admin_client_mfa, ClientFactory(), "big.pdf", big, "application/pdf")

    assert "files up to 8.0\xa0KB can be kept" in response.content.decode()
    assert ClientDocument.objects.count() == 0
    assert files_under(private_root) == []
