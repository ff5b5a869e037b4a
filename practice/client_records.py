"""What the practice keeps beside a client's record: portal invitations and private files.

Both live in ``practice`` rather than in a leaf app because the record they
hang off (:class:`practice.models.Client`) is shared: the invitation is sent
from a client record or a converted consultation, and the documents (signed
consent PDFs from ``kap_sessions``, referral letters, her uploads) are served
by the one private-file view that checks who asks and audits it. The models
point at ``"practice.Client"`` by name, as the calendar's do, so this module
and ``practice/models.py`` do not import each other in a circle.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from practice.models import Client

__all__ = [
    "ClientDocument",
    "ClientDocumentQuerySet",
    "ClientInvitation",
    "ClientInvitationQuerySet",
    "USState",
    "validate_time_zone",
]

# Lower-case hex only, as hashlib's hexdigest() gives it; the one spelling
# means a hash compares equal to itself whichever code wrote it.
SHA256_HEX_PATTERN = r"^[0-9a-f]{64}$"


def validate_time_zone(value: str) -> None:
    """An IANA zone name Python knows (``America/Chicago``)."""
    try:
        ZoneInfo(value)
    except Exception as exc:  # ZoneInfoNotFoundError, or ValueError for a malformed key
        raise ValidationError("Not a known time zone.", code="time_zone") from exc


class USState(models.TextChoices):
    """The state or territory she lives in: the therapist is licensed in some only."""

    AL = "AL", "Alabama"
    AK = "AK", "Alaska"
    AZ = "AZ", "Arizona"
    AR = "AR", "Arkansas"
    CA = "CA", "California"
    CO = "CO", "Colorado"
    CT = "CT", "Connecticut"
    DE = "DE", "Delaware"
    DC = "DC", "District of Columbia"
    FL = "FL", "Florida"
    GA = "GA", "Georgia"
    HI = "HI", "Hawaii"
    ID = "ID", "Idaho"
    IL = "IL", "Illinois"
    IN = "IN", "Indiana"
    IA = "IA", "Iowa"
    KS = "KS", "Kansas"
    KY = "KY", "Kentucky"
    LA = "LA", "Louisiana"
    ME = "ME", "Maine"
    MD = "MD", "Maryland"
    MA = "MA", "Massachusetts"
    MI = "MI", "Michigan"
    MN = "MN", "Minnesota"
    MS = "MS", "Mississippi"
    MO = "MO", "Missouri"
    MT = "MT", "Montana"
    NE = "NE", "Nebraska"
    NV = "NV", "Nevada"
    NH = "NH", "New Hampshire"
    NJ = "NJ", "New Jersey"
    NM = "NM", "New Mexico"
    NY = "NY", "New York"
    NC = "NC", "North Carolina"
    ND = "ND", "North Dakota"
    OH = "OH", "Ohio"
    OK = "OK", "Oklahoma"
    OR = "OR", "Oregon"
    PA = "PA", "Pennsylvania"
    RI = "RI", "Rhode Island"
    SC = "SC", "South Carolina"
    SD = "SD", "South Dakota"
    TN = "TN", "Tennessee"
    TX = "TX", "Texas"
    UT = "UT", "Utah"
    VT = "VT", "Vermont"
    VA = "VA", "Virginia"
    WA = "WA", "Washington"
    WV = "WV", "West Virginia"
    WI = "WI", "Wisconsin"
    WY = "WY", "Wyoming"
    AS = "AS", "American Samoa"
    GU = "GU", "Guam"
    MP = "MP", "Northern Mariana Islands"
    PR = "PR", "Puerto Rico"
    VI = "VI", "U.S. Virgin Islands"


class ClientInvitationQuerySet(models.QuerySet["ClientInvitation"]):
    def usable(self, now: datetime) -> ClientInvitationQuerySet:
        """Invitations whose link still works at ``now``, with their client."""
        return self.filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).select_related("client")

    def outstanding(self) -> ClientInvitationQuerySet:
        """Neither used nor revoked (possibly expired): what a new invitation revokes."""
        return self.filter(used_at__isnull=True, revoked_at__isnull=True)


class ClientInvitation(models.Model):
    """One invitation to the client portal; only the SHA-256 of its token is kept.

    The raw token travels in the email alone (minted when the email is built,
    as the consultation's manage links are), so a database copy opens no
    portal. Sending a new invitation revokes the outstanding ones first: at
    most one link per client works at a time
    (``practice_clientinvitation_one_outstanding_per_client``), so an old
    email found later in a shared inbox is useless. A link is used once: it
    sets her password and is then spent.
    """

    client = models.ForeignKey(
        "practice.Client", on_delete=models.CASCADE, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a newer invitation replaced this one."
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ClientInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="practice_clientinvitation_expires_after_created",
                violation_error_message="An invitation must expire after it is sent.",
            ),
            models.CheckConstraint(
                condition=models.Q(token_hash__regex=SHA256_HEX_PATTERN),
                name="practice_clientinvitation_token_hash_is_sha256",
            ),
            # A spent link is not revoked afterwards, and a revoked one can
            # no longer be spent: each ends one way.
            models.CheckConstraint(
                condition=models.Q(used_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="practice_clientinvitation_used_or_revoked",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(used_at__isnull=True, revoked_at__isnull=True),
                name="practice_clientinvitation_one_outstanding_per_client",
                violation_error_message=(
                    "She already has an invitation that has not been used; "
                    "revoke it before sending a new one."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation #{self.pk} for client #{self.client_id}"

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now


class DocumentKind(models.TextChoices):
    SIGNED_CONSENT = "signed_consent", "Signed consent"
    REFERRAL_LETTER = "referral_letter", "Referral letter"
    UPLOAD = "upload", "Upload"


class DocumentContentType(models.TextChoices):
    """The only file types kept; uploads are checked by their content, not their name."""

    PDF = "application/pdf", "PDF"
    PNG = "image/png", "PNG image"
    JPEG = "image/jpeg", "JPEG image"


class ClientDocumentQuerySet(models.QuerySet["ClientDocument"]):
    def for_client(self, client: Client) -> ClientDocumentQuerySet:
        """Every document of one client, newest first, for the therapist."""
        return (
            self.filter(client=client).select_related("created_by").order_by("-created_at", "-id")
        )

    def shown_to(self, client: Client) -> ClientDocumentQuerySet:
        """What her portal lists and lets her download: her own, and only the visible ones."""
        return self.filter(client=client, visible_to_client=True).order_by("-created_at", "-id")


class ClientDocument(models.Model):
    """One private file about a client: a signed consent PDF, a referral letter, an upload.

    The bytes live in the private storage, outside ``MEDIA_ROOT`` and
    anything the web server serves; ``storage_name`` is the file's name
    there, not a URL, so the only way to the bytes is the view that checks
    who asks and writes an audit line. ``sha256`` is the hash of the stored
    bytes, taken when they were written, so a file can be shown to be the
    one that was signed or issued. Clients are protected: a client with
    documents cannot be deleted by accident.
    """

    Kind = DocumentKind
    ContentType = DocumentContentType

    client = models.ForeignKey(
        "practice.Client", on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200, help_text="What she sees in her portal.")
    storage_name = models.CharField(max_length=255, unique=True, editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    size = models.PositiveIntegerField(help_text="In bytes.", editable=False)
    content_type = models.CharField(max_length=40, choices=ContentType.choices)
    visible_to_client = models.BooleanField(
        default=False, help_text="Listed in her portal, where she can download it."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ClientDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sha256__regex=SHA256_HEX_PATTERN),
                name="practice_clientdocument_sha256_is_hex",
            ),
            models.CheckConstraint(
                condition=models.Q(content_type__in=DocumentContentType.values),
                name="practice_clientdocument_content_type_allowed",
                violation_error_message="Only PDF, PNG and JPEG files can be kept.",
            ),
            models.CheckConstraint(
                condition=models.Q(size__gt=0),
                name="practice_clientdocument_not_empty",
                violation_error_message="The file is empty.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=DocumentKind.values),
                name="practice_clientdocument_kind_known",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-created_at"], name="practice_document_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (#{self.pk})"

    @property
    def is_pdf(self) -> bool:
        return self.content_type == DocumentContentType.PDF
