"""The slot engine: which start times are free for a kind of appointment.

Offered starts are laid out in wall-clock time in the practice's zone (every
``slot_step`` from the start of each open window), because that is how the
therapist thinks of her hours. Each wall time is then turned into an instant:
a wall time that does not exist (the hour skipped in spring) is dropped, and a
wall time that happens twice (the hour repeated in autumn) is offered once, at
its first occurrence. Everything returned is an aware datetime in UTC.

Reads are constant in number (kind settings, weekly hours, exceptions, the
occupied ranges inside the window) and the occupied ranges are searched by
bisection, so the cost does not grow with the history of the calendar.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from practice.identity import practice_profile

from .models import (
    KIND_DEFAULTS,
    Appointment,
    AppointmentKind,
    AvailabilityException,
    KindSettings,
    WeeklyHours,
)

Minutes = tuple[int, int]  # [start, end) in minutes after local midnight


def kind_settings(kind: str) -> KindSettings:
    """The saved settings for ``kind``, or its defaults when none are saved yet."""
    saved = KindSettings.objects.filter(kind=kind).first()
    return saved if saved is not None else KindSettings(kind=kind, **KIND_DEFAULTS[kind])


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _merge(windows: Iterable[Minutes]) -> list[Minutes]:
    merged: list[Minutes] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(windows: list[Minutes], holes: Iterable[Minutes]) -> list[Minutes]:
    result = windows
    for hole_start, hole_end in holes:
        next_result: list[Minutes] = []
        for start, end in result:
            if hole_end <= start or hole_start >= end:
                next_result.append((start, end))
                continue
            if start < hole_start:
                next_result.append((start, hole_start))
            if hole_end < end:
                next_result.append((hole_end, end))
        result = next_result
    return result


@dataclass
class Availability:
    """The therapist's open hours, loaded once and asked per day."""

    weekly: dict[int, list[Minutes]] = field(default_factory=dict)
    extra: dict[date, list[Minutes]] = field(default_factory=dict)
    off: dict[date, list[Minutes]] = field(default_factory=dict)
    days_off: set[date] = field(default_factory=set)

    @classmethod
    def load(cls, first_day: date, last_day: date) -> Availability:
        availability = cls()
        for weekday, start, end in WeeklyHours.objects.values_list(
            "weekday", "start_time", "end_time"
        ):
            availability.weekly.setdefault(weekday, []).append((_minutes(start), _minutes(end)))
        exceptions = AvailabilityException.objects.filter(
            first_day__lte=last_day, last_day__gte=first_day
        ).values_list("effect", "first_day", "last_day", "start_time", "end_time")
        for effect, exc_first, exc_last, exc_start, exc_end in exceptions:
            day = max(exc_first, first_day)
            while day <= min(exc_last, last_day):
                if exc_start is None or exc_end is None:
                    availability.days_off.add(day)
                elif effect == AvailabilityException.Effect.EXTRA_HOURS:
                    availability.extra.setdefault(day, []).append(
                        (_minutes(exc_start), _minutes(exc_end))
                    )
                else:
                    availability.off.setdefault(day, []).append(
                        (_minutes(exc_start), _minutes(exc_end))
                    )
                day += timedelta(days=1)
        return availability

    def windows(self, day: date) -> list[Minutes]:
        if day in self.days_off:
            return []
        windows = _merge([*self.weekly.get(day.weekday(), []), *self.extra.get(day, [])])
        return _subtract(windows, self.off.get(day, []))


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall time, or None when that wall time does not exist."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    aware = wall.replace(tzinfo=zone)  # fold=0: the first of a repeated wall time
    instant = aware.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None  # skipped by a spring-forward change
    return instant


def _boundary(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The first instant whose wall time on ``day`` is at or after ``minute``.

    Usually the wall time itself (its first occurrence); for a wall time in a
    skipped hour, the moment the clock jumps past it.
    """
    for later in range(minute, minute + 24 * 60):
        instant = _instant(day, later, zone)
        if instant is not None:
            return instant
    raise ValueError(f"no wall time after {minute} minutes on {day} in {zone.key}")


@dataclass
class Occupied:
    """Occupied ranges sorted by start, with the running latest end for bisection."""

    starts: list[datetime]
    latest_ends: list[datetime]

    @classmethod
    def from_ranges(cls, ranges: Sequence[tuple[datetime, datetime]]) -> Occupied:
        starts: list[datetime] = []
        latest_ends: list[datetime] = []
        for start, end in sorted(ranges):
            starts.append(start)
            latest_ends.append(max(end, latest_ends[-1]) if latest_ends else end)
        return cls(starts, latest_ends)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        # The ranges that begin before ``end`` are a prefix; one of them meets
        # [start, end) exactly when the latest end in that prefix is after
        # ``start``. The running maximum keeps this right even for ranges that
        # overlap each other (blocked time entered over a booking on SQLite).
        index = bisect.bisect_left(self.starts, end)
        return index > 0 and self.latest_ends[index - 1] > start


def available_slots(
    *,
    kind: str = AppointmentKind.CONSULTATION,
    first_day: date | None = None,
    last_day: date | None = None,
    now: datetime | None = None,
    ignore_appointment_id: int | None = None,
    zone: ZoneInfo | None = None,
    settings: KindSettings | None = None,
) -> list[datetime]:
    """Free start times for ``kind`` between two practice-local days, as UTC datetimes.

    Without days, the whole bookable horizon from today. Starts inside the
    minimum notice, past the horizon, on time off, over the daily cap, or
    whose occupied range meets another appointment's are left out.
    ``ignore_appointment_id`` treats that appointment as free (a reschedule).
    """
    now = now or timezone.now()
    zone = zone or practice_profile().zone
    settings = settings or kind_settings(kind)
    earliest = now + settings.minimum_notice
    latest = now + settings.horizon
    first_day = max(first_day or earliest.astimezone(zone).date(), earliest.astimezone(zone).date())
    last_day = min(last_day or latest.astimezone(zone).date(), latest.astimezone(zone).date())
    if last_day < first_day:
        return []

    availability = Availability.load(first_day, last_day)
    # Local days can be 23 to 25 hours long, and buffers reach outside the day.
    window_start = _boundary(first_day, 0, zone) - timedelta(days=1)
    window_end = _boundary(last_day, 0, zone) + timedelta(days=2)
    appointments = Appointment.objects.occupying().filter(
        occupied_end__gt=window_start, occupied_start__lt=window_end
    )
    if ignore_appointment_id is not None:
        appointments = appointments.exclude(pk=ignore_appointment_id)
    rows = appointments.values_list("occupied_start", "occupied_end", "kind", "start")
    ranges: list[tuple[datetime, datetime]] = []
    per_day: dict[date, int] = defaultdict(int)
    for occupied_start, occupied_end, row_kind, start in rows:
        ranges.append((occupied_start, occupied_end))
        if row_kind == kind:
            per_day[start.astimezone(zone).date()] += 1
    occupied = Occupied.from_ranges(ranges)

    step = settings.slot_step_minutes
    duration = settings.duration
    buffer_before = settings.buffer_before
    reach_after = duration + settings.buffer_after
    slots: list[datetime] = []
    day = first_day
    while day <= last_day:
        if settings.daily_cap is not None and per_day[day] >= settings.daily_cap:
            day += timedelta(days=1)
            continue
        midnight = datetime.combine(day, time())
        offset = zone.utcoffset(midnight) or timedelta(0)
        # On the days without a clock change (all but two a year) a wall time
        # is one subtraction away from UTC; only change days take the careful
        # path that drops skipped wall times.
        steady = offset == zone.utcoffset(midnight + timedelta(hours=23, minutes=59))
        midnight_utc = (midnight - offset).replace(tzinfo=UTC)
        for window_first, window_last in availability.windows(day):
            window_end_at = _boundary(day, window_last, zone)
            for minute in range(window_first, window_last, step):
                if steady:
                    start = midnight_utc + timedelta(minutes=minute)
                else:
                    start = _instant(day, minute, zone)  # type: ignore[assignment]
                    if start is None:
                        continue
                if start < earliest or start > latest:
                    continue
                if start + duration > window_end_at:
                    break
                if occupied.overlaps(start - buffer_before, start + reach_after):
                    continue
                slots.append(start)
        day += timedelta(days=1)
    return slots


def is_offered(
    *,
    kind: str,
    start: datetime,
    now: datetime | None = None,
    ignore_appointment_id: int | None = None,
    settings: KindSettings | None = None,
) -> bool:
    """Whether ``start`` is one of the slots of ``kind`` offered now (only its day is computed).

    The one answer to "may this time be booked" for the booking form, the
    booking and rescheduling services and the waitlist: whatever
    :func:`available_slots` would offer, with ``ignore_appointment_id``
    treated as free (her own appointment, when she moves it). ``settings``
    may pass a kind's row the caller has locked.
    """
    zone = practice_profile().zone
    day = start.astimezone(zone).date()
    return start.astimezone(UTC) in available_slots(
        kind=kind,
        first_day=day,
        last_day=day,
        now=now,
        ignore_appointment_id=ignore_appointment_id,
        zone=zone,
        settings=settings,
    )
