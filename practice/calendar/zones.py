"""Time zones as people say them ("Eastern time, New York"), and the list offered to choose from.

Shared by every page that asks for or shows a zone: the consultation booking
page (``consultations.zones``) and the client portal's profile.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

__all__ = ["COMMON_ZONES", "zone_choices", "zone_label", "zone_or_none"]

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
    """What a person calls the zone: "Eastern time, New York", not "America/New_York".

    A zone outside the common list is named by its place ("Europe/Berlin" is
    "Berlin", "America/Argentina/Buenos_Aires" is "Buenos Aires").
    """
    return dict(COMMON_ZONES).get(name) or name.rsplit("/", 1)[-1].replace("_", " ")


def zone_choices(current: str) -> list[tuple[str, str]]:
    """The common zones, with ``current`` first when it is not one of them."""
    if not current or current in dict(COMMON_ZONES):
        return COMMON_ZONES
    return [(current, zone_label(current)), *COMMON_ZONES]
