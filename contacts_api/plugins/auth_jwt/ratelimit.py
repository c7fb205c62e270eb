"""Login rate limiting, per account and per client address.

Failed logins are counted in two fixed windows of ``auth.login_window_s``,
one per account and one per client address (``request.remote``); once either
holds ``auth.login_max_failures`` failures, attempts are answered 429 with
``Retry-After`` (the seconds until that window ends). A successful login
clears its account's counter, not the address's. Only failures count, so
many users signing in at once from one address (an office, a proxy) are fine.

The check and the count happen while a password-hashing slot is held (at
most one per CPU at a time, ``AuthService._limited_check``), so a burst of
parallel guesses overshoots the limit by fewer than that many per process.

Counters live in Redis when it is configured (shared by every API process),
under ``<redis.key_prefix>:auth:login:account:<sha256(email)>`` and
``...:auth:login:address:<ip>``; in process memory otherwise.
"""

import hashlib
import math
import time

from redis.asyncio import Redis

from contacts_api.core.errors import RateLimited

__all__ = ["LoginLimiter", "MemoryCounters", "RedisCounters"]

# KEYS: counters to increment; ARGV[1]: window (s). The window starts with the first failure.
_FAIL = """
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then redis.call('EXPIRE', key, ARGV[1]) end
end
"""


class RedisCounters:
    def __init__(self, redis: Redis, prefix: str):
        self.redis = redis
        self.prefix = prefix
        self._fail = redis.register_script(_FAIL)

    async def read(self, keys: list[str]) -> list[tuple[int, float]]:
        """(count, seconds left) per key; (0, 0) for an absent one."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(self.prefix + key)
                pipe.pttl(self.prefix + key)
            raw = await pipe.execute()
        return [(int(raw[i] or 0), max(0, raw[i + 1]) / 1000) for i in range(0, len(raw), 2)]

    async def add(self, keys: list[str], window_s: int) -> None:
        await self._fail(keys=[self.prefix + key for key in keys], args=[window_s])

    async def clear(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)


class MemoryCounters:
    """The same counters in this process (no Redis configured)."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._data: dict[str, list[float]] = {}  # key -> [count, expires_at (monotonic)]

    def _live(self, key: str, now: float) -> list[float] | None:
        entry = self._data.get(key)
        if entry is not None and entry[1] <= now:
            del self._data[key]
            return None
        return entry

    async def read(self, keys: list[str]) -> list[tuple[int, float]]:
        now = time.monotonic()
        entries = [self._live(key, now) for key in keys]
        return [(0, 0.0) if e is None else (int(e[0]), e[1] - now) for e in entries]

    async def add(self, keys: list[str], window_s: int) -> None:
        now = time.monotonic()
        if len(self._data) >= self.MAX_KEYS:  # forget expired windows, keep memory bounded
            self._data = {k: v for k, v in self._data.items() if v[1] > now}
        for key in keys:
            entry = self._live(key, now) or self._data.setdefault(key, [0, now + window_s])
            entry[0] += 1

    async def clear(self, key: str) -> None:
        self._data.pop(key, None)


class LoginLimiter:
    def __init__(self, counters: RedisCounters | MemoryCounters, max_failures: int, window_s: int):
        self.counters = counters
        self.max_failures = max_failures
        self.window_s = window_s

    @staticmethod
    def keys(email: str, address: str | None) -> list[str]:
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return [f"auth:login:account:{account}", f"auth:login:address:{address or 'unknown'}"]

    async def check(self, email: str, address: str | None) -> None:
        """429 ``RATE_LIMITED`` when the account or the address is spent."""
        counts = await self.counters.read(self.keys(email, address))
        blocked = [left for count, left in counts if count >= self.max_failures]
        if blocked:
            raise RateLimited(
                math.ceil(max(blocked)), "Too many failed login attempts; try again later."
            )

    async def failed(self, email: str, address: str | None) -> None:
        await self.counters.add(self.keys(email, address), self.window_s)

    async def succeeded(self, email: str, address: str | None) -> None:
        await self.counters.clear(self.keys(email, address)[0])
