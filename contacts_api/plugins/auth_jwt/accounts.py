"""The rules of user accounts: a user's own profile, and the admin's list and
changes of users (role, active)."""

from typing import Any

import attrs

from contacts_api.core.auth import Actor
from contacts_api.core.errors import Forbidden, InvalidToken, NotFound
from contacts_api.plugins.auth_jwt.repository import UserRepository
from contacts_api.plugins.auth_jwt.serialize import user_json

__all__ = ["Accounts", "UserQuery"]


@attrs.frozen
class UserQuery:
    limit: int = 25
    offset: int = 0
    search: str | None = None
    role: str | None = None
    is_active: bool | None = None


class Accounts:
    def __init__(self, users: UserRepository):
        self.users = users

    async def me(self, actor: Actor) -> dict[str, Any]:
        row = await self.users.get(actor.id)
        if row is None:  # deleted after the token was checked
            raise InvalidToken("The token's user is unknown or deactivated.")
        return user_json(row)

    async def update_profile(self, actor: Actor, changes: dict[str, Any]) -> dict[str, Any]:
        if changes:
            await self.users.update_profile(actor.id, changes)
        return (await self.me(actor))["profile"]

    async def page(self, query: UserQuery) -> tuple[list[dict[str, Any]], bool]:
        """One page of users, oldest first, and whether more follow."""
        rows = await self.users.page(
            limit=query.limit + 1,
            offset=query.offset,
            search=query.search,
            role=query.role,
            is_active=query.is_active,
        )
        return [user_json(row) for row in rows[: query.limit]], len(rows) > query.limit

    async def get(self, user_id: str) -> dict[str, Any]:
        row = await self.users.get(user_id)
        if row is None:
            raise NotFound("No such user.")
        return user_json(row)

    async def update(self, actor: Actor, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """An admin may not demote or deactivate themself (no accidental lock-out;
        ``contacts-api users set-role`` is the way back in any case)."""
        if user_id == actor.id and (
            changes.get("role") == "user" or changes.get("is_active") is False
        ):
            raise Forbidden("Administrators cannot demote or deactivate themselves.")
        if changes and not await self.users.update(user_id, changes):
            raise NotFound("No such user.")
        return await self.get(user_id)
