"""The rules of user accounts: a user's own profile and avatar, and the admin's
list and changes of users (role, active)."""

from typing import Any

import attrs

from contacts_api.core.auth import Actor
from contacts_api.core.errors import Forbidden, InvalidToken, NotFound
from contacts_api.plugins.auth_jwt.avatars import Avatars
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
    def __init__(self, users: UserRepository, avatars: Avatars):
        self.users = users
        self.avatars = avatars

    async def user_json(self, row: dict[str, Any]) -> dict[str, Any]:
        """docs/api.md's User, with a fresh link to its uploaded avatar, if any."""
        key = row.get("avatar_key")
        return user_json(row, None if key is None else await self.avatars.url(key))

    async def me(self, actor: Actor) -> dict[str, Any]:
        row = await self.users.get(actor.id)
        if row is None:  # deleted after the token was checked
            raise InvalidToken("The token's user is unknown or deactivated.")
        return await self.user_json(row)

    async def update_profile(self, actor: Actor, changes: dict[str, Any]) -> dict[str, Any]:
        if "avatar_url" in changes:  # an external URL (or null) replaces an upload
            await self.remove_avatar(actor)
        if changes:
            await self.users.update_profile(actor.id, changes)
        return (await self.me(actor))["profile"]

    async def set_avatar(self, actor: Actor, data: bytes) -> dict[str, Any]:
        """Check and re-encode the uploaded image ``data`` (422 when refused, nothing
        stored), store the thumbnail, point the profile at it and delete the image it
        replaces; return the user."""
        key = await self.avatars.store(await self.avatars.thumbnail(data))
        try:
            found, previous = await self.users.set_avatar(actor.id, key)
        except BaseException:
            await self.avatars.delete(key)
            raise
        if not found:  # deleted after the token was checked
            await self.avatars.delete(key)
            raise InvalidToken("The token's user is unknown or deactivated.")
        await self.avatars.delete(previous)
        return await self.me(actor)

    async def remove_avatar(self, actor: Actor) -> None:
        """Forget the uploaded avatar and delete its file (nothing to do without one)."""
        _, previous = await self.users.set_avatar(actor.id, None)
        await self.avatars.delete(previous)

    async def page(self, query: UserQuery) -> tuple[list[dict[str, Any]], bool]:
        """One page of users, oldest first, and whether more follow."""
        rows = await self.users.page(
            limit=query.limit + 1,
            offset=query.offset,
            search=query.search,
            role=query.role,
            is_active=query.is_active,
        )
        return [await self.user_json(row) for row in rows[: query.limit]], len(rows) > query.limit

    async def get(self, user_id: str) -> dict[str, Any]:
        row = await self.users.get(user_id)
        if row is None:
            raise NotFound("No such user.")
        return await self.user_json(row)

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
