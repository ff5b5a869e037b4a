"""The slot picker: offered times grouped by her local day, a few days a page.

The booking and the manage pages show the same picker. Times are grouped by
the day they fall on in *her* time zone (a 9 p.m. slot in California is the
next morning in London), and a page holds ``DAYS_PER_PAGE`` days, with links
to the earlier and later pages so the picker works with JavaScript off.
``static/js/consultation.js`` groups the same way in the browser and shows
every day of the horizon as a chip, one day's times at a time.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from django.http import HttpRequest

from practice.calendar.cache import cached_slots
from practice.calendar.slots import available_slots
from practice.models import AppointmentKind

from .zones import zone_choices, zone_label

# About a working week: without JavaScript the form must not sit below weeks
# of times. "Later dates" pages on.
DAYS_PER_PAGE = 5


def grouped_by_day(
    slots: list[datetime], zone: ZoneInfo, first: date | None
) -> tuple[list[dict[str, object]], date | None, date | None]:
    """Slots grouped by her local day, a page of ``DAYS_PER_PAGE`` days from ``first``.

    Returns the page's groups and the first day of the earlier and of the
    later page (``None`` when there is none).
    """
    days: OrderedDict[date, list[datetime]] = OrderedDict()
    for slot in slots:
        local = slot.astimezone(zone)
        days.setdefault(local.date(), []).append(local)
    all_days = list(days)
    if not all_days:
        return [], None, None
    start_index = 0
    if first is not None:
        start_index = next((i for i, d in enumerate(all_days) if d >= first), len(all_days))
        start_index = min(start_index, max(len(all_days) - 1, 0))
    page = all_days[start_index : start_index + DAYS_PER_PAGE]
    later = (
        all_days[start_index + DAYS_PER_PAGE]
        if start_index + DAYS_PER_PAGE < len(all_days)
        else None
    )
    earlier = all_days[max(start_index - DAYS_PER_PAGE, 0)] if start_index > 0 else None
    groups = [
        {
            "day": day,
            "slots": [
                {"value": moment.astimezone(UTC).isoformat(), "local": moment}
                for moment in days[day]
            ],
        }
        for day in page
    ]
    return groups, earlier, later


def picker_context(
    request: HttpRequest,
    zone: ZoneInfo,
    *,
    ignore_appointment_id: int | None = None,
    fresh: bool = False,
) -> dict[str, object]:
    """The template context of the picker for the page of days asked for (``?from=``)."""
    # After a refused time the slots are computed afresh, never from the
    # shared cache, so she is not offered the same taken time again.
    if fresh or ignore_appointment_id is not None:
        slots = available_slots(
            kind=AppointmentKind.CONSULTATION, ignore_appointment_id=ignore_appointment_id
        )
    else:
        slots = cached_slots(kind=AppointmentKind.CONSULTATION)
    first = None
    if request.GET.get("from"):
        try:
            first = date.fromisoformat(request.GET["from"])
        except ValueError:
            first = None
    groups, earlier, later = grouped_by_day(slots, zone, first)
    return {
        "zone": zone.key,
        "zone_label": zone_label(zone.key),
        "zone_choices": zone_choices(zone.key),
        "groups": groups,
        "earlier": earlier,
        "later": later,
        "has_slots": bool(slots),
    }
