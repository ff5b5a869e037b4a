"""A fixed-window limit on sign-ups per IP address, kept in the shared cache."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from practice.client_address import client_ip


def signup_allowed(request: HttpRequest) -> bool:
    """Count this sign-up against the caller's address; False once over the limit."""
    limit = settings.NEWSLETTER_SIGNUP_RATE_LIMIT
    if limit <= 0:
        return True
    window = settings.NEWSLETTER_SIGNUP_RATE_WINDOW
    ip = client_ip(request) or "unknown"
    key = f"newsletter:signup:{ip}:{int(time.time()) // window}"
    # add() creates the counter with its expiry only if missing; incr() is
    # atomic in Redis, so concurrent requests each see their own count.
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:
        # The key expired between add() and incr().
        cache.add(key, 1, timeout=window + 5)
        count = 1
    return count <= limit
