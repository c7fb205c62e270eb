"""Routes of API keys (docs/api.md "Authentication").

- ``GET|POST /api/v2/users/me/api-keys``, ``DELETE /api/v2/users/me/api-keys/{id}``:
  the caller's own keys (a signed-in user, or one of its API keys: a key may
  create keys within its own scopes);
- ``GET /api/v2/users/{id}/api-keys``, ``DELETE /api/v2/users/{id}/api-keys/{key_id}``:
  any user's keys, for administrators.
"""

import datetime as dt
import uuid
from typing import Any

from aiohttp import web

from contacts_api import (
    SCOPES,
    ValidationError,
    field_error,
    path_uuid,
    read_json,
    require_actor,
    require_admin,
    requires_scope,
)
from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.auth import Actor
from contacts_api.core.errors import Forbidden
from contacts_api.core.jsonio import json_reply
from contacts_api.plugins.auth_api_keys.service import ApiKeys, api_keys_service

__all__ = ["parse_new_key", "routes"]

routes = web.RouteTableDef()
MAX_NAME = 200


def _service(request: web.Request) -> ApiKeys:
    return api_keys_service(request.app[RESOURCES])


def _parse_time(value: Any, errors: list) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    errors.append(
        field_error(("body", "expires_at"), "must be an RFC 3339 time with a zone, or null")
    )
    return None


def parse_new_key(body: dict[str, Any]) -> tuple[str, list[str], dt.datetime | None]:
    """``(name, scopes, expires_at)`` of a creation body, else 422."""
    errors: list = []
    unknown = sorted(set(body) - {"name", "scopes", "expires_at"})
    for field in unknown:
        errors.append(field_error(("body", field), "unknown field", "extra_forbidden"))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        errors.append(field_error(("body", "name"), f"must be 1 to {MAX_NAME} characters"))
    scopes = body.get("scopes")
    if (
        not isinstance(scopes, list)
        or not scopes
        or not all(isinstance(s, str) and s in SCOPES for s in scopes)
    ):
        errors.append(
            field_error(("body", "scopes"), f"must be a non-empty list of {', '.join(SCOPES)}")
        )
    expires_at = _parse_time(body.get("expires_at"), errors)
    if errors:
        raise ValidationError(errors)
    return name.strip(), list(dict.fromkeys(scopes)), expires_at


def _own_account(actor: Actor) -> str:
    """Only users own keys: the v1 keys and other methods have no account."""
    if actor.kind not in ("user", "api_key"):
        raise Forbidden("API keys belong to users: sign in with a user's bearer token.")
    return actor.id


@routes.get("/api/v2/users/me/api-keys")
@requires_scope("read")
async def list_own(request: web.Request) -> web.Response:
    owner = _own_account(await require_actor(request))
    return json_reply({"results": await _service(request).list(owner)})


def _is_itself(actor: Actor, key_id: uuid.UUID) -> bool:
    own = actor.attributes.get("credential_id")
    return own is not None and uuid.UUID(str(own)) == key_id


def _signed_in_user(actor: Actor) -> str:
    """Keys are made with a user's own sign-in, never with another key: a leaked
    key must not be able to mint keys that outlive its revocation."""
    if actor.kind != "user":
        raise Forbidden("API keys are created with a user's bearer token, not with a key.")
    return actor.id


@routes.post("/api/v2/users/me/api-keys")
@requires_scope("write")
async def create_own(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    owner = _signed_in_user(actor)
    name, scopes, expires_at = parse_new_key(await read_json(request))
    created = await _service(request).create(owner, name, scopes, expires_at, creator=actor)
    return json_reply(created, status=201)


@routes.delete("/api/v2/users/me/api-keys/{id}")
@requires_scope("write")
async def revoke_own(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    owner = _own_account(actor)
    key_id = path_uuid(request, "id")
    # A key may revoke itself (a leak found by the integration), not its siblings:
    # a stolen key must not lock its owner's other integrations out.
    if actor.kind != "user" and not _is_itself(actor, key_id):
        raise Forbidden("A key revokes only itself; other keys need a user's bearer token.")
    await _service(request).revoke(owner, str(key_id))
    return web.Response(status=204)


@routes.get("/api/v2/users/{id}/api-keys")
@requires_scope("admin")
async def list_any(request: web.Request) -> web.Response:
    await require_admin(request)
    owner = str(path_uuid(request, "id"))
    return json_reply({"results": await _service(request).list(owner)})


@routes.delete("/api/v2/users/{id}/api-keys/{key_id}")
@requires_scope("admin")
async def revoke_any(request: web.Request) -> web.Response:
    await require_admin(request)
    owner = str(path_uuid(request, "id"))
    await _service(request).revoke(owner, str(path_uuid(request, "key_id")))
    return web.Response(status=204)
