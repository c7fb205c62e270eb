"""Who is calling: the actor, resolved through the ``actor_from_request`` hook.

Authentication methods are plugins (``auth_write_key``, ``auth_jwt``, third
parties). Routes never read credentials themselves: they call the helpers
here, so every method applies everywhere the same way.
"""

from typing import Any

import attrs
from aiohttp import web

from contacts_api.core.appkeys import ACTOR, PLUGINS, RESOURCES, SETTINGS
from contacts_api.core.errors import Forbidden, InvalidWriteKey, NotAuthenticated, NotFound

__all__ = [
    "Actor",
    "get_actor",
    "is_local",
    "require_actor",
    "require_admin",
    "require_owner",
    "require_v1_read",
    "require_v1_write",
]

_UNRESOLVED = object()


@attrs.frozen
class Actor:
    """An authenticated caller.

    ``id``: stable id (a user id, or ``"write_key"``). ``kind``: the method that
    authenticated it (``"user"``, ``"write_key"``, ``"read_key"``, or a
    plugin's own). ``role``: ``"admin"`` or ``"user"``. ``can_write_v1``: the
    caller may use v1 write routes. ``attributes``: method-specific extras
    (token id, email ...).
    """

    id: str
    kind: str
    role: str = "user"
    can_write_v1: bool = False
    attributes: dict[str, Any] = attrs.field(factory=dict, eq=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


async def get_actor(request: web.Request) -> Actor | None:
    """The request's actor, or None for an anonymous request (memoized)."""
    actor = request.get(ACTOR, _UNRESOLVED)
    if actor is _UNRESOLVED:
        app = request.app
        actor = await app[PLUGINS].actor_from_request(request, app[RESOURCES])
        request[ACTOR] = actor
    return actor


async def require_actor(request: web.Request) -> Actor:
    """The actor, or 401 ``NOT_AUTHENTICATED``."""
    actor = await get_actor(request)
    if actor is None:
        raise NotAuthenticated()
    return actor


async def require_admin(request: web.Request) -> Actor:
    """An admin actor: 401 when anonymous, 403 ``FORBIDDEN`` otherwise."""
    actor = await require_actor(request)
    if not actor.is_admin:
        raise Forbidden("Administrator role required.")
    return actor


async def require_v1_write(request: web.Request) -> Actor:
    """API.md: every v1 write needs the write key; anything else is 403
    ``INVALID_WRITE_KEY`` (never open by default, bearer tokens included)."""
    actor = await get_actor(request)
    if actor is None or not actor.can_write_v1:
        raise InvalidWriteKey()
    return actor


async def require_v1_read(request: web.Request) -> Actor | None:
    """API.md: v1 reads need a credential (write key, read key or bearer token)
    unless the operator turned public reads on; else 401 ``NOT_AUTHENTICATED``."""
    actor = await get_actor(request)
    if actor is None and not request.app[SETTINGS].auth.public_reads:
        raise NotAuthenticated()
    return actor


def require_owner(actor: Actor, owner_id: Any) -> None:
    """404 (not 403) for someone else's resource, so ids do not leak."""
    if str(owner_id) != actor.id:
        raise NotFound()


def is_local(request: web.Request) -> bool:
    """The request comes from this machine (loopback), not through a proxy."""
    return request.remote in ("127.0.0.1", "::1") and "X-Forwarded-For" not in request.headers
