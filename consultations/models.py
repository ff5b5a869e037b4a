"""Free consultations: who booked which calendar appointment, and her short intake.

The time itself lives in the practice calendar (``practice.Appointment``); a
consultation points at its current appointment, which a reschedule replaces.
Its status is the appointment's status.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from practice.encryption import EncryptedTextField
from practice.identity import practice_profile
from practice.models import Appointment, Client, MeetingMode
from practice.transitions import Transitions

# What she tells about herself to be reached, and the intake: health answers
# that stay in the database and the admin, never in mail, logs or calendars.
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "preferred_contact",
    "time_zone",
)
INTAKE_FIELDS = (
    "reason",
    "perinatal",
    "perinatal_months",
    "children_ages",
    "prior_experience",
    "medications",
    "heard_from",
    "consent_to_contact",
)


class ConsultationQuerySet(models.QuerySet["Consultation"]):
    def with_appointment(self) -> ConsultationQuerySet:
        return self.select_related("appointment", "client")

    def upcoming(self) -> ConsultationQuerySet:
        return self.filter(
            appointment__status=Appointment.Status.BOOKED, appointment__start__gt=timezone.now()
        )


class Consultation(models.Model):
    """One booking of the free consultation and her short intake.

    A consultation has no state field of its own: its status is its current
    appointment's (booked, cancelled, completed, no-show), changed only by
    ``consultation_transition`` through the calendar's
    ``appointment_transition``, whose ``Appointment.TRANSITIONS`` map is the
    one that applies.
    """

    # A free consultation is a call: by phone or video, never in person.
    MEETING_MODES = (MeetingMode.PHONE, MeetingMode.VIDEO)

    class ContactMethod(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"

    class Perinatal(models.TextChoices):
        PREGNANT = "pregnant", "Pregnant"
        POSTPARTUM = "postpartum", "Postpartum"
        NEITHER = "neither", "Neither"

    class PriorExperience(models.TextChoices):
        NONE = "none", "None"
        MICRO_DOSING = "micro", "Micro-dosing"
        PSYCHEDELIC = "psychedelic", "A psychedelic experience"
        BOTH = "both", "Both"
        PREFER_NOT = "prefer_not", "I'd rather talk about it on the call"

    class HeardFrom(models.TextChoices):
        SEARCH = "search", "A web search"
        FRIEND = "friend", "A friend or family member"
        PROVIDER = "provider", "My doctor, midwife or another provider"
        SOCIAL = "social", "Social media"
        ARTICLE = "article", "An article or the newsletter"
        OTHER = "other", "Somewhere else"

    class CancelledBy(models.TextChoices):
        CLIENT = "client", "Her, from the manage link"
        PRACTICE = "practice", "The practice"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="consultation"
    )
    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consultations",
        help_text="Her client record, once she became a client.",
    )
    # The idempotency key of the booking form: a double click or a resubmitted
    # form carries the same one and books once.
    submission_id = models.UUIDField(unique=True, editable=False)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=30, blank=True)
    preferred_contact = models.CharField(
        max_length=10, choices=ContactMethod.choices, default=ContactMethod.EMAIL
    )
    time_zone = models.CharField(max_length=64, help_text="Her time zone when she booked.")
    # The intake: health information, audited in the admin, never in email.
    reason = EncryptedTextField("what brings her", max_length=2000)
    perinatal = models.CharField("pregnant or postpartum", max_length=12, choices=Perinatal.choices)
    perinatal_months = models.PositiveSmallIntegerField("months", null=True, blank=True)
    children_ages = models.CharField("ages of children", max_length=100, blank=True)
    prior_experience = models.CharField(max_length=12, choices=PriorExperience.choices)
    medications = EncryptedTextField("current medications", max_length=1000, blank=True)
    heard_from = models.CharField(
        "how she heard of the practice", max_length=10, choices=HeardFrom.choices, blank=True
    )
    consent_to_contact = models.BooleanField(default=False)
    # The therapist's own notes from the call: clinical, like the intake
    # (audited in the admin, never in email, logs or calendars).
    call_notes = EncryptedTextField(
        "call notes",
        blank=True,
        help_text="Private: only you see these. Not sent anywhere.",
    )
    # Bumped on every reschedule or cancellation, so calendar apps replace the
    # event they were sent before (ICS SEQUENCE).
    sequence = models.PositiveIntegerField(default=0, editable=False)
    cancelled_by = models.CharField(
        max_length=10, choices=CancelledBy.choices, blank=True, editable=False
    )
    cancel_reason = EncryptedTextField(
        blank=True, editable=False, help_text="Her reason, when she cancelled."
    )
    cancel_note = models.TextField(
        blank=True, editable=False, help_text="The practice's note to her, when it cancelled."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(consent_to_contact=True),
                name="consultations_consultation_consent_given",
            ),
            models.CheckConstraint(
                condition=models.Q(perinatal__in=["pregnant", "postpartum"])
                | models.Q(perinatal_months__isnull=True),
                name="consultations_consultation_months_only_when_perinatal",
            ),
        ]
        indexes = [models.Index(Lower("email"), name="consultations_email_idx")]

    def __str__(self) -> str:
        return f"{self.full_name} (consultation #{self.pk})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def start(self) -> datetime:
        return self.appointment.start

    @property
    def local_start(self) -> datetime:
        return self.appointment.start.astimezone(self.zone)

    @property
    def meeting_mode(self) -> str:
        """Phone or video: kept on the calendar appointment, as for every kind."""
        return self.appointment.mode

    def get_meeting_mode_display(self) -> str:
        return self.appointment.get_mode_display()

    @property
    def video_link(self) -> str:
        """The link she joins a video call by: the appointment's own, else the practice's room.

        Empty for a phone call, and while neither link is set.
        """
        return self.appointment.video_link(practice_profile().video_room_url)

    @property
    def status(self) -> str:
        return self.appointment.status

    @property
    def is_upcoming(self) -> bool:
        return self.appointment.is_upcoming


class ManageLink(models.Model):
    """One private link to a consultation's manage page; only its hash is kept.

    Each email that carries a link gets a new one, so the raw token never
    needs to be stored or passed through the task queue.
    """

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="manage_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"Manage link #{self.pk} for consultation #{self.consultation_id}"


class WaitlistEntry(Transitions):
    """Someone who found no time that fits and asked to hear when one opens.

    An entry is told about one opening (``waitlist_notify_opening``) and then
    waits no more; joining again with the same email starts a new entry, so
    each entry keeps the record of the opening it was told about. The
    therapist may move an entry by hand in the admin (back to waiting, or
    removed), within ``TRANSITIONS``.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        NOTIFIED = "notified", "Told about an opening"
        REMOVED = "removed", "Removed"

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.WAITING: (Status.NOTIFIED, Status.REMOVED),
        Status.NOTIFIED: (Status.WAITING, Status.REMOVED),
        Status.REMOVED: (Status.WAITING,),
    }

    name = models.CharField(max_length=200)
    email = models.EmailField()
    preferred_times = models.CharField(
        max_length=300, blank=True, help_text="In her words, e.g. weekday evenings."
    )
    time_zone = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(status="waiting"),
                name="consultations_waitlistentry_one_waiting_per_email",
                violation_error_message="This address is already waiting for a time.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (waitlist #{self.pk})"
