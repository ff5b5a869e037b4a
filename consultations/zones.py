"""Time zones offered in the picker, and the check of a zone name from outside."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

# The zones most visitors are in, shown first in the selector; any other valid
# zone (detected by the browser) is added to the list when it is in use.
COMMON_ZONES = [
    ("America/Los_Angeles", "Pacific time, Los Angeles"),
    ("America/Denver", "Mountain time, Denver"),
    ("America/Phoenix", "Arizona time, Phoenix"),
    ("America/Chicago", "Central time, Chicago"),
    ("America/New_York", "Eastern time, New York"),
    ("America/Anchorage", "Alaska time, Anchorage"),
    ("Pacific/Honolulu", "Hawaii time, Honolulu"),
    ("America/Halifax", "Atlantic time, Halifax"),
    ("America/Mexico_City", "Mexico City"),
    ("Europe/London", "London"),
    ("Europe/Paris", "Central Europe, Paris"),
    ("Asia/Kolkata", "India, Kolkata"),
    ("Asia/Tokyo", "Japan, Tokyo"),
    ("Australia/Sydney", "Sydney"),
    ("UTC", "UTC"),
]


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_or_none(name: str | None) -> ZoneInfo | None:
    if not name or name not in _known():
        return None
    return ZoneInfo(name)


def zone_label(name: str) -> str:
    """What a person calls the zone: "Eastern time, New York", not "America/New_York"."""
    return dict(COMMON_ZONES).get(name) or name.replace("_", " ")


def zone_choices(current: str) -> list[tuple[str, str]]:
    if current in dict(COMMON_ZONES):
        return COMMON_ZONES
    return [(current, zone_label(current)), *COMMON_ZONES]
