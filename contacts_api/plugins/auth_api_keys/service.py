"""API keys: create, list, revoke, and who a presented key belongs to.

One ``ApiKeys`` per process (``api_keys(resources)``), kept in
``resources.extra``: it only wraps the core's database pool and the server key.

A presented key is checked against its row on every request (one primary-key
lookup joined to its owner): a revoked or expired key, or one whose owner is
deactivated, is refused on its very next request in every process, with no
cache to invalidate. ``last_used_at`` is written at most once a minute per key.
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa

from contacts_api.core.auth import Actor
from contacts_api.core.errors import (
    Conflict,
    Forbidden,
    InvalidToken,
    NotFound,
    ValidationError,
)
from contacts_api.core.resources import Resources
from contacts_api.core.scopes import scopes_for_role
from contacts_api.core.sql import Prepared
from contacts_api.plugins.auth_api_keys.keys import KeyHasher, parse_key
from contacts_api.plugins.auth_api_keys.tables import api_keys, users

__all__ = ["ApiKeys", "api_keys_service", "key_json"]

RESOURCE_NAME = "auth_api_keys"
LAST_USED_EVERY = dt.timedelta(minutes=1)
# Active keys one user may hold: each key has its own request budget, so an
# unbounded number of keys would multiply a user's budget at will.
MAX_ACTIVE_KEYS = 25
_PUBLIC = (
    api_keys.c.id,
    api_keys.c.name,
    api_keys.c.scopes,
    api_keys.c.created_at,
    api_keys.c.expires_at,
    api_keys.c.last_used_at,
)

# Compiled once: they run on every request made with a key.
_BY_ID = Prepared(
    sa.select(
        api_keys.c.user_id,
        api_keys.c.scopes,
        api_keys.c.secret_hash,
        api_keys.c.expires_at,
        api_keys.c.revoked_at,
        api_keys.c.last_used_at,
        users.c.role,
        users.c.is_active,
        sa.func.now().label("now"),
    )
    .join(users, users.c.id == api_keys.c.user_id)
    .where(api_keys.c.id == sa.bindparam("id"))
)
# The condition again in SQL: parallel requests write it once.
_TOUCH = Prepared(
    sa.update(api_keys)
    .where(
        api_keys.c.id == sa.bindparam("id"),
        sa.or_(
            api_keys.c.last_used_at.is_(None),
            api_keys.c.last_used_at < sa.func.now() - sa.text("interval '1 minute'"),
        ),
    )
    .values(last_used_at=sa.func.now())
)


def _time(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def key_json(row: dict[str, Any]) -> dict[str, Any]:
    """A key as the API shows it (never its secret nor its hash)."""
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "scopes": list(row["scopes"]),
        "created_at": _time(row["created_at"]),
        "expires_at": _time(row["expires_at"]),
        "last_used_at": _time(row["last_used_at"]),
    }


class ApiKeys:
    def __init__(self, resources: Resources):
        self.db = resources.db
        self.hasher = KeyHasher(resources.settings)

    # -- management ------------------------------------------------------------

    async def create(
        self,
        owner_id: str,
        name: str,
        scopes: list[str],
        expires_at: dt.datetime | None,
        *,
        creator: Actor | None = None,
    ) -> dict[str, Any]:
        """A new key of ``owner_id``; the answer holds ``key``, shown only here.
        Its scopes never exceed the owner's role, nor those of the API key
        ``creator`` that asks for it."""
        owner = await self.db.fetch_one(
            sa.select(users.c.role, users.c.is_active).where(users.c.id == owner_id)
        )
        if owner is None or not owner["is_active"]:
            raise NotFound("No such active user.")
        allowed = scopes_for_role(owner["role"])
        if creator is not None and creator.scopes is not None:
            allowed = allowed & creator.scopes
        beyond = sorted(set(scopes) - allowed)
        if beyond:
            raise ValidationError.single(
                ("body", "scopes"),
                f"not allowed for this user ({', '.join(beyond)}): a key never exceeds "
                "its owner's role (nor the key that creates it)",
            )
        if expires_at is not None and expires_at <= dt.datetime.now(dt.UTC):
            raise ValidationError.single(("body", "expires_at"), "must be in the future")
        active = await self.db.fetch_one(
            sa.select(sa.func.count().label("n"))
            .select_from(api_keys)
            .where(
                api_keys.c.user_id == owner_id,
                api_keys.c.revoked_at.is_(None),
                sa.or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > sa.func.now()),
            )
        )
        if active["n"] >= MAX_ACTIVE_KEYS:
            raise Conflict(
                f"This user already holds {MAX_ACTIVE_KEYS} active API keys: revoke one first."
            )
        new = self.hasher.new()
        row = await self.db.fetch_one(
            sa.insert(api_keys)
            .values(
                id=new.id,
                user_id=owner_id,
                name=name,
                scopes=sorted(set(scopes)),
                secret_hash=new.secret_hash,
                expires_at=expires_at,
            )
            .returning(*_PUBLIC)
        )
        return {**key_json(row), "key": new.key}

    async def list(self, owner_id: str) -> list[dict[str, Any]]:
        """The owner's keys that still work or may (revoked ones are gone)."""
        rows = await self.db.fetch_all(
            sa.select(*_PUBLIC)
            .where(api_keys.c.user_id == owner_id, api_keys.c.revoked_at.is_(None))
            .order_by(api_keys.c.created_at.desc(), api_keys.c.id)
        )
        return [key_json(row) for row in rows]

    async def revoke(self, owner_id: str, key_id: str) -> None:
        """The key stops working at once; 404 when it is not the owner's."""
        done = await self.db.execute(
            sa.update(api_keys)
            .where(
                api_keys.c.id == key_id,
                api_keys.c.user_id == owner_id,
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=sa.func.now())
        )
        if not done:
            raise NotFound("No such API key.")

    # -- authentication ----------------------------------------------------------

    async def actor(self, presented: str) -> Actor:
        """The actor of a presented key, or 401 ``INVALID_TOKEN``."""
        parsed = parse_key(presented)
        if parsed is None:
            raise InvalidToken("Malformed API key.")
        key_id, secret = parsed
        row = await self.db.fetch_one(_BY_ID.sql, _BY_ID.params(id=key_id))
        if row is None or not self.hasher.matches(secret, row["secret_hash"]):
            raise InvalidToken("Unknown API key.")
        now = row["now"]
        if row["revoked_at"] is not None:
            raise InvalidToken("This API key has been revoked.")
        if row["expires_at"] is not None and row["expires_at"] <= now:
            raise InvalidToken("This API key has expired.")
        if not row["is_active"]:
            raise InvalidToken("The API key's user is deactivated.")
        if row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_EVERY:
            await self._touch(key_id)
        role = row["role"]
        return Actor(
            id=str(row["user_id"]),
            kind="api_key",
            role=role,
            # v1 writes (data, imports) are for administrators, as the write key is
            can_write_v1=role == "admin",
            scopes=frozenset(row["scopes"]) & scopes_for_role(role),
            attributes={"credential_id": key_id},
        )

    async def _touch(self, key_id: str) -> None:
        await self.db.execute(_TOUCH.sql, _TOUCH.params(id=key_id))


def api_keys_service(resources: Resources) -> ApiKeys:
    """This process's service (web app or CLI alike)."""
    service = resources.extra.get(RESOURCE_NAME)
    if service is None:
        service = resources.extra[RESOURCE_NAME] = ApiKeys(resources)
    return service


def check_admin_scope(actor: Actor) -> None:
    """Managing another user's keys needs an administrator (and, for an API
    key, its admin scope, which the core's scope check already asked)."""
    if not actor.is_admin:
        raise Forbidden("Administrator role required.")
