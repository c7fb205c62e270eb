"""Rate limits of signing in and registering.

Failed logins (and wrong current passwords on a password change) are counted
in fixed windows of ``auth.login_window_s`` seconds, three ways:

- per (account, client address): from ``auth.login_max_failures`` failures
  on, that address is refused (429 with ``Retry-After``) for that account:
  a guesser is stopped quickly, and nobody else is;
- per client address, on every account: from
  ``auth.login_address_max_failures`` (much higher: an office or a NAT
  shares one address) on, that address is refused for every account;
- per account, from every address: from ``auth.login_delay_after_failures``
  on, each login of the account waits 1, 2, 4 ... seconds (at most
  ``auth.login_max_delay_s``) before the password is checked. It slows a
  guesser spread over many addresses, but is never a refusal: nobody can
  keep someone else (an administrator) locked out.

A correct password from an address with no failures of its own is thus
never refused because other addresses failed, on this account or others.
A successful login clears its (account, address) counter only.

The account is the user id when the email names a user (so every spelling
the database resolves to that user, ``ADMİN@x`` included, counts as one),
else the email normalized once (NFKC, then case-folded) and hashed.
The client address is ``core.requests.client_address`` (``X-Forwarded-For``
only from ``server.trusted_proxies``).

Registrations are counted per client address:
``auth.registration_max_per_address`` per ``auth.registration_window_s``.

Counters live in Redis when it is configured (shared by every API process),
under ``<redis.key_prefix>:auth:...``; in process memory otherwise.
"""

import hashlib
import math
import time
import unicodedata

import attrs
from redis.asyncio import Redis

from contacts_api.core import metrics
from contacts_api.core.errors import RateLimited
from contacts_api.core.settings import AuthSettings

__all__ = [
    "LoginLimiter",
    "MemoryCounters",
    "RedisCounters",
    "RegistrationLimiter",
    "account_key",
    "normalize_email",
]

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


Counters = RedisCounters | MemoryCounters


def normalize_email(email: str) -> str:
    """One spelling per address for comparisons: NFKC, then case-folded."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def account_key(user_id: str | None, email: str) -> str:
    """The limiter's name for an account: its user id, else the hashed normalized
    email (no email is stored in the counters)."""
    if user_id is not None:
        return f"user:{user_id}"
    return "email:" + hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]


def _address(address: str | None) -> str:
    return address or "unknown"


@attrs.frozen
class LoginLimits:
    pair_max: int
    address_max: int
    delay_after: int
    max_delay_s: float
    window_s: int

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> "LoginLimits":
        return cls(
            pair_max=auth.login_max_failures,
            address_max=auth.login_address_max_failures,
            delay_after=auth.login_delay_after_failures,
            max_delay_s=auth.login_max_delay_s,
            window_s=auth.login_window_s,
        )


class LoginLimiter:
    def __init__(self, counters: Counters, limits: LoginLimits):
        self.counters = counters
        self.limits = limits

    @staticmethod
    def _pair(account: str, address: str | None) -> str:
        return f"auth:login:pair:{account}:{_address(address)}"

    @staticmethod
    def _address(address: str | None) -> str:
        return f"auth:login:address:{_address(address)}"

    @staticmethod
    def _account(account: str) -> str:
        return f"auth:login:account:{account}"

    async def delay_s(self, account: str) -> float:
        """How long to wait before checking a password of ``account``: 0 until
        ``delay_after`` failures, then 1, 2, 4 ... seconds, capped."""
        ((failures, _),) = await self.counters.read([self._account(account)])
        excess = failures - self.limits.delay_after
        if excess < 0:
            return 0.0
        return min(self.limits.max_delay_s, 2.0 ** min(excess, 30))

    async def check(self, account: str, address: str | None) -> None:
        """429 ``RATE_LIMITED`` when this address is spent for this account, or
        for every account."""
        (pair, pair_left), (anywhere, anywhere_left) = await self.counters.read(
            [self._pair(account, address), self._address(address)]
        )
        blocked = [
            left
            for count, limit, left in (
                (pair, self.limits.pair_max, pair_left),
                (anywhere, self.limits.address_max, anywhere_left),
            )
            if count >= limit
        ]
        if blocked:
            metrics.RATE_LIMITED.labels(reason="login").inc()
            raise RateLimited(
                math.ceil(max(blocked)), "Too many failed login attempts; try again later."
            )

    async def failed(self, account: str, address: str | None) -> None:
        metrics.LOGIN_FAILURES.inc()
        keys = [self._pair(account, address), self._address(address), self._account(account)]
        await self.counters.add(keys, self.limits.window_s)

    async def succeeded(self, account: str, address: str | None) -> None:
        await self.counters.clear(self._pair(account, address))


class RegistrationLimiter:
    def __init__(self, counters: Counters, max_per_address: int, window_s: int):
        self.counters = counters
        self.max_per_address = max_per_address
        self.window_s = window_s

    async def attempt(self, address: str | None) -> None:
        """Count one registration from ``address``; 429 once it has used its share."""
        key = f"auth:register:address:{_address(address)}"
        ((count, left),) = await self.counters.read([key])
        if count >= self.max_per_address:
            metrics.RATE_LIMITED.labels(reason="registration").inc()
            raise RateLimited(
                math.ceil(left), "Too many registrations from this address; try again later."
            )
        await self.counters.add([key], self.window_s)
