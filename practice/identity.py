"""The practice's identity, read once per process and cache generation.

Every page shows the practice's name and address, so the profile is cached:
in this process for a short while, and the cache generation is bumped on every
save so all processes pick up an edit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from .memo import Memo
from .models import PracticeProfile

_CACHE_KEY = "practice:profile"
# Another process's edit shows here at most this much later; the save itself
# drops the shared copy, so no process keeps an old profile for longer.
_local: Memo[PracticeProfile] = Memo(max_size=1, ttl=5.0)


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
    profile = _local.get(_CACHE_KEY)
    if profile is None:
        profile = _shared_profile()
        _local.set(_CACHE_KEY, profile)
    return profile


def _shared_profile() -> PracticeProfile:
    profile = cache.get(_CACHE_KEY)
    if profile is None:
        profile = PracticeProfile.objects.filter(pk=1).first() or _default_profile()
        cache.set(_CACHE_KEY, profile, 300)
    return profile  # type: ignore[no-any-return]


def practice_profile_forget() -> None:
    _local.clear()
    cache.delete(_CACHE_KEY)
