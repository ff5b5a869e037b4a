"""Private files: bytes about a client, kept where no web server looks.

Signed consent PDFs, referral letters and uploads live under
``settings.PRIVATE_FILES_ROOT`` (``VAR_DIR/private``), which is neither
``MEDIA_ROOT`` nor ``STATIC_ROOT`` nor a static folder: the system check
below refuses a root inside any of them, so no URL reaches the bytes. The
only way out is :func:`private_file_response`, called by a view that has
already decided who may ask, which checks the stored hash and writes an
audit line naming who downloaded which document.

What is guaranteed:

- A file is kept only with its row. :func:`private_file_save` writes the
  bytes under a random name and then the :class:`ClientDocument` row in the
  caller's transaction; if that transaction (or the savepoint around the
  write) rolls back, the file is removed. Django has no rollback hook, so
  the removal rides on an on-commit hook: Django drops the hooks of a
  rolled-back transaction without calling them, and a dropped hook that
  was never called removes its file (see :class:`_RemoveUnlessCommitted`).
  A process killed between the write and the commit can still leave a file
  no row names; it is unreachable (no row, no URL) and
  ``private_files_orphans()`` lists such files for a tidy-up.
- A file is kept only if its content is a PDF, PNG or JPEG, whatever its
  declared type says (:func:`sniff_content_type`, used by the upload field
  and again by the save); an upload whose name claims another type than its
  content (a PNG named ``.pdf``) is refused.
- What is served is what was stored: the SHA-256 taken at the write is
  compared with the bytes before any byte leaves (:class:`PrivateFileDamaged`
  otherwise, a server error that names the document's id only).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core import checks
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.http import FileResponse, HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import slugify

from .models import AuditEvent, ClientDocument
from .services import audit_record

if TYPE_CHECKING:
    from .models import Client, User

__all__ = [
    "CheckedUpload",
    "PrivateFileDamaged",
    "PrivateUploadField",
    "private_file_path",
    "private_file_response",
    "private_file_save",
    "private_files_orphans",
    "sniff_content_type",
]

logger = logging.getLogger(__name__)

ContentType = ClientDocument.ContentType

# The first bytes of each kept type, as their specifications fix them.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", ContentType.PDF),
    (b"\x89PNG\r\n\x1a\n", ContentType.PNG),
    (b"\xff\xd8\xff", ContentType.JPEG),
)
EXTENSIONS = {ContentType.PDF: ".pdf", ContentType.PNG: ".png", ContentType.JPEG: ".jpg"}

_CHUNK = 64 * 1024


class PrivateFileDamaged(Exception):
    """A stored file is missing or no longer has the hash taken when it was written."""


def sniff_content_type(content: bytes) -> str | None:
    """The kept type the bytes are (by their signature), or ``None``."""
    for signature, content_type in SIGNATURES:
        if content.startswith(signature):
            return str(content_type)
    return None


def private_files_root() -> Path:
    return Path(settings.PRIVATE_FILES_ROOT)


def private_file_path(document: ClientDocument) -> Path:
    """Where the document's bytes are; refuses a name that would leave the root."""
    root = private_files_root().resolve()
    path = (root / document.storage_name).resolve()
    if not path.is_relative_to(root) or path == root:
        raise SuspiciousFileOperation(f"document #{document.pk} names a path outside the root")
    return path


# --- Writing -------------------------------------------------------------------


class _RemoveUnlessCommitted:
    """An on-commit hook that removes its file if Django drops it uncalled.

    Django calls a transaction's on-commit hooks after it commits and drops
    them, uncalled, when it (or the savepoint they were registered in) rolls
    back; a dropped hook is freed at once (reference counting), and the
    finalizer then removes the file. One more case drops hooks uncalled:
    an earlier hook of a committed transaction raising. The connection is
    then running its commit hooks (``run_commit_hooks_on_set_autocommit_on``
    is still set), so the finalizer keeps the file: a committed row never
    loses its bytes.
    """

    def __init__(self, path: Path) -> None:
        self.state = {"called": False}
        weakref.finalize(self, _remove_if_rolled_back, path, self.state)

    def __call__(self) -> None:
        self.state["called"] = True


def _remove_if_rolled_back(path: Path, state: dict[str, bool]) -> None:
    if state["called"]:
        return
    if connection.run_commit_hooks_on_set_autocommit_on:
        logger.warning("private file kept: its transaction committed but a hook failed")
        return
    path.unlink(missing_ok=True)


def _write_new_file(content: bytes, extension: str) -> tuple[str, Path]:
    """Write ``content`` under a fresh random name (owner-only); return (name, path)."""
    root = private_files_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    storage_name = f"{token[:2]}/{token}{extension}"
    path = root / storage_name
    path.parent.mkdir(mode=0o700, exist_ok=True)
    # O_EXCL: a name is never reused, even by two writers drawing the same token.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return storage_name, path


def private_file_save(
    *,
    client: Client,
    kind: str,
    title: str,
    content: bytes,
    content_type: str,
    created_by: User | None,
    visible_to_client: bool,
) -> ClientDocument:
    """Keep ``content`` as one of her documents; return its row.

    Side effects: a file under ``PRIVATE_FILES_ROOT`` (random name, owner
    only, flushed to disk) and a :class:`ClientDocument` row with its size and
    SHA-256, in the caller's transaction; the file is removed if that
    transaction rolls back. ``content_type`` must be what the bytes are
    (:func:`sniff_content_type`): a :class:`ValueError` otherwise, as the
    callers (the upload field, the PDF renderer) already know the type.
    """
    sniffed = sniff_content_type(content)
    if sniffed is None or sniffed != content_type:
        raise ValueError(f"content is {sniffed or 'not a kept type'}, not {content_type}")
    storage_name, path = _write_new_file(content, EXTENSIONS[ContentType(content_type)])
    try:
        with transaction.atomic():
            document = ClientDocument.objects.create(
                client=client,
                kind=kind,
                title=title,
                storage_name=storage_name,
                sha256=hashlib.sha256(content).hexdigest(),
                size=len(content),
                content_type=content_type,
                created_by=created_by,
                visible_to_client=visible_to_client,
            )
            transaction.on_commit(_RemoveUnlessCommitted(path), robust=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return document


# --- Serving -------------------------------------------------------------------


def _download_name(document: ClientDocument) -> str:
    """A discreet file name, safe in any header and file system: kind, date, extension.

    Not the title: "informed consent for ketamine-assisted psychotherapy" would
    sit in a shared phone's downloads list; "signed-consent-2027-01-05.pdf" says
    what it is to her and nothing to anyone else.
    """
    day = timezone.localdate(document.created_at)
    stem = slugify(document.get_kind_display()) or "document"
    return f"{stem}-{day.isoformat()}{EXTENSIONS[ContentType(document.content_type)]}"


def _verified_bytes(document: ClientDocument) -> bytes:
    path = private_file_path(document)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise PrivateFileDamaged(f"document #{document.pk}: the file is missing") from None
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise PrivateFileDamaged(f"document #{document.pk}: the file's hash does not match")
    return content


def private_file_response(
    request: HttpRequest, document: ClientDocument, *, as_attachment: bool = True
) -> FileResponse:
    """Serve ``document`` to whoever the calling view let in, and audit it.

    The caller decides who may ask (the portal's own-documents lookup, the
    admin's permission); this checks the bytes against the stored hash
    (:class:`PrivateFileDamaged` if they differ or are gone), answers with a
    discreet file name (its kind and date), ``Cache-Control: private, no-store`` and
    ``nosniff``, and writes one audit line: who, which document, from where.
    """
    # Read whole (uploads are capped, PDFs small) so what is hashed is what is sent.
    content = _verified_bytes(document)
    response = FileResponse(
        io.BytesIO(content),
        as_attachment=as_attachment,
        filename=_download_name(document),
        content_type=document.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    audit_record(
        actor=request.user,  # type: ignore[arg-type]
        action=AuditEvent.Action.DOWNLOAD,
        obj=document,
        client=document.client,
        request=request,
    )
    return response


def private_files_orphans() -> Iterator[Path]:
    """Files under the root that no row names (a process killed mid-write leaves one)."""
    root = private_files_root()
    if not root.exists():
        return
    named = set(ClientDocument.objects.values_list("storage_name", flat=True))
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.relative_to(root).as_posix() not in named:
            yield path


# --- Uploads ---------------------------------------------------------------------


# What a file's extension claims it is. A kept type's own extensions, and
# those of types that are never kept (named so the refusal can say what the
# name claims); any other extension, or none, leaves the content to decide.
NAMED_TYPES: dict[str, str] = {
    ".pdf": ContentType.PDF,
    ".png": ContentType.PNG,
    ".jpg": ContentType.JPEG,
    ".jpeg": ContentType.JPEG,
    ".jpe": ContentType.JPEG,
    ".jfif": ContentType.JPEG,
    **dict.fromkeys((".htm", ".html", ".xhtml", ".svg", ".xml"), "a web page"),
    **dict.fromkeys(
        (".exe", ".msi", ".bat", ".cmd", ".com", ".scr", ".js", ".sh", ".app", ".dmg"), "a program"
    ),
}
TYPE_WORDS: dict[str, str] = {
    ContentType.PDF: "a PDF document",
    ContentType.PNG: "a PNG picture",
    ContentType.JPEG: "a JPEG picture",
}


def _named_as(name: str) -> str | None:
    """What the file's name claims (a kept type, or words for another), or ``None``."""
    return NAMED_TYPES.get(Path(name.replace("\\", "/")).suffix.lower())


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed :class:`PrivateUploadField`: its bytes and what they are."""

    name: str
    content: bytes
    content_type: str


class PrivateUploadField(forms.FileField):
    """A file kept privately: at most ``PRIVATE_UPLOAD_MAX_BYTES``, and a PDF, PNG
    or JPEG by its content (the browser's declared type is ignored). A name
    whose extension claims another type than the content is refused.

    ``clean()`` returns a :class:`CheckedUpload`, ready for :func:`private_file_save`.
    """

    default_error_messages = {
        "too_big": "This file is %(size)s; files up to %(limit)s can be kept.",
        "type": "Only PDF documents and PNG or JPEG pictures can be kept.",
        "mismatch": (
            "This file is named as %(named)s but its content is %(found)s. Save it again "
            "in the format its name says (or rename it) and upload it again."
        ),
    }

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if not isinstance(upload, UploadedFile):
            return upload
        limit = settings.PRIVATE_UPLOAD_MAX_BYTES
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                self.error_messages["too_big"],
                code="too_big",
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            )
        upload.seek(0)
        content = upload.read(limit + 1)
        if len(content) > limit:  # a size the browser under-declared
            raise forms.ValidationError(
                self.error_messages["too_big"],
                code="too_big",
                params={"size": filesizeformat(len(content)), "limit": filesizeformat(limit)},
            )
        sniffed = sniff_content_type(content)
        if sniffed is None:
            raise forms.ValidationError(self.error_messages["type"], code="type")
        named = _named_as(upload.name or "")
        if named is not None and named != sniffed:
            # A name that lies about the content (a PDF named .png, a PNG
            # named .pdf, a picture named .exe): refused rather than guessed,
            # since whoever sent it may not know what they are sending.
            raise forms.ValidationError(
                self.error_messages["mismatch"],
                code="mismatch",
                params={"named": TYPE_WORDS.get(named, named), "found": TYPE_WORDS[sniffed]},
            )
        return CheckedUpload(name=upload.name or "", content=content, content_type=sniffed)


# --- Configuration check --------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_private_files_root(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """PRIVATE_FILES_ROOT must not be inside anything served as files."""
    root = private_files_root().resolve()
    served = {
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        "STATIC_ROOT": settings.STATIC_ROOT,
        **{f"STATICFILES_DIRS[{i}]": d for i, d in enumerate(settings.STATICFILES_DIRS)},
    }
    errors: list[checks.CheckMessage] = []
    for name, directory in served.items():
        if isinstance(directory, tuple | list):  # a (prefix, path) entry
            directory = directory[1]
        if directory and root.is_relative_to(Path(directory).resolve()):
            errors.append(
                checks.Error(
                    f"PRIVATE_FILES_ROOT ({root}) is inside {name} ({directory}), "
                    "which is served to anyone who asks.",
                    hint="Keep private files outside every served folder, e.g. VAR_DIR/private.",
                    id="practice.E010",
                )
            )
    return errors
