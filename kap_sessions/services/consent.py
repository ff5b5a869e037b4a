"""Informed consent: publishing versions, what she still has to sign, and her signature.

The documents are versioned (:class:`ConsentDocument`); a published text
never changes, so a change is a new draft (:func:`consent_document_new_version`)
that the therapist publishes (:func:`consent_document_publish`). From then
on a client whose valid signature is on an older version is asked to sign
again (:func:`consents_to_sign`): nothing is rewritten, her old signature
simply no longer covers the current version. Her next signature of that
kind supersedes the old one.

What she signs is pinned three ways: the document's version, the SHA-256 of
the exact text she was shown (title and body, :meth:`ConsentDocument.text_sha256`),
and a PDF rendered once from the same text with her typed name, the time in
her zone and that hash, kept as a private file with its own SHA-256.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import dateformat, timezone

from practice.identity import practice_profile
from practice.models import AuditEvent, Client, ClientDocument, User
from practice.pdf import render_pdf
from practice.private_files import private_file_save
from practice.services import audit_record

from ..models import OPTIONAL_CONSENT_KINDS, ConsentDocument, ConsentKind, ConsentSignature

__all__ = [
    "consent_document_new_version",
    "consent_document_next_version",
    "consent_document_publish",
    "consent_pdf_render",
    "consent_sign",
    "consent_signature_keep",
    "consents_complete",
    "consents_missing",
    "consents_to_sign",
    "consents_to_sign_for",
    "typed_name_matches",
]

PDF_TEMPLATE = "pdf/consent.html"


# --- The therapist: drafts and publishing ----------------------------------------------


def consent_document_next_version(kind: str) -> int:
    """The number a new version of ``kind`` gets: one past the highest, drafts included."""
    highest = ConsentDocument.objects.filter(kind=kind).aggregate(v=Max("version"))["v"]
    return (highest or 0) + 1


@transaction.atomic(durable=True)
def consent_document_new_version(
    *, document: ConsentDocument, actor: User | None
) -> ConsentDocument:
    """A draft copy of ``document`` (title, body, note) as the next version of its kind.

    If a draft of that kind is already open, that draft is returned instead:
    "New version" pressed twice leaves one draft to edit, not two.

    Side effects: inserts the draft; an audit line naming ``actor``.
    """
    # Serialise drafts of one kind on the rows of that kind (the unique
    # (kind, version) pair would refuse a second copy anyway).
    list(ConsentDocument.objects.select_for_update().filter(kind=document.kind).values("pk"))
    draft = (
        ConsentDocument.objects.filter(kind=document.kind, published_at__isnull=True)
        .order_by("-version")
        .first()
    )
    if draft is not None:
        return draft
    draft = ConsentDocument.objects.create(
        kind=document.kind,
        version=consent_document_next_version(document.kind),
        title=document.title,
        body=document.body,
        internal_note=document.internal_note,
        created_by=actor,
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=draft)
    return draft


@transaction.atomic(durable=True)
def consent_document_publish(*, document: ConsentDocument, actor: User | None) -> ConsentDocument:
    """Publish a draft: from now on its text is final and it is what clients sign.

    Raises ``ValidationError`` for a document already published, one with no
    title or text, or one older than the kind's published version (publishing
    it would not make it current).

    Side effects:
    - stamps ``published_at``; the text can no longer change;
    - every client whose valid signature of this kind is on an older version
      now has it in her portal's to-do (:func:`consents_to_sign`) and is not
      ready for a dosing session (:func:`consents_complete`) until she signs it;
    - an audit line naming ``actor``.
    """
    document = ConsentDocument.objects.select_for_update().get(pk=document.pk)
    if document.is_published:
        raise ValidationError("This version is already published.", code="published")
    if not document.title.strip() or not document.body.strip():
        raise ValidationError("A document needs a title and a text before it is published.")
    newer = (
        ConsentDocument.objects.published()
        .filter(kind=document.kind, version__gt=document.version)
        .order_by("-version")
        .first()
    )
    if newer is not None:
        raise ValidationError(
            f"Version {newer.version} is already published; this older draft would not be "
            "the one clients sign.",
            code="older",
        )
    document.published_at = timezone.now()
    document.save(update_fields=["published_at"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=document)
    return document


# --- What she still has to sign --------------------------------------------------------


def consents_to_sign(client: Client) -> list[ConsentDocument]:
    """The current versions she has no valid signature of, in the order she reads them.

    A kind that is hers to choose (the permission to share with her support
    person) is asked only when she has named a support person or signed an
    earlier version of it. Each document carries ``signed_kind``: True when
    she signed an earlier version (the portal says "updated since you signed
    it").

    Two plain queries (the published versions, a handful over the years, and
    her valid signatures), sorted out here: every portal home asks this, and
    the single query with a correlated subquery and an ``EXISTS`` cost three
    times as much, nearly all of it in compiling the SQL.
    """
    return consents_to_sign_for([client])[client.pk]


def consents_to_sign_for(clients: Sequence[Client]) -> dict[int, list[ConsentDocument]]:
    """:func:`consents_to_sign` of each client, by client id, in the same two queries.

    Each client gets her own copies of the documents (``signed_kind`` is hers).
    """
    newest: dict[str, ConsentDocument] = {}
    for document in ConsentDocument.objects.published().order_by("kind", "-version"):
        newest.setdefault(document.kind, document)
    signed_kinds: dict[int, set[str]] = {client.pk: set() for client in clients}
    signed_text: dict[int, dict[int, str]] = {client.pk: {} for client in clients}
    for client_id, document_id, kind, text_sha256 in ConsentSignature.objects.filter(
        client_id__in=list(signed_kinds), superseded_by__isnull=True
    ).values_list("client_id", "document_id", "document__kind", "text_sha256"):
        signed_kinds[client_id].add(kind)
        signed_text[client_id][document_id] = text_sha256
    order = list(ConsentKind.values)
    current = sorted(newest.values(), key=lambda document: order.index(document.kind))
    hashes = {document.pk: document.text_sha256() for document in current}
    result: dict[int, list[ConsentDocument]] = {}
    for client in clients:
        to_sign = []
        for shared in current:
            if signed_text[client.pk].get(shared.pk) == hashes[shared.pk]:
                continue
            signed_kind = shared.kind in signed_kinds[client.pk]
            if (
                shared.kind in OPTIONAL_CONSENT_KINDS
                and not client.support_person_name
                and not signed_kind
            ):
                continue
            document = copy.copy(shared)
            document.signed_kind = signed_kind  # type: ignore[attr-defined]
            to_sign.append(document)
        result[client.pk] = to_sign
    return result


def consents_complete(client: Client) -> bool:
    """Every document she must sign before a dosing session is signed in its current version.

    The optional kinds never hold her back. The course's dosing gate reads this.
    """
    return not consents_missing(consents_to_sign(client))


def consents_missing(to_sign: Sequence[ConsentDocument]) -> list[ConsentDocument]:
    """Of ``to_sign`` (one client's), the documents that hold back a dosing session."""
    return [document for document in to_sign if document.kind not in OPTIONAL_CONSENT_KINDS]


# --- Her signature ------------------------------------------------------------------------


def _comparable(name: str) -> str:
    # Case, spacing and Unicode forms (a composed or decomposed é) do not count.
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def typed_name_matches(client: Client, typed_name: str) -> bool:
    """``typed_name`` is her full name on record, whatever its case and spacing."""
    return bool(typed_name.strip()) and _comparable(typed_name) == _comparable(client.full_name)


def name_mismatch_message(client: Client) -> str:
    return (
        f"Please type your full name as we have it: {client.full_name}. If that is not "
        "your name, sign later and let us know, and we will correct it."
    )


@dataclass(frozen=True)
class SignedOn:
    """When she signed, as her PDF and her portal say it: in her zone."""

    text: str  # "January 5, 2027 at 11:14 AM CST"
    zone: str  # "America/Chicago"


def signed_on(client: Client, moment: datetime) -> SignedOn:
    zone = client.zone_or(practice_profile().zone)
    local = moment.astimezone(zone)
    return SignedOn(text=dateformat.format(local, r"F j, Y \a\t g:i A T"), zone=zone.key)


def consent_pdf_render(*, signature: ConsentSignature) -> bytes:
    """The signed document as a PDF: letterhead, the exact text, the signature block."""
    document = signature.document
    return render_pdf(
        PDF_TEMPLATE,
        {
            "document": document,
            "signature": signature,
            "client": signature.client,
            "signed_on": signed_on(signature.client, signature.signed_at),
        },
    )


def consent_signature_keep(*, signature: ConsentSignature, pdf: bytes) -> ConsentSignature:
    """Store ``signature`` with its rendered ``pdf`` in the caller's transaction; return it.

    The write half of :func:`consent_sign`, which checks the name and the
    version and calls this in its own durable transaction; it is not durable
    itself so that the demo data (``seed_demo`` runs each app's seed in a
    transaction) keeps signatures the same way. A signature already stored
    without a PDF gets it (the one change a stored signature allows).

    Side effects: ``pdf`` kept with :func:`private_file_save` as a
    ``signed_consent`` document she can download (its file is removed if the
    transaction rolls back); the signature saved with it; her earlier valid
    signature of an older version of this kind superseded by this one.
    """
    document = signature.document
    client = signature.client
    with transaction.atomic():
        signature.pdf = private_file_save(
            client=client,
            kind=ClientDocument.Kind.SIGNED_CONSENT,
            title=f"{document.title} (signed, version {document.version})"[:200],
            content=pdf,
            content_type=ClientDocument.ContentType.PDF,
            created_by=client.user,
            visible_to_client=True,
        )
        signature.save()
        earlier = ConsentSignature.objects.select_for_update().filter(
            client=client,
            document__kind=document.kind,
            document__version__lt=document.version,
            superseded_by__isnull=True,
        )
        for old in earlier:
            old.superseded_by = signature
            old.save(update_fields=["superseded_by"])
    return signature


def consent_sign(
    *,
    client: Client,
    document: ConsentDocument,
    typed_name: str,
    ip: str | None,
    user_agent: str,
) -> ConsentSignature:
    """Record her signature on the current version of ``document``'s kind; return it.

    Raises ``ValidationError`` when the typed name is not hers (code
    ``name``) or ``document`` is not the current published version of its
    kind (``not_current``: a newer one was published while she read).
    The same form sent twice signs once: the second call returns the first
    signature (``kap_sessions_consentsignature_one_per_version`` decides a race).

    Side effects, in one transaction:
    - the signature row: her typed name, the time, address and browser, the
      version (its document) and the SHA-256 of the text shown;
    - the signed PDF, rendered once (before the transaction, so no row is
      locked while WeasyPrint works) and kept with :func:`private_file_save`
      as a ``signed_consent`` document she can download; its file is removed
      if the transaction rolls back;
    - her earlier valid signature of an older version of this kind is
      superseded by this one.
    """
    if not typed_name_matches(client, typed_name):
        raise ValidationError(name_mismatch_message(client), code="name")
    current = ConsentDocument.objects.current().filter(kind=document.kind).first()
    if current is None or current.pk != document.pk:
        raise ValidationError(
            "A newer version of this document has been published; please read that one.",
            code="not_current",
        )
    existing = ConsentSignature.objects.filter(client=client, document=document).first()
    if existing is not None:
        return existing

    signature = ConsentSignature(
        client=client,
        document=current,
        typed_name=" ".join(typed_name.split())[:200],
        signed_at=timezone.now(),
        ip_address=ip,
        user_agent=user_agent[:300],
        text_sha256=current.text_sha256(),
    )
    pdf = consent_pdf_render(signature=signature)
    try:
        with transaction.atomic(durable=True):
            consent_signature_keep(signature=signature, pdf=pdf)
    except IntegrityError:
        # Sent twice at once: the other request's signature stands (its PDF
        # too; this one's file went with the rolled-back transaction).
        first = ConsentSignature.objects.filter(client=client, document=current).first()
        if first is None:
            raise
        return first
    return signature
