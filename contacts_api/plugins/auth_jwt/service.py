"""The rules of signing in: registration, login, refresh rotation, logout,
password change, and who a bearer token belongs to.

One ``AuthService`` per process (``auth_service(resources)``), made on first
use and kept in ``resources.extra["auth_jwt"]``: it holds the in-process
rate-limit counters when there is no Redis. (It is not a ``register_resources``
spec because it opens nothing: it only wraps the core's pools.)
"""

import asyncio
import copy
import datetime as dt
import time
from typing import Any

from contacts_api.core.auth import Actor
from contacts_api.core.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidToken,
    ValidationError,
)
from contacts_api.core.resources import Resources
from contacts_api.plugins.auth_jwt.accounts import Accounts
from contacts_api.plugins.auth_jwt.avatars import Avatars
from contacts_api.plugins.auth_jwt.passwords import Passwords
from contacts_api.plugins.auth_jwt.ratelimit import (
    LoginLimiter,
    LoginLimits,
    MemoryCounters,
    RedisCounters,
    RegistrationLimiter,
    account_key,
)
from contacts_api.plugins.auth_jwt.repository import UserRepository
from contacts_api.plugins.auth_jwt.sessions import Rotation, SessionRepository
from contacts_api.plugins.auth_jwt.tokens import ACCESS, REFRESH, Claims, Tokens, jti_hash

__all__ = ["RESOURCE_NAME", "AuthService", "auth_service"]

RESOURCE_NAME = "auth_jwt"

_REFUSED = {
    Rotation.REUSED: "This refresh token was already used: every token of its sign-in is "
    "now revoked. Sign in again.",
    Rotation.REVOKED: "This refresh token has been revoked.",
    Rotation.UNKNOWN: "This refresh token is not known.",
    Rotation.INACTIVE: "The user is deactivated.",
}


class AuthService:
    def __init__(self, resources: Resources):
        auth = resources.settings.auth
        self.auth = auth
        self.users = UserRepository(resources.db)
        self.sessions = SessionRepository(resources.db)
        self.accounts = Accounts(self.users, Avatars(resources.storage, resources.settings))
        self.passwords = Passwords(auth.bcrypt_rounds)
        self.tokens = Tokens(auth)
        counters = (
            MemoryCounters()
            if resources.redis is None
            else RedisCounters(resources.redis, resources.settings.redis.key_prefix + ":")
        )
        self.limiter = LoginLimiter(counters, LoginLimits.from_settings(auth))
        self.registrations = RegistrationLimiter(
            counters, auth.registration_max_per_address, auth.registration_window_s
        )

    async def actor(self, claims: Claims) -> Actor:
        """The user of a valid access token, checked against its row on every
        request: a deactivated or deleted user is refused at once, and so is a
        token issued before the user's last logout, password change or
        refresh-token reuse (``users.tokens_valid_after``)."""
        row = await self.users.actor_row(claims.user_id)
        if row is None or not row["is_active"]:
            raise InvalidToken("The token's user is unknown or deactivated.")
        valid_after = row["tokens_valid_after"]
        if valid_after is not None and claims.issued_at <= valid_after.timestamp():
            raise InvalidToken("The token was revoked by a sign-out or a password change.")
        return Actor(
            id=str(row["id"]),
            kind="user",
            role=row["role"],
            can_write_v1=False,
            attributes={"email": row["email"], "jti": claims.jti},
        )

    def for_request(self, origin: str) -> "AuthService":
        """This service answering one request: links to uploaded avatars are made on
        ``origin`` (the API's own, unless ``server.base_url`` is set). Shares the
        rate-limit counters and everything else with this service."""
        bound = copy.copy(self)
        bound.accounts = Accounts(self.users, self.accounts.avatars.for_origin(origin))
        return bound

    def check_registration_open(self) -> None:
        if not self.auth.registration_open:
            raise Forbidden("Registration is closed on this server.")

    async def register(
        self, email: str, password: str, profile: dict[str, Any], address: str | None
    ) -> dict:
        """A new user, signed in. Throttled per client address; a taken email is
        refused before the (deliberately slow) password hashing."""
        self.check_registration_open()
        await self.registrations.attempt(address)
        if await self.users.email_taken(email):
            raise Conflict("A user with this email already exists.")
        password_hash = await self.passwords.hash(password)
        user_id = await self.users.create(email, password_hash, "user", profile, signed_in=True)
        return await self._signed_in(user_id)

    async def login(self, email: str, password: str, address: str | None) -> dict:
        """Same answer, in body and time, for an unknown email and a wrong password."""
        row = await self.users.credentials(email)
        stored = None if row is None else row["password_hash"]
        account = account_key(None if row is None else str(row["id"]), email)
        if not await self._limited_check(
            account, address, password, stored, active=row is not None and row["is_active"]
        ):
            raise InvalidCredentials()
        rehashed = (
            await self.passwords.hash(password) if self.passwords.needs_rehash(stored) else None
        )
        await self.users.signed_in(row["id"], rehashed)
        return await self._signed_in(str(row["id"]))

    async def refresh(self, refresh_token: str) -> dict:
        """Rotate a refresh token. Its successors (refresh and access) are
        derived from it, so a reuse inside ``auth.refresh_reuse_grace_s``
        (parallel requests of one browser) gets the very same pair back."""
        claims = self.tokens.decode(refresh_token, REFRESH)
        # The pair is stamped with the rotation's time, so that time must come
        # after the user's access-token cutoff (a logout or a reuse detected in
        # another sign-in this very second), or the new access token is dead.
        user = await self.users.get(claims.user_id)
        if user is not None:
            await _after_cutoff(user["tokens_valid_after"])
        now = dt.datetime.now(dt.UTC)
        refresh_jti = self.tokens.successor_jti(REFRESH, claims.jti)
        successor = self.tokens.issue(
            claims.user_id, REFRESH, jti=refresh_jti, issued_at=int(now.timestamp())
        )
        outcome, rotated_at = await self.sessions.rotate(
            claims.user_id,
            jti_hash(claims.jti),
            jti_hash(refresh_jti),
            successor.expires_at,
            rotated_at=now,
            grace_s=self.auth.refresh_reuse_grace_s,
        )
        if outcome not in (Rotation.ROTATED, Rotation.REPLAYED):
            raise InvalidToken(_REFUSED[outcome])
        issued_at = int(rotated_at.timestamp())
        if outcome is Rotation.REPLAYED:
            successor = self.tokens.issue(
                claims.user_id, REFRESH, jti=refresh_jti, issued_at=issued_at
            )
        access = self.tokens.issue(
            claims.user_id,
            ACCESS,
            jti=self.tokens.successor_jti(ACCESS, claims.jti),
            issued_at=issued_at,
        )
        return await self._tokens(claims.user_id, successor.token, access.token)

    async def logout(self, actor: Actor, refresh_token: str) -> None:
        claims = self.tokens.decode(refresh_token, REFRESH)
        if claims.user_id != actor.id or not await self.sessions.end(
            actor.id, jti_hash(claims.jti)
        ):
            raise InvalidToken("This refresh token does not belong to the caller.")

    async def change_password(
        self, actor: Actor, current: str, new: str, address: str | None
    ) -> None:
        """Guessing the current password with a stolen access token counts as
        failed logins of the account."""
        stored = await self.users.password_hash(actor.id)
        if not await self._limited_check(account_key(actor.id, ""), address, current, stored):
            raise ValidationError.single(("body", "current_password"), "is not correct")
        await self.users.set_password(actor.id, await self.passwords.hash(new))

    async def _limited_check(
        self,
        account: str,
        address: str | None,
        password: str,
        stored: str | None,
        active: bool = True,
    ) -> bool:
        """Check a password under the login rate limits (``ratelimit``). The
        account's delay is waited first, without a hashing slot; the limits are
        checked and the outcome counted while holding one, so parallel guesses
        overshoot a limit by fewer than ``passwords.workers`` per process."""
        delay = await self.limiter.delay_s(account)
        if delay:
            await asyncio.sleep(delay)
        async with self.passwords.slot():
            await self.limiter.check(account, address)
            ok = await self.passwords.check(password, stored) and active
            await (self.limiter.succeeded if ok else self.limiter.failed)(account, address)
        return ok

    async def _signed_in(self, user_id: str) -> dict:
        refresh = self.tokens.issue(user_id, REFRESH)
        await self.sessions.start(user_id, jti_hash(refresh.jti), refresh.expires_at)
        return await self._tokens(user_id, refresh.token)

    async def _tokens(
        self, user_id: str, refresh_token: str, access_token: str | None = None
    ) -> dict:
        row = await self.users.get(user_id)
        if row is None:  # deleted meanwhile
            raise InvalidToken("The token's user is unknown or deactivated.")
        await _after_cutoff(row["tokens_valid_after"])
        return {
            "user": await self.accounts.user_json(row),
            "access_token": access_token or self.tokens.issue(user_id, ACCESS).token,
            "refresh_token": refresh_token,
            "token_type": "bearer",
            "expires_in": self.tokens.access_ttl_s,
        }


async def _after_cutoff(valid_after: dt.datetime | None) -> None:
    """Access tokens count from the second after ``tokens_valid_after`` (``iat``
    is in whole seconds): a sign-in in the very second of a logout waits for
    the next one, or its new token would be refused too."""
    if valid_after is not None:
        wait = valid_after.timestamp() + 1 - time.time()
        if wait > 0:
            await asyncio.sleep(wait)


def auth_service(resources: Resources) -> AuthService:
    """This process's service (web app, worker or CLI alike)."""
    service = resources.extra.get(RESOURCE_NAME)
    if service is None:
        service = resources.extra[RESOURCE_NAME] = AuthService(resources)
    return service
