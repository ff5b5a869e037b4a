"""The practice's identity, read once per process and cache generation.

Every page shows the practice's name and address, so the profile is cached:
in this process for a short while, and the cache generation is bumped on every
save so all processes pick up an edit.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from .models import PracticeProfile

_CACHE_KEY = "practice:profile"
_LOCAL_TTL = 5.0
_local: dict[str, tuple[float, PracticeProfile]] = {}


def _default_profile() -> PracticeProfile:
    # Used until the therapist (or seed_demo) saves a real profile, so a fresh
    # database still renders pages.
    return PracticeProfile(
        pk=1,
        practice_name="Practice",
        therapist_name="Your therapist",
        street_address="",
        locality="",
        region="",
        postal_code="",
        phone="",
        email=settings.DEFAULT_FROM_EMAIL,
        time_zone=settings.PRACTICE_TIME_ZONE,
    )


def practice_profile() -> PracticeProfile:
    now = time.monotonic()
    hit = _local.get(_CACHE_KEY)
    if hit and hit[0] > now:
        return hit[1]
    profile = cache.get(_CACHE_KEY)
    if profile is None:
        profile = PracticeProfile.objects.filter(pk=1).first() or _default_profile()
        cache.set(_CACHE_KEY, profile, 300)
    _local[_CACHE_KEY] = (now + _LOCAL_TTL, profile)
    return profile


def practice_profile_forget() -> None:
    _local.clear()
    cache.delete(_CACHE_KEY)
