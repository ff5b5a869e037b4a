"""Time zones offered in the picker, the check of a zone name from outside, and
zones named as people say them ("Eastern time, New York").

The list and the names live in ``practice.calendar.zones`` (the client portal
asks for a zone too); this module re-exports them and adds the line that
shows a time in two zones.

Times themselves are written by the calendar's helpers
(``practice.calendar.display``: "Tue, Jan 5, 9:00 AM"), explicitly rather than
through Django's ``TIME_FORMAT``, so a line reads the same wherever it shows.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from practice.calendar.display import clock, short_day
from practice.calendar.zones import COMMON_ZONES, zone_choices, zone_label, zone_or_none

__all__ = ["COMMON_ZONES", "in_two_zones", "zone_choices", "zone_label", "zone_or_none"]


def in_two_zones(moment: datetime, *, ours: ZoneInfo, hers: ZoneInfo) -> str:
    """The time in the practice's zone and beside it in hers, named as people say them.

    'Tue, Jan 5, 9:00 AM (Pacific time, Los Angeles) — 12:00 PM for her
    (Eastern time, New York)'; her day is repeated only when it differs.
    """
    local, theirs = moment.astimezone(ours), moment.astimezone(hers)
    line = f"{short_day(local)}, {clock(local)} ({zone_label(ours.key)})"
    if ours.key == hers.key:
        return f"{line} — the same for her"
    her_time = clock(theirs)
    if theirs.date() != local.date():
        her_time = f"{short_day(theirs)}, {her_time}"
    return f"{line} — {her_time} for her ({zone_label(hers.key)})"
