"""The calendar's tables.

Every appointment, whatever its kind, is a row of :class:`Appointment` and
occupies ``[start - buffer_before, end + buffer_after)``. That occupied range is
stored on the row (``occupied_start``/``occupied_end``) so the database can
refuse two occupying rows that overlap: on PostgreSQL an exclusion constraint
(added by migration ``0003``, PostgreSQL only), on SQLite the booking service's
serialised check-and-insert.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.formats import date_format, time_format

from practice.transitions import Transitions

__all__ = [
    "KIND_DEFAULTS",
    "Appointment",
    "AppointmentKind",
    "AvailabilityException",
    "CalendarFeedToken",
    "KindSettings",
    "MeetingMode",
    "WeeklyHours",
    "Weekday",
]


class AppointmentKind(models.TextChoices):
    CONSULTATION = "consultation", "Free consultation"
    PREPARATION = "preparation", "Preparation session"
    DOSING = "dosing", "Medicine session"
    INTEGRATION = "integration", "Integration session"
    CHECK_IN = "check_in", "Check-in"
    BLOCKED = "blocked", "Blocked time"


class MeetingMode(models.TextChoices):
    """How the therapist and her client meet, for every kind of appointment."""

    PHONE = "phone", "Phone call"
    VIDEO = "video", "Video call"
    IN_PERSON = "in_person", "In person"


# Used when the therapist has not saved settings for a kind yet (a fresh
# database, or a test database flushed between tests).
KIND_DEFAULTS: dict[str, dict[str, int | None]] = {
    AppointmentKind.CONSULTATION: {
        "duration_minutes": 20,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 10,
        "slot_step_minutes": 30,
        "minimum_notice_hours": 24,
        "horizon_days": 60,
        "daily_cap": 6,
    },
    AppointmentKind.PREPARATION: {"duration_minutes": 50, "buffer_after_minutes": 10},
    AppointmentKind.DOSING: {
        "duration_minutes": 210,
        "buffer_before_minutes": 30,
        "buffer_after_minutes": 30,
    },
    AppointmentKind.INTEGRATION: {"duration_minutes": 50, "buffer_after_minutes": 10},
    AppointmentKind.CHECK_IN: {"duration_minutes": 20, "buffer_after_minutes": 10},
    AppointmentKind.BLOCKED: {"duration_minutes": 60},
}


class KindSettings(models.Model):
    """Length, buffers and booking rules for one kind of appointment."""

    kind = models.CharField(max_length=20, choices=AppointmentKind.choices, unique=True)
    duration_minutes = models.PositiveSmallIntegerField(default=50)
    buffer_before_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Time kept free before each appointment of this kind."
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Time kept free after each appointment of this kind."
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=30, help_text="Offered start times are this many minutes apart."
    )
    minimum_notice_hours = models.PositiveSmallIntegerField(
        default=24, help_text="How soon the earliest bookable time may be."
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=60, help_text="How far ahead people may book."
    )
    daily_cap = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="At most this many of this kind a day; empty for no cap."
    )

    class Meta:
        verbose_name = "appointment kind setting"
        verbose_name_plural = "appointment kind settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0, slot_step_minutes__gt=0),
                name="practice_kindsettings_positive_lengths",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.slot_step_minutes)

    @property
    def minimum_notice(self) -> timedelta:
        return timedelta(hours=self.minimum_notice_hours)

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WeeklyHours(models.Model):
    """One window of the therapist's regular week, in the practice's time zone."""

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        verbose_name = "weekly hours"
        verbose_name_plural = "weekly hours"
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="practice_weeklyhours_end_after_start",
                violation_error_message="The window must end after it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6),
                name="practice_weeklyhours_weekday_valid",
            ),
        ]

    def __str__(self) -> str:
        # "Monday 9:00 AM–5:00 PM", in the admin's formats (practice/formats).
        start, end = time_format(self.start_time), time_format(self.end_time)
        return f"{self.get_weekday_display()} {start}–{end}"


class AvailabilityException(models.Model):
    """A dated change to the regular week: extra hours, time off or whole days off."""

    class Effect(models.TextChoices):
        EXTRA_HOURS = "extra", "Extra hours"
        TIME_OFF = "off", "Time off"

    effect = models.CharField(max_length=10, choices=Effect.choices, default=Effect.TIME_OFF)
    first_day = models.DateField()
    last_day = models.DateField(help_text="The same as the first day for a single day.")
    start_time = models.TimeField(
        null=True, blank=True, help_text="Leave both times empty for whole days off."
    )
    end_time = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="For you only, e.g. Holiday.")

    class Meta:
        ordering = ["first_day", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="practice_availabilityexception_days_in_order",
                violation_error_message="The last day cannot be before the first day.",
            ),
            models.CheckConstraint(
                condition=models.Q(start_time__isnull=True, end_time__isnull=True)
                | models.Q(
                    start_time__isnull=False,
                    end_time__isnull=False,
                    end_time__gt=models.F("start_time"),
                ),
                name="practice_availabilityexception_times_paired",
                violation_error_message=(
                    "Give both a start and an end time (end after start), or neither."
                ),
            ),
            models.CheckConstraint(
                condition=~models.Q(effect="extra", start_time__isnull=True),
                name="practice_availabilityexception_extra_has_times",
                violation_error_message="Extra hours need a start and an end time.",
            ),
        ]

    def __str__(self) -> str:
        days = (
            date_format(self.first_day)
            if self.first_day == self.last_day
            else f"{date_format(self.first_day)} – {date_format(self.last_day)}"
        )
        hours = (
            f" {time_format(self.start_time)}–{time_format(self.end_time)}"
            if self.start_time and self.end_time
            else ""
        )
        return f"{self.get_effect_display()} {days}{hours}"


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    def occupying(self) -> AppointmentQuerySet:
        return self.filter(status__in=Appointment.OCCUPYING_STATUSES)

    def overlapping(self, start: datetime, end: datetime) -> AppointmentQuerySet:
        return self.filter(occupied_start__lt=end, occupied_end__gt=start)


class Appointment(Transitions):
    """One booked block of the therapist's time, of any kind. Datetimes are UTC."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"

    # Only a cancelled appointment gives its time back; a completed or missed
    # one keeps it, so the history of the calendar stays consistent.
    OCCUPYING_STATUSES = (Status.BOOKED, Status.COMPLETED, Status.NO_SHOW)
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.BOOKED: (Status.CANCELLED, Status.COMPLETED, Status.NO_SHOW),
        Status.CANCELLED: (),
        Status.COMPLETED: (),
        Status.NO_SHOW: (),
    }

    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    start = models.DateTimeField()
    end = models.DateTimeField()
    occupied_start = models.DateTimeField(editable=False)
    occupied_end = models.DateTimeField(editable=False)
    client = models.ForeignKey(
        "practice.Client",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    title = models.CharField(
        max_length=200, blank=True, help_text="Shown in the admin only, e.g. Dentist."
    )
    mode = models.CharField(
        "how we meet",
        max_length=10,
        choices=MeetingMode.choices,
        blank=True,
        help_text="Empty for blocked time.",
    )
    video_url = models.URLField(
        "video link",
        blank=True,
        help_text="Only for this appointment; leave empty to use the practice's video room.",
    )
    rescheduled_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rescheduled_from",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")),
                name="practice_appointment_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    occupied_start__lte=models.F("start"), occupied_end__gte=models.F("end")
                ),
                name="practice_appointment_occupied_covers_times",
            ),
        ]
        indexes = [
            # The slot engine reads the occupied ranges that end after the
            # start of its window; this keeps that read flat however long the
            # calendar's history grows.
            models.Index(
                fields=["occupied_end", "occupied_start"],
                name="practice_appointment_occ_idx",
            ),
            models.Index(fields=["kind", "start"], name="practice_appointment_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} at {self.start:%Y-%m-%d %H:%M} UTC"

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def is_occupying(self) -> bool:
        return self.status in self.OCCUPYING_STATUSES

    @property
    def is_upcoming(self) -> bool:
        return self.status == self.Status.BOOKED and self.start > timezone.now()

    def video_link(self, room_url: str) -> str:
        """The link she joins by: this appointment's own, else the practice's room.

        Empty unless the appointment is a video call.
        """
        if self.mode != MeetingMode.VIDEO:
            return ""
        return self.video_url or room_url


class CalendarFeedTokenQuerySet(models.QuerySet["CalendarFeedToken"]):
    def active(self) -> CalendarFeedTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class CalendarFeedToken(models.Model):
    """The secret in the therapist's calendar subscription link (``/calendar/feed/<token>.ics``).

    Only the token's SHA-256 is stored: the link is shown once, when it is
    made, and a copy of the database cannot be turned into a working link.
    At most one token is active; making a new one revokes the old one
    (``practice/calendar/feed.py``).
    """

    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CalendarFeedTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "calendar subscription link"
        verbose_name_plural = "calendar subscription link"
        ordering = ["-created_at"]
        constraints = [
            # A constant as the indexed value: every active row has the same
            # key, so a second active row is refused (PostgreSQL and SQLite).
            models.UniqueConstraint(
                models.Value(True),
                condition=models.Q(revoked_at__isnull=True),
                name="practice_calendarfeedtoken_one_active",
                violation_error_message="Only one calendar subscription link can be active.",
            ),
        ]

    def __str__(self) -> str:
        state = "active" if self.revoked_at is None else "revoked"
        return f"Calendar subscription link of {self.created_at:%Y-%m-%d %H:%M} UTC ({state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
