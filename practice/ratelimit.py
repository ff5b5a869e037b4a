"""One limit on how often one address may use a public form, for every form.

Each form names a *scope* (``"consultation_book"``, ``"newsletter_signup"``);
``settings.RATE_LIMITS[scope]`` is ``(limit, window_seconds)``, and a limit of
0 turns the scope off (benchmarks only). The address is
:func:`practice.client_address.client_ip`, so the proxy settings that govern
allauth's limits govern these too.

The count is a fixed window kept in the shared cache, one key per scope,
address and window: ``cache.add(key, 0, window)`` creates it with its expiry
only when missing, and ``cache.incr(key)`` is atomic in Redis, so requests
arriving together each get their own number and the limit is exact across
every process. (The file cache of the quick start has one process in mind;
its ``incr`` is not atomic across processes, which only makes the limit
approximate there.)

When the cache cannot count, the limit **fails open**: the request is
allowed. A limit guards against floods, not against a person, and the people
these forms serve must not be turned away because Redis is down: a mother
booking her free consultation, a reader signing up. What still stands while
the cache is away: the honeypot, the database's constraints (one booking per
slot, one waiting entry per email), the booking's idempotency key and the
newsletter's double opt-in, so a flood in that time can fill slots or send
confirmation emails, but cannot book a slot twice or subscribe anyone. The
outage is logged once when it begins and once when counting resumes. A cache
backend that swallows its errors (``add`` answers False and ``incr`` raises
``ValueError`` for every key) is read the same way.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .client_address import client_ip

logger = logging.getLogger(__name__)

_counting_failed: list[bool] = [False]


def rate_limited(request: HttpRequest, scope: str) -> bool:
    """Count this request against its address in ``scope``; True once over the limit.

    Side effect: one more try counted for the address in this window. An
    unknown ``scope`` raises ``KeyError`` (a typo must not turn a limit off).
    """
    limit, window = settings.RATE_LIMITS[scope]
    if limit <= 0:
        return False
    ip = client_ip(request) or "unknown"
    key = f"ratelimit:{scope}:{ip}:{int(time.time()) // window}"
    count = _count(key, window)
    if count is None:
        if not _counting_failed[0]:
            logger.warning("rate limits cannot count (cache unreachable); allowing every request")
            _counting_failed[0] = True
        return False
    if _counting_failed[0]:
        logger.info("rate limits count again")
        _counting_failed[0] = False
    return count > limit


def _count(key: str, window: int) -> int | None:
    """This request's number in its window, or ``None`` when the cache cannot count."""
    try:
        cache.add(key, 0, window)
        try:
            return int(cache.incr(key))
        except ValueError:
            # Missing right after add(): the window's key expired in between
            # (start a new count), or the cache swallows an outage and says
            # "missing" for every key (then add() fails too, and so does incr()).
            if cache.add(key, 1, window):
                return 1
            return int(cache.incr(key))
    except Exception:  # any cache or connection error means "cannot count": fail open
        return None
