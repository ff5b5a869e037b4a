"""Cache backends for the cache being away, chosen through ``settings.CACHES``."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import BaseCache


class UnreachableCache(BaseCache):
    """A cache whose server is down: every call raises, as the Redis client does."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)

    def _down(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    add = get = set = touch = delete = incr = has_key = clear = _down


class SilentlyDownCache(BaseCache):
    """A cache that hides its outage: nothing is there and nothing can be stored.

    ``get`` answers the default, ``add`` False, ``incr`` ``ValueError`` (the
    key is missing), as a backend that swallows connection errors does.
    """

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)

    def add(self, key: Any, value: Any, timeout: Any = None, version: Any = None) -> bool:
        return False

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return default

    def set(self, key: Any, value: Any, timeout: Any = None, version: Any = None) -> None:
        return None

    def touch(self, key: Any, timeout: Any = None, version: Any = None) -> bool:
        return False

    def delete(self, key: Any, version: Any = None) -> bool:
        return False

    def clear(self) -> None:
        return None


def forget_this_tests_cache() -> None:
    """Empty the cache as this test sees it, never the Redis database the broker shares.

    Every test has a key prefix of its own (``tests/conftest.py``), so its part
    of a shared Redis is the keys under that prefix; ``cache.clear()`` would
    flush the whole database, queued jobs included.
    """
    from django.core.cache import cache
    from django.core.cache.backends.redis import RedisCache

    if not isinstance(cache, RedisCache):
        cache.clear()
        return
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    for key in client.scan_iter(match=f"{cache.key_prefix}:*"):
        client.delete(key)
