"""SQL for refresh tokens: issue, rotate (with reuse detection), revoke.

A *family* is the chain of refresh tokens born from one login: each refresh
revokes the presented token (``rotated``) and issues its successor in the
same family. Presenting a ``rotated`` token again means it leaked (or two
clients share it): the whole family is revoked (``reuse``), so the thief and
the victim both have to sign in again.

Except within ``auth.refresh_reuse_grace_s`` of its rotation: a browser app
refreshes once per failed request, so parallel requests present the same
token a few times in a row. Such a reuse is ``REPLAYED``: the caller gets the
successor already issued (the service re-derives the same tokens; nothing
secret is stored), and the family lives on.

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
    REPLAYED = "replayed"  # a reuse inside the grace period: the same successor again
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

    async def rotate(
        self,
        user_id: str,
        old_hash: str,
        new_hash: str,
        expires_at: int,
        *,
        rotated_at: dt.datetime,
        grace_s: float = 0,
    ) -> tuple[Rotation, dt.datetime]:
        """Replace the token ``old_hash`` by ``new_hash`` (its successor, whose
        hash is the same for every refresh of ``old_hash``). Returns the outcome
        and when the rotation happened: ``rotated_at`` for a new one, the first
        rotation's time for a ``REPLAYED`` reuse inside the grace period."""
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
                return Rotation.UNKNOWN, rotated_at
            family = row["family_id"]
            if row["revoked_reason"] == "rotated":
                first = row["revoked_at"]
                if rotated_at - first <= dt.timedelta(seconds=grace_s):
                    replay = await self._replay(tx, family, new_hash, active=row["is_active"])
                    if replay is not None:
                        return replay, first
                await tx.execute(_revoke(refresh_tokens.c.family_id == family, "reuse"))
                await tx.execute(end_access_tokens(user_id))
                return Rotation.REUSED, rotated_at
            if row["revoked_at"] is not None:
                return Rotation.REVOKED, rotated_at
            if not row["is_active"]:
                return Rotation.INACTIVE, rotated_at
            await tx.execute(
                _revoke(refresh_tokens.c.jti_hash == old_hash, "rotated", at=rotated_at)
            )
            await tx.execute(
                sa.insert(refresh_tokens).values(
                    jti_hash=new_hash, user_id=user_id, family_id=family, expires_at=_at(expires_at)
                )
            )
        return Rotation.ROTATED, rotated_at

    @staticmethod
    async def _replay(tx, family: str, new_hash: str, *, active: bool) -> Rotation | None:
        """The outcome of a reuse inside the grace period; None when the
        successor is not there (issued before successors were derived), which
        is treated as a plain reuse."""
        successor = await tx.fetch_one(
            sa.select(refresh_tokens.c.revoked_reason).where(
                refresh_tokens.c.jti_hash == new_hash, refresh_tokens.c.family_id == family
            )
        )
        if successor is None:
            return None
        if successor["revoked_reason"] not in (None, "rotated"):  # logged out, reused, ...
            return Rotation.REVOKED
        return Rotation.REPLAYED if active else Rotation.INACTIVE

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


def _revoke(
    condition: sa.ColumnElement[bool], reason: str, at: dt.datetime | None = None
) -> sa.Update:
    return (
        sa.update(refresh_tokens)
        .where(condition, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now() if at is None else at, revoked_reason=reason)
    )
