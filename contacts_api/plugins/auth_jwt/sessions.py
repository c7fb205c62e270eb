"""SQL for refresh tokens: issue, rotate (with reuse detection), revoke.

A *family* is the chain of refresh tokens born from one login: each refresh
revokes the presented token (``rotated``) and issues its successor in the
same family. Presenting a ``rotated`` token again means it leaked (or two
clients share it): the whole family is revoked (``reuse``), so the thief and
the victim both have to sign in again.

Access tokens are not recorded, so they are ended per user: a logout, a
password change or a detected reuse sets ``users.tokens_valid_after`` to
``access_cutoff()``, and access tokens issued before it are refused on their
next request (``AuthService.actor``); the user's other sign-ins refresh theirs.
"""

import datetime as dt
import enum
import time
import uuid

import sqlalchemy as sa

from contacts_api.core.resources.database import Database
from contacts_api.plugins.auth_jwt.tables import refresh_tokens, users

__all__ = ["Rotation", "SessionRepository", "access_cutoff", "end_access_tokens"]


class Rotation(enum.Enum):
    ROTATED = "rotated"
    REUSED = "reused"  # a rotated token came back: its family is now revoked
    REVOKED = "revoked"  # logged out, password changed, user deactivated
    UNKNOWN = "unknown"  # never issued here (or issued to someone else)
    INACTIVE = "inactive"  # the user is deactivated


def _at(epoch_s: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC)


def access_cutoff() -> dt.datetime:
    """Now, in whole seconds of this server's clock (the clock and precision of
    a token's ``iat``). Access tokens issued in this second or before are
    refused; ``AuthService`` issues new ones from the next second on."""
    return _at(int(time.time()))


def end_access_tokens(user_id: str) -> sa.Update:
    """Every access token of the user issued before now stops working."""
    return sa.update(users).where(users.c.id == user_id).values(tokens_valid_after=access_cutoff())


class SessionRepository:
    def __init__(self, db: Database):
        self.db = db

    async def start(self, user_id: str, jti_hash: str, expires_at: int) -> None:
        """A new family (a login or a registration); expired rows of the user go."""
        async with self.db.transaction() as tx:
            await tx.execute(
                sa.delete(refresh_tokens).where(
                    refresh_tokens.c.user_id == user_id, refresh_tokens.c.expires_at < sa.func.now()
                )
            )
            await tx.execute(
                sa.insert(refresh_tokens).values(
                    jti_hash=jti_hash,
                    user_id=user_id,
                    family_id=str(uuid.uuid4()),
                    expires_at=_at(expires_at),
                )
            )

    async def rotate(self, user_id: str, old_hash: str, new_hash: str, expires_at: int) -> Rotation:
        async with self.db.transaction() as tx:
            row = await tx.fetch_one(
                sa.select(
                    refresh_tokens.c.user_id,
                    refresh_tokens.c.family_id,
                    refresh_tokens.c.revoked_at,
                    refresh_tokens.c.revoked_reason,
                    users.c.is_active,
                )
                .join(users, users.c.id == refresh_tokens.c.user_id)
                .where(refresh_tokens.c.jti_hash == old_hash)
                .with_for_update(of=refresh_tokens)
            )
            if row is None or str(row["user_id"]) != user_id:
                return Rotation.UNKNOWN
            family = row["family_id"]
            if row["revoked_reason"] == "rotated":
                await tx.execute(_revoke(refresh_tokens.c.family_id == family, "reuse"))
                await tx.execute(end_access_tokens(user_id))
                return Rotation.REUSED
            if row["revoked_at"] is not None:
                return Rotation.REVOKED
            if not row["is_active"]:
                return Rotation.INACTIVE
            await tx.execute(_revoke(refresh_tokens.c.jti_hash == old_hash, "rotated"))
            await tx.execute(
                sa.insert(refresh_tokens).values(
                    jti_hash=new_hash, user_id=user_id, family_id=family, expires_at=_at(expires_at)
                )
            )
        return Rotation.ROTATED

    async def end(self, user_id: str, jti_hash: str) -> bool:
        """Logout: revoke the family of this token and the user's access tokens.
        False when the token is not the user's."""
        family = await self.db.fetch_val(
            sa.select(refresh_tokens.c.family_id).where(
                refresh_tokens.c.jti_hash == jti_hash, refresh_tokens.c.user_id == user_id
            )
        )
        if family is None:
            return False
        async with self.db.transaction() as tx:
            await tx.execute(_revoke(refresh_tokens.c.family_id == family, "logout"))
            await tx.execute(end_access_tokens(user_id))
        return True


def _revoke(condition: sa.ColumnElement[bool], reason: str) -> sa.Update:
    return (
        sa.update(refresh_tokens)
        .where(condition, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now(), revoked_reason=reason)
    )
