"""A Redis cache that a page never waits on or fails with.

Redis holds only what can be lost: cached pages and slots, the practice
profile, rate-limit counters and the outbox's doorbell. So when it cannot be
reached, every cache call behaves as a miss (``get`` gives the default,
``touch`` stores nothing, ``incr`` raises ``ValueError`` as for a missing key)
and the caller computes the value from the database instead. ``add`` answers
"added" without storing: a lock or once-only flag kept in the cache is taken
by everyone, so nothing waits on it (allauth's login rate limit, the outbox's
doorbell, which then rings the broker directly).

The outage is logged once when it starts and once when it ends, not on every
call; and for ``CACHE_OUTAGE_BACKOFF_SECONDS`` after a failure this process
does not even try, so a page does not pay a connection timeout per lookup.
What this means for each user of the cache is decided where it is used:
rate limits fail open (``practice.ratelimit``), the doorbell falls back on
beat's sweep (``practice.outbox``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class _Outage:
    """Whether Redis is known to be down in this process, and since when it was logged."""

    def __init__(self) -> None:
        self.retry_at = 0.0
        self.lock = threading.Lock()

    def skipping(self) -> bool:
        return self.retry_at > time.monotonic()

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            first = self.retry_at == 0.0
            self.retry_at = time.monotonic() + settings.CACHE_OUTAGE_BACKOFF_SECONDS
        if first:
            logger.warning("cache unreachable (%s); serving without it", type(exc).__name__)

    def succeeded(self) -> None:
        if self.retry_at:
            with self.lock:
                self.retry_at = 0.0
            logger.info("cache reachable again")


outage = _Outage()


def _guarded(name: str, fallback: Callable[..., Any]) -> Callable[..., Any]:
    """``RedisCacheClient.<name>``, answering ``fallback(*args)`` while Redis is down."""
    parent = getattr(RedisCacheClient, name)

    def method(self: RedisCacheClient, *args: Any) -> Any:
        if outage.skipping():
            return fallback(*args)
        try:
            result = parent(self, *args)
        except RedisError as exc:
            outage.failed(exc)
            return fallback(*args)
        outage.succeeded()
        return result

    method.__name__ = name
    return method


def _missing(key: Any, delta: int) -> Any:
    raise ValueError("Key not found (the cache cannot be reached).")


class ResilientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django builds a new redis.Redis per call (its response-callback
        # tables alone cost a quarter of a millisecond of CPU); one per pool
        # is enough, since the client is thread-safe and holds no connection.
        django_client: Any = self  # django-stubs leaves out the client's private helpers
        index = django_client._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = django_client._get_connection_pool(write)
            client = self._clients[index] = django_client._client(connection_pool=pool)
        return client

    # "Added": whoever uses add() as a lock or a once-only flag goes ahead
    # uncoordinated rather than waiting for a lock nobody can hold (allauth's
    # rate limiter would answer every sign-in 429 after a second's wait).
    add = _guarded("add", lambda key, value, timeout: True)
    get = _guarded("get", lambda key, default: default)
    set = _guarded("set", lambda key, value, timeout: None)
    touch = _guarded("touch", lambda key, timeout: False)
    delete = _guarded("delete", lambda key: False)
    get_many = _guarded("get_many", lambda keys: {})
    has_key = _guarded("has_key", lambda key: False)
    incr = _guarded("incr", _missing)
    set_many = _guarded("set_many", lambda data, timeout: list(data))
    delete_many = _guarded("delete_many", lambda keys: None)
    clear = _guarded("clear", lambda: False)


class ResilientRedisCache(RedisCache):
    """Django's Redis cache, skipping Redis (logged once) while it cannot be reached."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
