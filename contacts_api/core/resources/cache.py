"""A small key-value cache with TTL: Redis when configured, else in-process.

Values are JSON-serializable. Keys are namespaced by the caller
(``"apollo:analysis:<hash>"``). The in-process cache is per process: fine for
caching, never for state other processes must see.
"""

import json
import time
from collections import OrderedDict
from typing import Any, Protocol

from redis.asyncio import Redis

__all__ = ["Cache", "MemoryCache", "RedisCache"]


class Cache(Protocol):
    async def get(self, key: str) -> Any | None:
        """The stored value, or None when absent or expired."""

    async def set(self, key: str, value: Any, ttl_s: int | None = None) -> None:
        """Store a value for ``ttl_s`` seconds (the configured default when None)."""

    async def delete(self, key: str) -> None:
        """Forget a key."""

    async def incr(self, key: str, ttl_s: int | None = None) -> int:
        """Atomically add one to an integer key (created at 0) and return it."""


class MemoryCache:
    """In-process LRU with per-entry expiry."""

    def __init__(self, default_ttl_s: int, max_entries: int):
        self.default_ttl_s = default_ttl_s
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    async def get(self, key: str) -> Any | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at < time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    async def set(self, key: str, value: Any, ttl_s: int | None = None) -> None:
        ttl = self.default_ttl_s if ttl_s is None else ttl_s
        # Round-trip through JSON so callers see the same types as with Redis.
        self._data[key] = (time.monotonic() + ttl, json.loads(json.dumps(value)))
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, ttl_s: int | None = None) -> int:
        value = int(await self.get(key) or 0) + 1
        await self.set(key, value, ttl_s)
        return value


class RedisCache:
    """Cache entries as JSON strings in Redis, under a key prefix."""

    def __init__(self, redis: Redis, default_ttl_s: int, prefix: str):
        self.redis = redis
        self.default_ttl_s = default_ttl_s
        self.prefix = prefix

    async def get(self, key: str) -> Any | None:
        raw = await self.redis.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, ttl_s: int | None = None) -> None:
        ttl = self.default_ttl_s if ttl_s is None else ttl_s
        await self.redis.set(self.prefix + key, json.dumps(value), ex=max(1, ttl))

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def incr(self, key: str, ttl_s: int | None = None) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self.prefix + key)
            pipe.expire(self.prefix + key, max(1, self.default_ttl_s if ttl_s is None else ttl_s))
            value, _ = await pipe.execute()
        return int(value)
