"""SQL for refresh tokens: issue, rotate (with reuse detection), revoke.

A *family* is the chain of refresh tokens born from one login: each refresh
revokes the presented token (``rotated``) and issues its successor in the
same family. Presenting a ``rotated`` token again means it leaked (or two
clients share it): the whole family is revoked (``reuse``), so the thief and
the victim both have to sign in again.
"""

import datetime as dt
import enum
import uuid

import sqlalchemy as sa

from contacts_api.core.resources.database import Database
from contacts_api.plugins.auth_jwt.tables import refresh_tokens, users

__all__ = ["Rotation", "SessionRepository"]


class Rotation(enum.Enum):
    ROTATED = "rotated"
    REUSED = "reused"  # a rotated token came back: its family is now revoked
    REVOKED = "revoked"  # logged out, password changed, user deactivated
    UNKNOWN = "unknown"  # never issued here (or issued to someone else)
    INACTIVE = "inactive"  # the user is deactivated


def _at(epoch_s: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC)


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
        """Logout: revoke the family of this token. False when it is not the user's."""
        family = await self.db.fetch_val(
            sa.select(refresh_tokens.c.family_id).where(
                refresh_tokens.c.jti_hash == jti_hash, refresh_tokens.c.user_id == user_id
            )
        )
        if family is None:
            return False
        await self.db.execute(_revoke(refresh_tokens.c.family_id == family, "logout"))
        return True


def _revoke(condition: sa.ColumnElement[bool], reason: str) -> sa.Update:
    return (
        sa.update(refresh_tokens)
        .where(condition, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now(), revoked_reason=reason)
    )
