"""The core of the practice: people, the practice's identity, the audit log.

The shared calendar (appointments and availability, ``practice/calendar/``),
the outbox of outgoing email (``practice/outbox/``) and what is kept beside a
client's record (portal invitations and private documents,
``practice/client_records.py``) are models of this app too, kept in modules
of their own and imported here, where Django looks for an app's models; see
``../shared/DESIGN.md``.
"""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from practice.calendar.models import (
    KIND_DEFAULTS,
    Appointment,
    AppointmentKind,
    AvailabilityException,
    CalendarFeedToken,
    KindSettings,
    MeetingMode,
    Weekday,
    WeeklyHours,
)
from practice.client_records import (
    ClientDocument,
    ClientInvitation,
    USState,
    validate_time_zone,
)
from practice.outbox.models import OutboxMessage

__all__ = [
    "KIND_DEFAULTS",
    "Appointment",
    "AppointmentKind",
    "AuditCheckResult",
    "AuditEvent",
    "AvailabilityException",
    "CalendarFeedToken",
    "Client",
    "ClientDocument",
    "ClientInvitation",
    "KindSettings",
    "MeetingMode",
    "OutboxMessage",
    "PracticeProfile",
    "USState",
    "User",
    "WeeklyHours",
    "Weekday",
    "WorkerHeartbeat",
]


def _default_time_zone() -> str:
    return settings.PRACTICE_TIME_ZONE


class EmailUserManager(UserManager["User"]):
    """A user manager for accounts whose login is the email address."""

    use_in_migrations = True

    def _create_user_by_email(
        self, email: str, password: str | None, **extra_fields: object
    ) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: object
    ) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user_by_email(email, password, **extra_fields)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: object
    ) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user_by_email(email, password, **extra_fields)


class User(AbstractUser):
    """A login: the therapist, an assistant, or a client using the portal."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)

    objects = EmailUserManager()  # type: ignore[misc]

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="practice_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class PracticeProfile(models.Model):
    """Who the practice is. One row, edited by the therapist in the admin.

    Every page, email and PDF reads the practice's name, address and contact
    details from here (through ``practice.identity.practice_profile``).
    """

    practice_name = models.CharField(max_length=120)
    tagline = models.CharField(max_length=200, blank=True)
    therapist_name = models.CharField(max_length=120)
    therapist_credentials = models.CharField(
        max_length=120, blank=True, help_text="For example: LMFT, PhD."
    )
    therapist_bio = models.TextField(blank=True, help_text="Shown on the About page.")
    license_number = models.CharField(max_length=60, blank=True)
    licensed_states = models.JSONField(
        default=list,
        blank=True,
        help_text="The states (two-letter codes) where the therapist may see clients by video.",
    )
    npi = models.CharField(
        "NPI", max_length=10, blank=True, help_text="National Provider Identifier, for superbills."
    )
    tax_id = models.CharField(
        "tax ID (EIN)", max_length=20, blank=True, help_text="Printed on superbills."
    )
    street_address = models.CharField(max_length=200)
    locality = models.CharField("city", max_length=100)
    region = models.CharField("state", max_length=100)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=60, default="United States")
    phone = models.CharField(max_length=30)
    email = models.EmailField()
    time_zone = models.CharField(
        max_length=64,
        default=_default_time_zone,
        help_text="The zone the practice's hours are kept in, e.g. America/Los_Angeles.",
    )
    video_room_url = models.URLField(
        "video room link",
        blank=True,
        help_text=(
            "Your standing video room (Zoom, Doxy.me, ...). Sent to everyone who chose a "
            "video call; an appointment may give its own link instead."
        ),
    )
    terms_version = models.CharField(
        max_length=20,
        default="2026-01",
        help_text="Change this whenever the Terms page changes; consents record it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "practice profile"
        verbose_name_plural = "practice profile"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="practice_profile_singleton"),
        ]

    def __str__(self) -> str:
        return self.practice_name

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except Exception as exc:
            raise ValidationError({"time_zone": "Not a known time zone."}) from exc

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def therapist_display(self) -> str:
        if self.therapist_credentials:
            return f"{self.therapist_name}, {self.therapist_credentials}"
        return self.therapist_name

    @property
    def postal_address_lines(self) -> list[str]:
        return [
            self.street_address,
            f"{self.locality}, {self.region} {self.postal_code}",
        ]

    @property
    def postal_address(self) -> str:
        return ", ".join(self.postal_address_lines)


class ClientQuerySet(models.QuerySet["Client"]):
    def active(self) -> ClientQuerySet:
        return self.filter(status=Client.Status.ACTIVE)


class Client(models.Model):
    """A person the practice treats. Her clinical record hangs off this row."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISCHARGED = "discharged", "Discharged"
        ARCHIVED = "archived", "Archived"

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField()
    phone = models.CharField(max_length=30, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="client",
        help_text="Her login to the client portal, once invited.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    # Where she is and who stands by her: edited by her on /portal/profile/
    # and asked again by the intake, so they are kept once, here.
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="Her time zone, e.g. America/Chicago; empty means the practice's zone.",
    )
    state = models.CharField(
        "state she lives in",
        max_length=2,
        blank=True,
        choices=USState.choices,
        help_text="The therapist is licensed in some states only.",
    )
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = models.CharField(max_length=30, blank=True)
    emergency_contact_relationship = models.CharField(
        max_length=60, blank=True, help_text="For example: partner, sister, friend."
    )
    support_person_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="Someone she chooses to be told about her care, if she wishes.",
    )
    support_person_phone = models.CharField(max_length=30, blank=True)
    support_person_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # Who to call and who supports her: edited on her portal profile, asked in
    # the intake, shown on her admin page; spelled once for all three.
    PEOPLE_FIELDS = (
        "emergency_contact_name",
        "emergency_contact_phone",
        "emergency_contact_relationship",
        "support_person_name",
        "support_person_phone",
        "support_person_email",
    )

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="practice_client_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(state="") | models.Q(state__in=USState.values),
                name="practice_client_state_known",
                violation_error_message="Choose a US state or territory.",
            ),
        ]
        indexes = [models.Index(fields=["status", "last_name"], name="practice_client_status_idx")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.first_name

    def zone_or(self, practice_zone: ZoneInfo) -> ZoneInfo:
        """Her time zone, or the practice's when she has not given one."""
        return ZoneInfo(self.time_zone) if self.time_zone else practice_zone


class AuditEvent(models.Model):
    """Who looked at or changed which record, when, from where, and whether she was let in.

    ``object_repr`` is a name and id only: the log must never copy clinical
    content. Who and whose are plain ids, not foreign keys, so deleting a user
    or purging a client never needs to touch a row. Rows are written only by
    ``practice.services.audit_record``, unsealed; the sealer
    (``practice.audit.audit_seal``) then gives each its ``chain_position`` and
    the SHA-256 of its content and of the previous row's hash, so
    ``practice.audit.audit_verify`` names the first altered, removed or
    reordered row. On PostgreSQL a trigger refuses every DELETE and every
    UPDATE but that one sealing of an unsealed row
    (``0010_audit_sealed_off_the_request``).
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        EXPORT = "export", "Exported"
        CREATE = "create", "Created"
        CHANGE = "change", "Changed"
        DELETE = "delete", "Deleted"
        DOWNLOAD = "download", "Downloaded"

    class Outcome(models.TextChoices):
        OK = "ok", "Allowed"
        REFUSED = "refused", "Refused"
        NOT_FOUND = "not_found", "Not found"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    client_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.OK)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True, db_index=True)
    # The row's place in the chain, given when it is sealed (empty until then):
    # rows commit out of id order, so the chain has an order of its own.
    chain_position = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="practice_audit_object_idx"),
            # What the sealer looks for on every run: the few rows not sealed yet.
            models.Index(
                fields=["id"],
                condition=models.Q(chain_position__isnull=True),
                name="practice_audit_unsealed_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["chain_position"], name="practice_auditevent_chain_position_unique"
            ),
            # Sealed whole or not at all: a position always comes with a hash,
            # and a row waiting for the sealer carries neither hash.
            models.CheckConstraint(
                condition=models.Q(chain_position__isnull=True, hash="", prev_hash="")
                | (models.Q(chain_position__isnull=False) & ~models.Q(hash="")),
                name="practice_auditevent_sealed_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"user #{self.actor_id} {self.action} {self.object_type} #{self.object_id}"


class AuditCheckResult(models.Model):
    """One run of the audit trail's check (``practice.audit.audit_check_record``), for Today."""

    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    ok = models.BooleanField()
    checked = models.PositiveIntegerField()
    first_bad_id = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"audit check at {self.checked_at:%Y-%m-%d %H:%M}: {'ok' if self.ok else 'broken'}"


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker proved it runs tasks; read by /healthz."""

    hostname = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
