"""Short in-process memos: the one way a process keeps a value for a few seconds.

Some reads happen on every request and change rarely: the practice's profile,
the calendar's cache generation, a shared page. A :class:`Memo` keeps such a
value in this process for ``ttl`` seconds, so most requests skip even the
shared cache. What a memo holds can be that much out of date, which is why
each user of one says how stale it may be and why that is safe.

A memo is bounded (``max_size`` entries; the oldest goes first once it is
full, after anything expired) and safe to share between the threads of a
gthread worker: every read and write of its table holds a lock, and a
``compute`` runs outside it, so two threads that miss together may both
compute, and the later one's value is kept. Times are on the monotonic clock,
which a change of the wall clock does not move.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """At most ``max_size`` values, each kept for ``ttl`` seconds (or its own ``ttl``)."""

    def __init__(
        self, *, max_size: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_size < 1:
            raise ValueError("a memo holds at least one value")
        self.max_size = max_size
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: str) -> V | None:
        """The value kept under ``key``, or ``None`` when there is none or it has expired."""
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            if hit[0] <= now:
                del self._entries[key]
                return None
            return hit[1]

    def set(self, key: str, value: V, *, ttl: float | None = None) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds (the memo's own when not given).

        A ``ttl`` of zero or less keeps nothing: the next ``get`` asks again.
        """
        ttl = self.ttl if ttl is None else ttl
        now = self._clock()
        with self._lock:
            self._entries.pop(key, None)
            if ttl <= 0:
                return
            if len(self._entries) >= self.max_size:
                self._make_room(now)
            self._entries[key] = (now + ttl, value)

    def remember(
        self, key: str, compute: Callable[[], V | None], *, ttl: float | None = None
    ) -> V | None:
        """The value under ``key``, or ``compute()`` kept there.

        ``None`` is never kept: "nothing there yet" is asked again next time.
        """
        value = self.get(key)
        if value is not None:
            return value
        value = compute()
        if value is not None:
            self.set(key, value, ttl=ttl)
        return value

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _make_room(self, now: float) -> None:
        # Called with the lock held. Expired entries go first; if none has,
        # the oldest written goes (dicts keep the order of insertion).
        expired = [key for key, (expires, _) in self._entries.items() if expires <= now]
        for key in expired:
            del self._entries[key]
        while len(self._entries) >= self.max_size:
            del self._entries[next(iter(self._entries))]
