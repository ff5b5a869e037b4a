"""Private files: kept where nothing serves them, with their row or not at all, typed by content.

Every test keeps its files under a ``PRIVATE_FILES_ROOT`` of its own.
"""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from practice.models import AuditEvent, ClientDocument
from practice.private_files import (
    PrivateFileDamaged,
    PrivateUploadField,
    check_private_files_root,
    private_file_path,
    private_file_save,
    private_files_orphans,
)
from tests.factories import ClientFactory, UserFactory

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40


def png_bytes() -> bytes:
    """A real 1x1 PNG (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


PNG = png_bytes()


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path / "private"
    settings.PRIVATE_FILES_ROOT = root
    return root


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def save(client, content: bytes = PDF, **overrides):  # type: ignore[no-untyped-def]
    arguments = {
        "client": client,
        "kind": ClientDocument.Kind.UPLOAD,
        "title": "Letter from her prescriber",
        "content": content,
        "content_type": ClientDocument.ContentType.PDF,
        "created_by": None,
        "visible_to_client": False,
        **overrides,
    }
    return private_file_save(**arguments)


# --- Where files are kept ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_saved_file_is_kept_under_the_private_root_with_its_hash(private_root, settings):
    document = save(ClientFactory())

    path = private_file_path(document)
    assert path.read_bytes() == PDF
    assert path.is_relative_to(private_root)
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT))
    assert not path.is_relative_to(Path(settings.STATIC_ROOT))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (document.sha256, document.size) == (hashlib.sha256(PDF).hexdigest(), len(PDF))
    assert document.storage_name.endswith(".pdf")
    assert "letter" not in document.storage_name  # a random name, nothing of the title


@pytest.mark.django_db
def test_the_private_root_is_created_on_first_write(private_root):
    assert not private_root.exists()

    save(ClientFactory())

    assert private_root.is_dir()


@pytest.mark.django_db
def test_no_url_of_the_media_or_static_folders_reaches_a_private_file(client):
    document = save(ClientFactory())
    name = document.storage_name
    file_name = Path(name).name

    paths = [
        f"/media/{name}",
        f"/static/{name}",
        f"/media/private/{name}",
        f"/static/private/{name}",
        f"/media/{file_name}",
        f"/static/{file_name}",
    ]
    responses = {path: client.get(path) for path in paths}

    assert {path: r.status_code for path, r in responses.items()} == dict.fromkeys(paths, 404)
    assert all(b"%PDF" not in r.content for r in responses.values())


def test_the_default_private_root_passes_the_check():
    assert check_private_files_root() == []


@pytest.mark.parametrize("served", ["MEDIA_ROOT", "STATIC_ROOT"])
@pytest.mark.parametrize("where", ["the folder itself", "a folder inside it"])
def test_the_check_refuses_a_private_root_inside_a_served_folder(settings, served, where):
    folder = Path(getattr(settings, served))
    settings.PRIVATE_FILES_ROOT = folder if where == "the folder itself" else folder / "private"

    errors = check_private_files_root()

    assert [error.id for error in errors] == ["practice.E010"]
    assert served in errors[0].msg


def test_the_check_refuses_a_private_root_inside_a_static_folder(settings):
    settings.PRIVATE_FILES_ROOT = Path(settings.STATICFILES_DIRS[0]) / "private"

    assert [error.id for error in check_private_files_root()] == ["practice.E010"]


# --- A file is kept only with its row ----------------------------------------------------


@pytest.mark.django_db
def test_a_file_is_removed_when_its_transaction_rolls_back(private_root):
    client = ClientFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        document = save(client)
        assert private_file_path(document).exists()
        raise RuntimeError("something later in the same transaction failed")

    assert files_under(private_root) == []
    assert ClientDocument.objects.count() == 0


@pytest.mark.django_db
def test_a_file_whose_row_is_refused_is_removed(private_root):
    with pytest.raises(IntegrityError):
        save(ClientFactory(), kind="no-such-kind")

    assert files_under(private_root) == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_file_stays(private_root):
    client = ClientFactory()

    with transaction.atomic():
        inside = save(client)
    alone = save(client)

    assert files_under(private_root) == sorted(
        [private_file_path(inside), private_file_path(alone)]
    )


@pytest.mark.django_db(transaction=True)
def test_a_committed_file_stays_when_an_earlier_commit_hook_fails(private_root):
    client = ClientFactory()

    def fails() -> None:
        raise ValueError("an unrelated after-commit job failed")

    with pytest.raises(ValueError), transaction.atomic():
        transaction.on_commit(fails)
        document = save(client)

    # Django skipped the later hooks, but the row is committed: so is its file.
    assert ClientDocument.objects.get().pk == document.pk
    assert private_file_path(document).read_bytes() == PDF


@pytest.mark.django_db
def test_content_that_is_not_its_declared_type_is_not_kept(private_root):
    with pytest.raises(ValueError, match="image/png"):
        save(ClientFactory(), content=PNG, content_type=ClientDocument.ContentType.PDF)

    assert files_under(private_root) == []


@pytest.mark.django_db
def test_orphans_are_the_files_no_row_names(private_root):
    kept = save(ClientFactory())
    stray = private_root / "ab" / "stray.pdf"
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(PDF)

    assert list(private_files_orphans()) == [stray]
    assert private_file_path(kept).exists()


# --- Uploads: size and type by content -------------------------------------------------


def clean_upload(name: str, content: bytes, declared: str):  # type: ignore[no-untyped-def]
    return PrivateUploadField().clean(SimpleUploadedFile(name, content, content_type=declared))


@pytest.mark.parametrize(
    ("name", "content", "declared", "kept_as"),
    [
        ("referral.pdf", PDF, "application/pdf", "application/pdf"),
        ("scan.png", PNG, "image/png", "image/png"),
        ("photo.jpg", JPEG, "image/jpeg", "image/jpeg"),
        # The content decides, whatever the browser declares; a name with no
        # extension (or an unknown one) says nothing. (A name that claims
        # another type is refused: tests/practice/test_uploads.py.)
        ("scan.png", PNG, "application/pdf", "image/png"),
        ("photo", JPEG, "application/octet-stream", "image/jpeg"),
        ("PHOTO.JPEG", JPEG, "image/jpeg", "image/jpeg"),
    ],
)
def test_an_upload_is_typed_by_its_content(settings, name, content, declared, kept_as):
    upload = clean_upload(name, content, declared)

    assert upload.content_type == kept_as
    assert upload.content == content


@pytest.mark.parametrize(
    ("name", "content", "declared"),
    [
        ("letter.pdf", HTML, "application/pdf"),
        ("letter.html", HTML, "text/html"),
        ("scan.png", ZIP, "image/png"),
        ("notes.pdf", b"Just some text that says %PDF- later on.", "application/pdf"),
    ],
)
def test_an_upload_that_is_not_a_pdf_or_picture_is_refused(name, content, declared):
    from django.forms import ValidationError

    with pytest.raises(ValidationError) as refused:
        clean_upload(name, content, declared)

    assert refused.value.messages == ["Only PDF documents and PNG or JPEG pictures can be kept."]


def test_an_upload_over_the_size_limit_is_refused(settings):
    from django.forms import ValidationError

    settings.PRIVATE_UPLOAD_MAX_BYTES = 2048
    at_limit = PDF + b"0" * (2048 - len(PDF))

    assert clean_upload("big.pdf", at_limit, "application/pdf").content_type == "application/pdf"
    with pytest.raises(ValidationError) as refused:
        clean_upload("big.pdf", at_limit + b"0", "application/pdf")
    # filesizeformat keeps the number and its unit together with a no-break space.
    assert refused.value.messages == ["This file is 2.0\xa0KB; files up to 2.0\xa0KB can be kept."]


def test_the_size_limit_is_ten_megabytes_by_default(settings):
    assert settings.PRIVATE_UPLOAD_MAX_BYTES == 10 * 1024 * 1024


# --- The therapist's admin: upload and download -------------------------------------------


ADD = "/admin/practice/clientdocument/add/"


def upload_post(admin_client, client, name: str, content: bytes, declared: str):  # type: ignore[no-untyped-def]
    return admin_client.post(
        ADD,
        {
            "client": client.pk,
            "title": "Prescriber's letter",
            "visible_to_client": "on",
            "file": SimpleUploadedFile(name, content, content_type=declared),
        },
    )


@pytest.mark.django_db
def test_the_therapist_uploads_a_document_for_a_client(admin_client_mfa, therapist):
    client = ClientFactory()

    response = upload_post(admin_client_mfa, client, "scan.png", PNG, "application/pdf")

    assert response.status_code == 302
    document = ClientDocument.objects.get()
    assert (document.client, document.kind, document.content_type, document.created_by) == (
        client,
        ClientDocument.Kind.UPLOAD,
        "image/png",
        therapist,
    )
    assert document.visible_to_client is True
    assert private_file_path(document).read_bytes() == PNG


@pytest.mark.django_db
def test_an_html_page_renamed_pdf_is_refused_in_the_admin(admin_client_mfa, private_root):
    response = upload_post(admin_client_mfa, ClientFactory(), "letter.pdf", HTML, "application/pdf")

    assert response.status_code == 200
    assert "Only PDF documents and PNG or JPEG pictures can be kept." in response.content.decode()
    assert ClientDocument.objects.count() == 0
    assert files_under(private_root) == []


@pytest.mark.django_db
def test_a_too_big_upload_is_refused_in_the_admin(admin_client_mfa, settings, private_root):
    settings.PRIVATE_UPLOAD_MAX_BYTES = 1024

    response = upload_post(
        admin_client_mfa, ClientFactory(), "big.pdf", PDF + b"0" * 2000, "application/pdf"
    )

    assert "files up to 1.0\xa0KB can be kept" in response.content.decode()
    assert ClientDocument.objects.count() == 0
    assert files_under(private_root) == []


def download_url(document: ClientDocument) -> str:
    return reverse("admin:practice_clientdocument_download", args=[document.pk])


@pytest.mark.django_db
def test_the_therapist_downloads_a_document_and_it_is_audited(admin_client_mfa, therapist):
    document = save(ClientFactory(), title='Letter "from" ../../her prescriber\r\n')

    response = admin_client_mfa.get(download_url(document))

    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    # Its kind and day, never its title: nothing about her care in a downloads list.
    day = timezone.localdate(document.created_at).isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="upload-{day}.pdf"'
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert (event.actor_id, event.client_id, event.object_type, event.object_id) == (
        therapist.pk,
        document.client.pk,
        "practice.clientdocument",
        str(document.pk),
    )
    assert event.object_repr == f"client document #{document.pk}"
    assert event.path == download_url(document)


@pytest.mark.django_db
def test_the_document_list_links_each_download(admin_client_mfa):
    document = save(ClientFactory())

    page = admin_client_mfa.get("/admin/practice/clientdocument/").content.decode()

    assert f'href="{download_url(document)}"' in page


@pytest.mark.django_db
def test_someone_who_is_not_staff_cannot_download_from_the_admin(client):
    document = save(ClientFactory())
    client.force_login(UserFactory())

    response = client.get(download_url(document))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == 0


@pytest.mark.django_db
def test_a_changed_file_is_never_served(admin_client_mfa):
    document = save(ClientFactory())
    private_file_path(document).write_bytes(PDF.replace(b"Catalog", b"Catalogue"))
    admin_client_mfa.raise_request_exception = True

    with pytest.raises(PrivateFileDamaged, match=f"document #{document.pk}"):
        admin_client_mfa.get(download_url(document))

    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == 0


@pytest.mark.django_db
def test_a_missing_file_is_reported_not_served(admin_client_mfa):
    document = save(ClientFactory())
    private_file_path(document).unlink()
    admin_client_mfa.raise_request_exception = True

    with pytest.raises(PrivateFileDamaged, match="missing"):
        admin_client_mfa.get(download_url(document))


@pytest.mark.django_db
def test_a_kept_file_cannot_be_deleted_from_the_admin(admin_client_mfa):
    document = save(ClientFactory())

    response = admin_client_mfa.post(
        reverse("admin:practice_clientdocument_delete", args=[document.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert private_file_path(document).exists()


@pytest.mark.django_db
def test_the_therapist_changes_only_the_title_and_whether_she_sees_it(admin_client_mfa):
    document = save(ClientFactory())
    other = ClientFactory()

    admin_client_mfa.post(
        reverse("admin:practice_clientdocument_change", args=[document.pk]),
        {"title": "Prescriber letter, January", "visible_to_client": "on", "client": other.pk},
    )

    document.refresh_from_db()
    assert (document.title, document.visible_to_client) == ("Prescriber letter, January", True)
    assert document.client != other
    assert private_file_path(document).read_bytes() == PDF


def test_the_upload_field_reads_no_more_than_the_limit(settings):
    """A body larger than declared is cut at the limit, not read whole into memory."""
    from django.forms import ValidationError

    settings.PRIVATE_UPLOAD_MAX_BYTES = 1024
    upload = SimpleUploadedFile("big.pdf", PDF, content_type="application/pdf")
    upload.file = io.BytesIO(PDF + b"0" * 5000)  # the browser declared a smaller size
    upload.size = len(PDF)

    with pytest.raises(ValidationError, match="can be kept"):
        PrivateUploadField().clean(upload)
