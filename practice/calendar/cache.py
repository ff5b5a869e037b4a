"""The offered slots, computed once a minute per calendar state and shared.

Every public page view would otherwise recompute the whole horizon. The key
holds a *generation* that changes whenever the calendar does (any save or
delete of an appointment, hours, exception or kind setting, bumped at once and
again on commit so a reader racing the writer cannot pin old slots under the
new generation), plus the current minute, because the minimum notice moves
with the clock.

A stale entry can only show a time that is no longer free; it can never book
one: the booking form and the booking service check the slot afresh. Writes
that bypass ``save()`` (``bulk_create``, ``update``) call
:func:`calendar_changed` themselves.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from practice.identity import practice_profile
from practice.memo import Memo

from .models import Appointment, AppointmentKind, AvailabilityException, KindSettings, WeeklyHours

GENERATION_KEY = "calendar:generation"
TTL_SECONDS = 120
# A few recent entries per process spare even the cache round trip; the
# generation in the key makes an old one unreachable, never wrong.
_memo: Memo[object] = Memo(max_size=64, ttl=TTL_SECONDS)
# This process's copy of the generation, trusted for CALENDAR_CACHE_LOCAL_SECONDS:
# another process's change shows here that much later, which only delays what
# is displayed.
_local_generation: Memo[str] = Memo(max_size=1, ttl=1.0)


def calendar_generation() -> str:
    generation = _local_generation.get(GENERATION_KEY)
    if generation is not None:
        return generation
    shared = cache.get(GENERATION_KEY)
    if shared is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        shared = cache.get(GENERATION_KEY)
    if shared is None:
        # The cache cannot be reached: no process can tell the others of a
        # change, so nothing is shared; every page computes its slots afresh.
        return uuid.uuid4().hex
    _remember(str(shared))
    return str(shared)


def _remember(generation: str) -> None:
    _local_generation.set(GENERATION_KEY, generation, ttl=settings.CALENDAR_CACHE_LOCAL_SECONDS)


def _bump() -> None:
    generation = uuid.uuid4().hex
    cache.set(GENERATION_KEY, generation, None)
    _remember(generation)


def calendar_changed() -> None:
    """Make every cached slot list and page out of date (now and after commit)."""
    _bump()
    transaction.on_commit(_bump)


def _on_change(sender: object, **kwargs: object) -> None:
    calendar_changed()


def connect_signals() -> None:
    """Make every save or delete of the calendar's tables bump the generation.

    Called once by ``PracticeConfig.ready()``.
    """
    for model in (Appointment, WeeklyHours, AvailabilityException, KindSettings):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"calendar-cache-{model.__name__}")
        post_delete.connect(
            _on_change, sender=model, dispatch_uid=f"calendar-cache-del-{model.__name__}"
        )


def calendar_cache_key(*parts: object, now: datetime | None = None) -> str:
    minute = (now or timezone.now()).strftime("%Y%m%d%H%M")
    zone = practice_profile().time_zone
    return ":".join(["calendar", calendar_generation(), minute, zone, *map(str, parts)])


def memo_get(key: str) -> object | None:
    """The value under ``key`` from this process's memo, else from the shared cache."""
    hit = _memo.get(key)
    if hit is not None:
        return hit
    hit = cache.get(key)
    if hit is not None:
        _memo.set(key, hit)
    return hit


def memo_set(key: str, value: object) -> None:
    """Keep ``value`` under ``key`` in the shared cache and in this process."""
    cache.set(key, value, TTL_SECONDS)
    _memo.set(key, value)


def cached_slots(*, kind: str = AppointmentKind.CONSULTATION) -> list[datetime]:
    """``available_slots`` for the whole horizon, shared for this minute and calendar state."""
    from .slots import available_slots

    key = calendar_cache_key("slots", kind)
    slots = memo_get(key)
    if slots is None:
        slots = available_slots(kind=kind)
        memo_set(key, slots)
    return slots  # type: ignore[return-value]
