"""What the v1 API requires of a caller (docs/api.md "Authentication"), for routes.

Routes reach these through the public surface (``from contacts_api import
require_v1_write``). They only read the request's actor, so they work, and
refuse, whether or not this plugin is loaded: with it blocked, no caller holds
the write key and every v1 write is 403 ``INVALID_WRITE_KEY``.
"""

from aiohttp import web

from contacts_api.core.appkeys import SETTINGS
from contacts_api.core.auth import Actor, get_actor
from contacts_api.core.errors import InvalidWriteKey, NotAuthenticated

__all__ = ["require_v1_read", "require_v1_write"]


async def require_v1_write(request: web.Request) -> Actor:
    """Every v1 write needs the write key; anything else is 403
    ``INVALID_WRITE_KEY`` (never open by default, bearer tokens included)."""
    actor = await get_actor(request)
    if actor is None or not actor.can_write_v1:
        raise InvalidWriteKey()
    return actor


async def require_v1_read(request: web.Request) -> Actor | None:
    """v1 reads need a credential (write key, read key or bearer token) unless
    the operator turned ``auth.public_reads`` on; else 401 ``NOT_AUTHENTICATED``."""
    actor = await get_actor(request)
    if actor is None and not request.app[SETTINGS].auth.public_reads:
        raise NotAuthenticated()
    return actor
