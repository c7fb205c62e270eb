"""Request budgets: how many requests of each kind of work an authenticated
caller may make per minute (docs/api.md "Authentication", README "Operations").

A token bucket in its GCRA form (generic cell rate algorithm): one number per
caller and kind, the "theoretical arrival time" ``tat``. A bucket of
``limit`` requests refills one request every ``60 s / limit``; a request is
allowed when, counting it, the bucket is not over-full. One key, one Redis
round trip per request (an ``EVALSHA`` of ``_GCRA``), Redis's own clock (so
API processes with skewed clocks agree). Without Redis the same arithmetic
runs in process memory (embedded mode: one process).

Redis failing is not the API failing: the check then falls back to this
process's memory (budgets become per process until Redis answers again), a
warning is logged at most once a minute and ``contacts_api_redis_errors_total``
counts it.
"""

import logging
import math
import time
from typing import Any

import attrs
import redis.exceptions
from redis.asyncio import Redis

from contacts_api.core import metrics
from contacts_api.core.settings import RateLimitSettings

__all__ = ["BudgetLimiter", "Decision", "MemoryBuckets", "RedisBuckets"]

log = logging.getLogger("contacts_api.budgets")

PERIOD_MS = 60_000

# KEYS[1]: the bucket; ARGV[1]: refill interval (ms), ARGV[2]: period (ms).
# Returns {allowed, remaining, reset_ms, retry_after_ms}.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - period
if now < allow_at then
  return {0, 0, math.ceil(tat - now), math.ceil(allow_at - now)}
end
local ttl = math.max(1, math.ceil(new_tat - now))
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', ttl)
return {1, math.floor((period - (new_tat - now)) / interval), ttl, 0}
"""


@attrs.frozen
class Decision:
    """One budget check: ``allowed``; ``limit`` per minute; ``remaining``
    requests now; ``reset_s`` until the budget is whole again; ``retry_after_s``
    when refused."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    retry_after_s: int = 0

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }


def _decision(raw: list[Any], limit: int) -> Decision:
    allowed, remaining, reset_ms, retry_ms = (int(v) for v in raw)
    return Decision(
        allowed=bool(allowed),
        limit=limit,
        remaining=max(0, min(limit, remaining)),
        reset_s=math.ceil(reset_ms / 1000),
        retry_after_s=max(1, math.ceil(retry_ms / 1000)) if not allowed else 0,
    )


class RedisBuckets:
    """The buckets in Redis, shared by every process of the deployment."""

    def __init__(self, client: Redis, prefix: str):
        self.prefix = prefix
        self.client = client
        self._script = client.register_script(_GCRA)
        self._args: dict[int, tuple[str, str]] = {}

    async def take(self, key: str, limit: int) -> Decision:
        args = self._args.get(limit)
        if args is None:
            args = self._args[limit] = (repr(PERIOD_MS / limit), str(PERIOD_MS))
        try:
            # EVALSHA straight away (redis-py's Script object costs more per call)
            raw = await self.client.evalsha(self._script.sha, 1, self.prefix + key, *args)
        except redis.exceptions.NoScriptError:  # Redis restarted or flushed its scripts
            raw = await self._script(keys=[self.prefix + key], args=list(args))
        return _decision(raw, limit)


class MemoryBuckets:
    """The same buckets in this process's memory (no Redis, or Redis failing)."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}

    async def take(self, key: str, limit: int) -> Decision:
        return self.take_now(key, limit, time.monotonic() * 1000)

    def take_now(self, key: str, limit: int, now: float) -> Decision:
        if len(self._tat) >= self.MAX_KEYS:  # forget full buckets: memory stays bounded
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        interval = PERIOD_MS / limit
        tat = max(self._tat.get(key, now), now)
        new_tat = tat + interval
        allow_at = new_tat - PERIOD_MS
        if now < allow_at:
            return _decision([0, 0, math.ceil(tat - now), math.ceil(allow_at - now)], limit)
        self._tat[key] = new_tat
        remaining = math.floor((PERIOD_MS - (new_tat - now)) / interval)
        return _decision([1, remaining, math.ceil(new_tat - now), 0], limit)


class BudgetLimiter:
    """Spends one request of a caller's budget of one kind (``reads``,
    ``writes``, ``transfers``)."""

    WARN_EVERY_S = 60.0

    def __init__(self, settings: RateLimitSettings, client: Redis | None, prefix: str):
        self.limits = {
            "reads": settings.reads_per_minute,
            "writes": settings.writes_per_minute,
            "transfers": settings.transfers_per_minute,
        }
        self.memory = MemoryBuckets()
        self.shared = RedisBuckets(client, f"{prefix}:budget:") if client is not None else None
        self._warned_at = -math.inf

    async def take(self, subject: str, kind: str) -> Decision:
        limit = max(1, self.limits[kind])
        key = f"{kind}:{subject}"
        if self.shared is not None:
            try:
                return await self.shared.take(key, limit)
            except (redis.exceptions.RedisError, OSError) as exc:
                self._redis_failed(exc)
        return await self.memory.take(key, limit)

    def _redis_failed(self, exc: BaseException) -> None:
        metrics.REDIS_ERRORS.labels(operation="budget").inc()
        now = time.monotonic()
        if now - self._warned_at >= self.WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "request budgets: Redis failed (%s); counting in this process until it answers",
                type(exc).__name__,
            )
