"""SQL for users and profiles: one round trip per method where it can be."""

import re
from typing import Any

import psycopg2.errors
import sqlalchemy as sa

from contacts_api.core.errors import Conflict
from contacts_api.core.resources.database import Database
from contacts_api.core.sql import Prepared
from contacts_api.plugins.auth_jwt.sessions import access_cutoff
from contacts_api.plugins.auth_jwt.tables import (
    PROFILE_FIELDS,
    refresh_tokens,
    user_profiles,
    users,
)

__all__ = ["UserRepository"]

Row = dict[str, Any]
PUBLIC_COLUMNS = [
    users.c.id,
    users.c.email,
    users.c.role,
    users.c.is_active,
    users.c.last_sign_in_at,
    users.c.created_at,
    users.c.tokens_valid_after,  # read by the service, never serialized
    *(user_profiles.c[name] for name in PROFILE_FIELDS),
    user_profiles.c.avatar_key,  # serialized as a fresh avatar_url link
]
WITH_PROFILE = users.outerjoin(user_profiles, user_profiles.c.user_id == users.c.id)

# Hot paths (every bearer request, every login): compiled once.
_ACTOR = Prepared(
    sa.select(
        users.c.id, users.c.email, users.c.role, users.c.is_active, users.c.tokens_valid_after
    ).where(users.c.id == sa.bindparam("id"))
)
_BY_EMAIL = Prepared(
    sa.select(users.c.id, users.c.password_hash, users.c.is_active).where(
        sa.func.lower(users.c.email) == sa.func.lower(sa.bindparam("email"))
    )
)
_SET_AVATAR = """
WITH previous AS (
    SELECT avatar_key FROM user_profiles WHERE user_id = %(id)s FOR UPDATE
)
UPDATE user_profiles AS p
SET avatar_key = %(key)s, avatar_url = NULL, updated_at = now()
FROM previous
WHERE p.user_id = %(id)s
RETURNING previous.avatar_key AS previous"""
_SIGNED_IN = Prepared(
    sa.update(users).where(users.c.id == sa.bindparam("id")).values(last_sign_in_at=sa.func.now())
)


class UserRepository:
    def __init__(self, db: Database):
        self.db = db

    async def actor_row(self, user_id: str) -> Row | None:
        return await self.db.fetch_one(_ACTOR.sql, _ACTOR.params(id=user_id))

    async def credentials(self, email: str) -> Row | None:
        return await self.db.fetch_one(_BY_EMAIL.sql, _BY_EMAIL.params(email=email))

    async def email_taken(self, email: str) -> bool:
        """Whether a user has this email (compared as the unique index does)."""
        found = await self.db.fetch_val(
            sa.select(users.c.id).where(sa.func.lower(users.c.email) == sa.func.lower(email))
        )
        return found is not None

    async def get(self, user_id: str) -> Row | None:
        query = sa.select(*PUBLIC_COLUMNS).select_from(WITH_PROFILE).where(users.c.id == user_id)
        return await self.db.fetch_one(query)

    async def create(
        self,
        email: str,
        password_hash: str,
        role: str,
        profile: dict[str, Any],
        *,
        signed_in: bool = False,
    ) -> str:
        """Insert the user and its profile together; 409 when the email is taken."""
        values = {"email": email, "password_hash": password_hash, "role": role}
        if signed_in:
            values["last_sign_in_at"] = sa.func.now()
        try:
            async with self.db.transaction() as tx:
                user_id = await tx.fetch_val(
                    sa.insert(users).values(**values).returning(users.c.id)
                )
                await tx.execute(sa.insert(user_profiles).values(user_id=user_id, **profile))
        except psycopg2.errors.UniqueViolation:
            raise Conflict("A user with this email already exists.") from None
        return str(user_id)

    async def signed_in(self, user_id: str, new_hash: str | None = None) -> None:
        if new_hash is None:
            await self.db.execute(_SIGNED_IN.sql, _SIGNED_IN.params(id=user_id))
        else:  # the configured bcrypt cost changed: store the re-hashed password
            await self.db.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(last_sign_in_at=sa.func.now(), password_hash=new_hash)
            )

    async def password_hash(self, user_id: str) -> str | None:
        return await self.db.fetch_val(
            sa.select(users.c.password_hash).where(users.c.id == user_id)
        )

    async def set_password(self, user_id: str, password_hash: str) -> None:
        """New password; every refresh and access token of the user stops working."""
        async with self.db.transaction() as tx:
            await tx.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(
                    password_hash=password_hash,
                    updated_at=sa.func.now(),
                    tokens_valid_after=access_cutoff(),
                )
            )
            await tx.execute(_revoke_all(user_id, "password_change"))

    async def update_profile(self, user_id: str, changes: dict[str, Any]) -> None:
        await self.db.execute(
            sa.update(user_profiles)
            .where(user_profiles.c.user_id == user_id)
            .values(**changes, updated_at=sa.func.now())
        )

    async def set_avatar(self, user_id: str, key: str | None) -> tuple[bool, str | None]:
        """Point the profile at the uploaded avatar ``key`` (None: no uploaded avatar),
        clearing ``avatar_url``; return (whether the user exists, the previous key).
        The row lock makes concurrent uploads of one user each see the key the other
        one replaced, so every replaced file is deleted by someone."""
        # The CTE takes the row lock before the UPDATE (joined through FROM); a
        # FOR UPDATE evaluated after the UPDATE would not see the row at all.
        row = await self.db.fetch_one(_SET_AVATAR, {"id": user_id, "key": key})
        return (row is not None, None if row is None else row["previous"])

    async def update(self, user_id: str, changes: dict[str, Any]) -> bool:
        """Change role / is_active; deactivation revokes the refresh tokens."""
        async with self.db.transaction() as tx:
            found = await tx.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(**changes, updated_at=sa.func.now())
            )
            if found and changes.get("is_active") is False:
                await tx.execute(_revoke_all(user_id, "deactivated"))
        return bool(found)

    async def set_role_by_email(self, email: str, role: str) -> str | None:
        return await self.db.fetch_val(
            sa.update(users)
            .where(sa.func.lower(users.c.email) == sa.func.lower(email))
            .values(role=role, updated_at=sa.func.now())
            .returning(users.c.id)
        )

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        search: str | None,
        role: str | None,
        is_active: bool | None,
    ) -> list[Row]:
        query = sa.select(*PUBLIC_COLUMNS).select_from(WITH_PROFILE)
        if search:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", search) + "%"
            query = query.where(
                sa.or_(users.c.email.ilike(pattern), user_profiles.c.full_name.ilike(pattern))
            )
        if role is not None:
            query = query.where(users.c.role == role)
        if is_active is not None:
            query = query.where(users.c.is_active == is_active)
        query = query.order_by(users.c.created_at, users.c.id).limit(limit).offset(offset)
        return await self.db.fetch_all(query)


def _revoke_all(user_id: str, reason: str) -> sa.Update:
    return (
        sa.update(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now(), revoked_reason=reason)
    )
