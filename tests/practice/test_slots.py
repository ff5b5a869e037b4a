"""The slot engine: weekly hours, exceptions, notice, horizon, buffers, caps, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practice.calendar.slots import available_slots, is_offered
from practice.models import (
    Appointment,
    AppointmentKind,
    AvailabilityException,
    KindSettings,
    WeeklyHours,
)
from tests.factories import AppointmentFactory, WeeklyHoursFactory
from tests.support.calendar import FIRST_SLOT, NOW

LA = ZoneInfo("America/Los_Angeles")
TUESDAY = date(2027, 1, 5)

pytestmark = pytest.mark.django_db


def la(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LA).astimezone(UTC)


def tuesday_times(slots: list[datetime]) -> list[str]:
    return [f"{s.astimezone(LA):%H:%M}" for s in slots if s.astimezone(LA).date() == TUESDAY]


def test_slots_fill_the_weekly_window_every_half_hour(weekly_hours, frozen_now):
    slots = available_slots(first_day=TUESDAY, last_day=TUESDAY)

    assert tuesday_times(slots) == [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)]
    assert slots[0] == FIRST_SLOT
    assert all(s.tzinfo == UTC for s in slots)


def test_slots_respect_several_windows_a_day(practice_profile, frozen_now):
    WeeklyHoursFactory(weekday=1, start_time=time(9), end_time=time(10))
    WeeklyHoursFactory(weekday=1, start_time=time(14), end_time=time(15, 10))

    slots = available_slots(first_day=TUESDAY, last_day=TUESDAY)

    assert tuesday_times(slots) == ["09:00", "09:30", "14:00", "14:30"]


def test_slots_leave_out_the_minimum_notice(weekly_hours):
    with time_machine.travel(la(date(2027, 1, 4), 10, 15), tick=False):
        slots = available_slots(first_day=TUESDAY, last_day=TUESDAY)

    assert tuesday_times(slots)[0] == "10:30"


def test_slots_leave_out_past_days_and_today(weekly_hours, frozen_now):
    slots = available_slots(first_day=date(2027, 1, 1), last_day=TUESDAY)

    assert slots[0] == FIRST_SLOT


def test_slots_stop_at_the_horizon(weekly_hours, frozen_now):
    slots = available_slots()

    assert max(slots) <= NOW + timedelta(days=60)
    assert max(slots) > NOW + timedelta(days=55)


def test_slots_skip_whole_days_off_and_time_off(weekly_hours, frozen_now):
    AvailabilityException.objects.create(
        effect=AvailabilityException.Effect.TIME_OFF,
        first_day=date(2027, 1, 6),
        last_day=date(2027, 1, 7),
    )
    AvailabilityException.objects.create(
        effect=AvailabilityException.Effect.TIME_OFF,
        first_day=TUESDAY,
        last_day=TUESDAY,
        start_time=time(10),
        end_time=time(16),
    )

    slots = available_slots(first_day=TUESDAY, last_day=date(2027, 1, 8))
    days = sorted({s.astimezone(LA).date() for s in slots})

    assert days == [TUESDAY, date(2027, 1, 8)]
    assert tuesday_times(slots) == ["09:00", "09:30", "16:00", "16:30"]


def test_slots_add_extra_hours_on_a_saturday(weekly_hours, frozen_now):
    saturday = date(2027, 1, 9)
    AvailabilityException.objects.create(
        effect=AvailabilityException.Effect.EXTRA_HOURS,
        first_day=saturday,
        last_day=saturday,
        start_time=time(10),
        end_time=time(11),
    )

    slots = available_slots(first_day=saturday, last_day=date(2027, 1, 10))

    assert [f"{s.astimezone(LA):%a %H:%M}" for s in slots] == ["Sat 10:00", "Sat 10:30"]


def test_slots_keep_clear_of_appointments_and_their_buffers(weekly_hours, frozen_now):
    # A medicine session 13:00–16:30 with 30-minute buffers occupies 12:30–17:00.
    AppointmentFactory(
        kind=AppointmentKind.DOSING,
        start=la(TUESDAY, 13),
        end=la(TUESDAY, 16, 30),
        occupied_start=la(TUESDAY, 12, 30),
        occupied_end=la(TUESDAY, 17),
    )
    # A consultation at 10:00 occupies 10:00–10:30 (10 minutes after).
    AppointmentFactory(start=la(TUESDAY, 10))

    slots = available_slots(first_day=TUESDAY, last_day=TUESDAY)

    assert tuesday_times(slots) == [
        "09:00", "09:30", "10:30", "11:00", "11:30", "12:00",
    ]  # fmt: skip


def test_a_cancelled_appointment_gives_its_time_back(weekly_hours, frozen_now):
    AppointmentFactory(start=FIRST_SLOT, status=Appointment.Status.CANCELLED)

    assert available_slots(first_day=TUESDAY, last_day=TUESDAY)[0] == FIRST_SLOT


def test_a_buffer_before_pushes_the_next_start(weekly_hours, frozen_now):
    KindSettings.objects.create(
        kind=AppointmentKind.CONSULTATION,
        duration_minutes=20,
        buffer_before_minutes=15,
        buffer_after_minutes=0,
        slot_step_minutes=30,
    )
    AppointmentFactory(start=la(TUESDAY, 9), occupied_end=la(TUESDAY, 9, 20))

    assert tuesday_times(available_slots(first_day=TUESDAY, last_day=TUESDAY))[:2] == [
        "10:00",
        "10:30",
    ]


def test_the_daily_cap_closes_a_full_day(weekly_hours, frozen_now):
    KindSettings.objects.create(kind=AppointmentKind.CONSULTATION, daily_cap=2)
    AppointmentFactory(start=la(TUESDAY, 9))
    AppointmentFactory(start=la(TUESDAY, 15))

    slots = available_slots(first_day=TUESDAY, last_day=date(2027, 1, 6))

    assert {s.astimezone(LA).date() for s in slots} == {date(2027, 1, 6)}


def test_other_kinds_do_not_count_towards_the_cap(weekly_hours, frozen_now):
    KindSettings.objects.create(kind=AppointmentKind.CONSULTATION, daily_cap=1)
    AppointmentFactory(kind=AppointmentKind.BLOCKED, start=la(TUESDAY, 9))

    assert tuesday_times(available_slots(first_day=TUESDAY, last_day=TUESDAY)) != []


def test_is_offered_accepts_slots_only(weekly_hours, frozen_now):
    def offered(start: datetime) -> bool:
        return is_offered(kind=AppointmentKind.CONSULTATION, start=start)

    assert offered(FIRST_SLOT)
    assert not offered(FIRST_SLOT + timedelta(minutes=10))
    assert not offered(NOW + timedelta(hours=2))
    assert not offered(NOW + timedelta(days=70))


def test_is_offered_treats_her_own_appointment_as_free_when_she_moves_it(weekly_hours, frozen_now):
    own = AppointmentFactory(start=FIRST_SLOT)

    assert not is_offered(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT)
    assert is_offered(
        kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT, ignore_appointment_id=own.pk
    )


# --- Daylight saving: every start hour, both changes, three zones ----------

TRANSITIONS = {
    # 2027: spring forward, fall back.
    "America/Los_Angeles": [date(2027, 3, 14), date(2027, 11, 7)],
    "Europe/London": [date(2027, 3, 28), date(2027, 10, 31)],
    "Australia/Sydney": [date(2027, 4, 4), date(2027, 10, 3)],
}


def _oracle(day: date, zone: ZoneInfo, start: int, end: int, step: int, duration: int) -> list:
    """The expected slots, found by scanning every minute of real time around ``day``.

    A wall time counts once (its first occurrence), must lie on the step grid
    of the window, and the appointment must end by the first instant whose wall
    time reaches the window's end.
    """
    scan_from = datetime.combine(day, time(), tzinfo=UTC) - timedelta(hours=16)
    minutes = [scan_from + timedelta(minutes=i) for i in range(72 * 60)]
    on_day = [(m, m.astimezone(zone)) for m in minutes if m.astimezone(zone).date() == day]
    end_at = next(
        (m for m, local in on_day if local.hour * 60 + local.minute >= end),
        next(m for m in minutes if m.astimezone(zone).date() > day),
    )
    expected = []
    for instant, local in on_day:
        wall = local.hour * 60 + local.minute
        if local.fold or not start <= wall < end or (wall - start) % step:
            continue
        if instant + timedelta(minutes=duration) <= end_at:
            expected.append(instant)
    return expected


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    zone_name=st.sampled_from(sorted(TRANSITIONS)),
    change=st.integers(min_value=0, max_value=1),
    day_offset=st.integers(min_value=-1, max_value=1),
    start_hour=st.integers(min_value=0, max_value=23),
    length_minutes=st.integers(min_value=30, max_value=8 * 60),
    step=st.sampled_from([15, 30, 60]),
    duration=st.sampled_from([20, 50]),
)
def test_slots_are_right_across_daylight_saving_changes(
    practice_profile, zone_name, change, day_offset, start_hour, length_minutes, step, duration
):
    zone = ZoneInfo(zone_name)
    day = TRANSITIONS[zone_name][change] + timedelta(days=day_offset)
    start = start_hour * 60
    end = min(start + length_minutes, 23 * 60 + 59)
    WeeklyHours.objects.all().delete()
    WeeklyHours.objects.create(
        weekday=day.weekday(),
        start_time=time(start // 60, start % 60),
        end_time=time(end // 60, end % 60),
    )
    rules = KindSettings(
        kind=AppointmentKind.CONSULTATION,
        duration_minutes=duration,
        slot_step_minutes=step,
        minimum_notice_hours=0,
        horizon_days=3650,
    )

    slots = available_slots(
        first_day=day, last_day=day, now=datetime(2026, 1, 1, tzinfo=UTC), zone=zone, settings=rules
    )

    walls = [s.astimezone(zone).replace(tzinfo=None) for s in slots]
    assert len(set(slots)) == len(slots), "an instant offered twice"
    assert len(set(walls)) == len(walls), "a wall time offered twice (repeated hour)"
    assert slots == sorted(slots)
    for slot, wall in zip(slots, walls, strict=True):
        # Each one exists on the wall clock (none in the skipped hour).
        assert wall.replace(tzinfo=zone).astimezone(UTC) == slot
        assert wall.date() == day
    assert slots == _oracle(day, zone, start, end, step, duration)
