"""Password rules and hashing: bcrypt over a pre-hash, always off the event loop.

bcrypt reads at most 72 bytes (and bcrypt 5 raises ``ValueError`` beyond), so
every password is first reduced to ``base64(HMAC-SHA256(PEPPER, password))``:
44 ASCII bytes in which every byte of the password counts, with no NUL byte.

``PEPPER`` is a fixed, public constant, deliberately *not* the JWT secret:
rotating the JWT secret must not lock every user out. It gives the pre-hash
domain separation (these digests match no other system's unsalted SHA-256
of a password); bcrypt's salt and cost do the actual protection.
"""

import asyncio
import base64
import hashlib
import hmac
import os
import re
import unicodedata

import bcrypt

from contacts_api.core.errors import FieldError, field_error

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "PEPPER", "Passwords", "password_problem"]

PEPPER = b"contacts-api/auth_jwt/password-prehash/v1"
MIN_LENGTH, MAX_LENGTH = 8, 256
_COST = re.compile(r"^\$2[aby]?\$(\d\d)\$")


def password_problem(value: object, loc: tuple[str, ...]) -> FieldError | None:
    """docs/api.md: a password is a string of 8 to 256 characters."""
    if not isinstance(value, str):
        return field_error(loc, "must be a string", "type_error")
    if "\x00" in value:
        return field_error(loc, "must not contain NUL characters")
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        return field_error(loc, f"must be {MIN_LENGTH} to {MAX_LENGTH} characters long")
    return None


def _prehash(password: str) -> bytes:
    # NFC: the same password typed on different systems gives the same bytes.
    data = unicodedata.normalize("NFC", password).encode("utf-8")
    return base64.b64encode(hmac.new(PEPPER, data, hashlib.sha256).digest())


def hash_cost(stored: str) -> int | None:
    match = _COST.match(stored)
    return int(match.group(1)) if match else None


class Passwords:
    """Hash and check passwords with the configured bcrypt cost, in threads.

    At most ``workers`` (one per CPU) hash at a time per process: bcrypt is
    CPU-bound, so more would not go faster, and the event loop keeps a core.
    """

    def __init__(self, rounds: int, workers: int | None = None):
        self.rounds = rounds
        self.workers = workers or os.cpu_count() or 1
        self._slots = asyncio.Semaphore(self.workers)
        # Unknown emails are hashed with this salt so they cost what a check costs.
        self._dummy_salt = bcrypt.gensalt(rounds)

    def hash_sync(self, password: str) -> str:
        return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(self.rounds)).decode("ascii")

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hash_sync, password)

    def slot(self) -> asyncio.Semaphore:
        """``async with passwords.slot():`` one of the hashing slots, for a caller
        that must decide something just before and after ``check`` (rate limits)."""
        return self._slots

    async def check(self, password: str, stored: str | None) -> bool:
        """True when ``password`` matches ``stored``; with ``stored`` None (no
        such user), spend the same time and answer False. Call it inside ``slot()``."""
        return await asyncio.to_thread(self._verify_sync, password, stored)

    def _verify_sync(self, password: str, stored: str | None) -> bool:
        candidate = _prehash(password)
        if stored is None:
            bcrypt.hashpw(candidate, self._dummy_salt)
            return False
        try:
            return bcrypt.checkpw(candidate, stored.encode("ascii"))
        except ValueError:  # a corrupt stored hash never matches
            return False

    def needs_rehash(self, stored: str) -> bool:
        """The stored hash was made with another cost than the configured one."""
        return hash_cost(stored) != self.rounds
