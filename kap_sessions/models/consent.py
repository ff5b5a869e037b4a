"""Informed consent: versioned documents, and her signature on one exact version.

A :class:`ConsentDocument` is one version of one kind of document. While it
is a draft the therapist may edit it; once published, its title and body
are what clients read and sign, and they never change: a new text is a new
row with the next version. Publishing a new version of a kind asks every
client who signed an older one to sign again (the services compare her
valid signature's version with :meth:`ConsentDocumentQuerySet.current`).

A :class:`ConsentSignature` keeps what she signed and how: the document
version, her typed name, the time, her address and browser, and the
SHA-256 of the exact text shown (:meth:`ConsentDocument.text_sha256`). It
is never edited: the only later writes are the signed PDF, once, when it is
rendered, and the signature that supersedes it, once.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Case, OuterRef, Subquery, Value, When
from django.utils import timezone

from practice.client_records import SHA256_HEX_PATTERN
from practice.models import Client, ClientDocument

from .final import RecordIsFinal, current_value, stored_values


class ConsentKind(models.TextChoices):
    """The documents a client signs, in the order she is asked to read them."""

    KAP_INFORMED_CONSENT = (
        "kap_informed_consent",
        "Informed consent for ketamine-assisted psychotherapy",
    )
    PRIVACY_NOTICE = "privacy_notice", "Notice of privacy practices"
    FINANCIAL_POLICY = "financial_policy", "Financial policy"
    RELEASE_PRESCRIBER = (
        "release_prescriber",
        "Permission to share information with your prescriber",
    )
    RELEASE_SUPPORT_PERSON = (
        "release_support_person",
        "Permission to share information with your support person",
    )


# Signed only if she wishes: every other kind is needed before dosing.
OPTIONAL_CONSENT_KINDS: tuple[ConsentKind, ...] = (ConsentKind.RELEASE_SUPPORT_PERSON,)

# What a published version may no longer change.
_PUBLISHED_TEXT_FIELDS = ("kind", "version", "title", "body", "published_at")


def _kind_order() -> Case:
    return Case(
        *(When(kind=kind, then=Value(index)) for index, kind in enumerate(ConsentKind.values)),
        default=Value(len(ConsentKind.values)),
    )


class ConsentDocumentQuerySet(models.QuerySet["ConsentDocument"]):
    def published(self) -> ConsentDocumentQuerySet:
        return self.filter(published_at__isnull=False)

    def current(self) -> ConsentDocumentQuerySet:
        """The newest published version of each kind, in :class:`ConsentKind` order (one query).

        A correlated subquery rather than PostgreSQL's ``DISTINCT ON``, so the
        same query runs on SQLite; ``(kind, version)`` is unique and indexed.
        """
        newest = (
            self.model._default_manager.filter(kind=OuterRef("kind"), published_at__isnull=False)
            .order_by("-version")
            .values("version")[:1]
        )
        return self.published().filter(version=Subquery(newest)).order_by(_kind_order())


class ConsentDocument(models.Model):
    Kind = ConsentKind

    kind = models.CharField(max_length=30, choices=Kind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="The exact text she reads and signs.")
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Empty while a draft. Once published, the text can no longer change.",
    )
    internal_note = models.TextField(
        blank=True, help_text="For the practice only; never shown to clients."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ConsentDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "version"],
                name="kap_sessions_consentdocument_one_per_version",
                violation_error_message="This version of this document already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1),
                name="kap_sessions_consentdocument_version_positive",
                violation_error_message="Versions are numbered from 1.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ConsentKind.values),
                name="kap_sessions_consentdocument_kind_known",
            ),
            models.CheckConstraint(
                condition=models.Q(published_at__isnull=True)
                | (~models.Q(title="") & ~models.Q(body="")),
                name="kap_sessions_consentdocument_published_has_text",
                violation_error_message="A published document needs a title and a text.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        stored = stored_values(self, _PUBLISHED_TEXT_FIELDS)
        if stored is not None and stored["published_at"] is not None:
            changed = [
                name for name in _PUBLISHED_TEXT_FIELDS if stored[name] != current_value(self, name)
            ]
            if changed:
                raise RecordIsFinal(
                    "A published document cannot be changed; publish a new version instead."
                )
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def shown_text(self) -> str:
        """The text as she reads it: what her signature's hash is taken of."""
        return f"{self.title}\n\n{self.body}"

    def text_sha256(self) -> str:
        return hashlib.sha256(self.shown_text.encode()).hexdigest()


class ConsentSignatureQuerySet(models.QuerySet["ConsentSignature"]):
    def valid(self) -> ConsentSignatureQuerySet:
        """Signatures no newer one has replaced, with the document signed."""
        return self.filter(superseded_by__isnull=True).select_related("document")

    def for_client(self, client: Client) -> ConsentSignatureQuerySet:
        """Her valid signatures with their documents and PDFs, newest first."""
        return (
            self.valid().filter(client=client).select_related("pdf").order_by("-signed_at", "-id")
        )


class ConsentSignature(models.Model):
    """Her signature on one version of a consent document, kept as signed.

    ``save()`` refuses any change to a stored signature except setting
    ``pdf`` once and ``superseded_by`` once. The superseding signature is
    hers, on a newer version of the same kind: the service that writes it
    checks that, as SQL cannot look across the two rows' documents.
    """

    # The fields that never change once she has signed.
    SIGNED_FIELDS = (
        "client",
        "document",
        "typed_name",
        "signed_at",
        "ip_address",
        "user_agent",
        "text_sha256",
    )
    # The fields written once, after the signature.
    SET_ONCE_FIELDS = ("pdf", "superseded_by")

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consent_signatures")
    document = models.ForeignKey(
        ConsentDocument, on_delete=models.PROTECT, related_name="signatures"
    )
    typed_name = models.CharField("full name, as typed", max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    text_sha256 = models.CharField(
        "SHA-256 of the text shown", max_length=64, help_text="Of the document's shown_text."
    )
    pdf = models.OneToOneField(
        ClientDocument,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consent_signature",
        help_text="The signed PDF, rendered once after signing.",
    )
    superseded_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supersedes",
    )

    objects = ConsentSignatureQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "document"],
                name="kap_sessions_consentsignature_one_per_version",
                violation_error_message="She has already signed this version.",
            ),
            models.CheckConstraint(
                condition=~models.Q(typed_name=""),
                name="kap_sessions_consentsignature_typed_name_given",
                violation_error_message="Please type your full name.",
            ),
            models.CheckConstraint(
                condition=models.Q(text_sha256__regex=SHA256_HEX_PATTERN),
                name="kap_sessions_consentsignature_text_sha256_is_hex",
            ),
            models.CheckConstraint(
                condition=~models.Q(superseded_by=models.F("pk")),
                name="kap_sessions_consentsignature_not_superseded_by_itself",
            ),
        ]

    def __str__(self) -> str:
        return f"Signature #{self.pk} (client #{self.client_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        stored = stored_values(self, (*self.SIGNED_FIELDS, *self.SET_ONCE_FIELDS))
        if stored is not None:
            changed = [
                name for name in self.SIGNED_FIELDS if stored[name] != current_value(self, name)
            ]
            changed += [
                name
                for name in self.SET_ONCE_FIELDS
                if stored[name] is not None and stored[name] != current_value(self, name)
            ]
            if changed:
                raise RecordIsFinal(
                    "A signed record cannot be edited, only superseded by a new signature."
                )
        super().save(*args, **kwargs)

    @property
    def is_superseded(self) -> bool:
        return self.superseded_by_id is not None

    def matches(self, document: ConsentDocument) -> bool:
        """She signed exactly this text (the hash of what she saw is the document's now)."""
        return self.document_id == document.pk and self.text_sha256 == document.text_sha256()
