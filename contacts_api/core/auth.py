"""Who is calling: the actor, resolved through the ``actor_from_request`` hook.

Authentication methods are plugins (``auth_write_key``, ``auth_jwt``, third
parties). Routes never read credentials themselves: they call the helpers
here, so every method applies everywhere the same way. What the v1 API
requires (the write key) lives with the ``auth_write_key`` plugin
(``require_v1_write``, ``require_v1_read`` in the public surface).
"""

from typing import Any

import attrs
from aiohttp import web

from contacts_api.core.appkeys import ACTOR, PLUGINS, RESOURCES
from contacts_api.core.errors import Forbidden, NotAuthenticated, NotFound

__all__ = [
    "Actor",
    "get_actor",
    "is_local",
    "require_actor",
    "require_admin",
    "require_owner",
]

_UNRESOLVED = object()


@attrs.frozen
class Actor:
    """An authenticated caller.

    ``id``: stable id (a user id, or ``"write_key"``). ``kind``: the method that
    authenticated it (``"user"``, ``"write_key"``, ``"read_key"``, or a
    plugin's own). ``role``: ``"admin"`` or ``"user"``. ``can_write_v1``: the
    caller may use v1 write routes. ``attributes``: method-specific extras
    (token id, email ...). ``scopes``: what the credential may do
    (``core.scopes``): None for no restriction beyond the role (a signed-in
    user, the write key), a set of scope names for an API key.
    """

    id: str
    kind: str
    role: str = "user"
    can_write_v1: bool = False
    attributes: dict[str, Any] = attrs.field(factory=dict, eq=False)
    scopes: frozenset[str] | None = None

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


def require_owner(actor: Actor, owner_id: Any) -> None:
    """404 (not 403) for someone else's resource, so ids do not leak."""
    if str(owner_id) != actor.id:
        raise NotFound()


def is_local(request: web.Request) -> bool:
    """The request comes from this machine (loopback), not through a proxy."""
    return request.remote in ("127.0.0.1", "::1") and "X-Forwarded-For" not in request.headers
