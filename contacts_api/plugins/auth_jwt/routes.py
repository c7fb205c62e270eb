"""HTTP routes of docs/api.md "Users": parse and validate, call the service, answer."""

from aiohttp import web

from contacts_api import requires_scope
from contacts_api.core.appkeys import RESOURCES, SETTINGS
from contacts_api.core.auth import Actor, require_actor, require_admin
from contacts_api.core.errors import Forbidden, NotFound, ValidationError, field_error
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import (
    absolute_url,
    client_address,
    path_uuid,
    query_int,
    read_json,
)
from contacts_api.plugins.auth_jwt.accounts import UserQuery
from contacts_api.plugins.auth_jwt.avatars import CONTENT_TYPE, FILE_ROUTE, read_avatar_upload
from contacts_api.plugins.auth_jwt.service import AuthService, auth_service
from contacts_api.plugins.auth_jwt.validation import ROLES, Body

__all__ = ["require_user", "routes"]

routes = web.RouteTableDef()


def _service(request: web.Request) -> AuthService:
    """The process's service, making avatar links on this request's API origin."""
    return auth_service(request.app[RESOURCES]).for_request(absolute_url(request, ""))


async def require_user(request: web.Request, *, api_keys: bool = False) -> Actor:
    """A signed-in user (bearer token): 401 when anonymous, 403 for another kind
    of caller (write key, read key, a third-party method). ``api_keys``: a
    user's API key (which acts as its owner) is accepted too."""
    actor = await require_actor(request)
    if actor.kind != "user" and not (api_keys and actor.kind == "api_key"):
        raise Forbidden("This route needs a user's bearer token.")
    return actor


async def _refresh_token(request: web.Request) -> str:
    body = Body(await read_json(request), ("refresh_token",))
    token = body.string("refresh_token")
    body.done()
    return token


@routes.post("/api/v2/auth/register")
@requires_scope("public")
async def register(request: web.Request) -> web.Response:
    _service(request).check_registration_open()  # 403 before any body problem
    body = Body(await read_json(request), ("email", "password", "full_name"))
    email, password, profile = body.email(), body.password("password"), body.profile()
    body.done()
    signed_in = await _service(request).register(email, password, profile, client_address(request))
    return json_reply(signed_in, status=201)


@routes.post("/api/v2/auth/login")
@requires_scope("public")
async def login(request: web.Request) -> web.Response:
    body = Body(await read_json(request), ("email", "password"))
    email, password = body.string("email"), body.string("password")
    body.done()
    address = client_address(request)
    return json_reply(await _service(request).login(email.strip(), password, address))


@routes.post("/api/v2/auth/refresh")
@requires_scope("public")
async def refresh(request: web.Request) -> web.Response:
    return json_reply(await _service(request).refresh(await _refresh_token(request)))


@routes.post("/api/v2/auth/logout")
@requires_scope("write")
async def logout(request: web.Request) -> web.Response:
    actor = await require_user(request)
    await _service(request).logout(actor, await _refresh_token(request))
    return web.Response(status=204)


@routes.get("/api/v2/users/me")
@requires_scope("read")
async def me(request: web.Request) -> web.Response:
    actor = await require_user(request, api_keys=True)
    return json_reply(await _service(request).accounts.me(actor))


@routes.patch("/api/v2/users/me/profile")
@requires_scope("write")
async def update_profile(request: web.Request) -> web.Response:
    actor = await require_user(request)
    body = Body(
        await read_json(request),
        ("full_name", "job_title", "company", "timezone", "avatar_url", "bio"),
    )
    changes = body.profile()
    body.done()
    return json_reply(await _service(request).accounts.update_profile(actor, changes))


@routes.post("/api/v2/users/me/password")
@requires_scope("write")
async def change_password(request: web.Request) -> web.Response:
    actor = await require_user(request)
    body = Body(await read_json(request), ("current_password", "new_password"))
    current, new = body.string("current_password"), body.password("new_password")
    body.done()
    await _service(request).change_password(actor, current, new, client_address(request))
    return web.Response(status=204)


@routes.post("/api/v2/users/me/avatar")
@requires_scope("write")
async def upload_avatar(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await read_avatar_upload(request, request.app[SETTINGS].auth.avatar_max_bytes)
    return json_reply(await _service(request).accounts.set_avatar(actor, data))


@routes.delete("/api/v2/users/me/avatar")
@requires_scope("write")
async def delete_avatar(request: web.Request) -> web.Response:
    actor = await require_user(request)
    await _service(request).accounts.remove_avatar(actor)
    return web.Response(status=204)


@routes.get(FILE_ROUTE)
@requires_scope("public")
async def avatar_file(request: web.Request) -> web.StreamResponse:
    """A local-storage avatar on its signed link: the link is the credential (an
    ``<img>`` cannot send a bearer token)."""
    avatars = _service(request).accounts.avatars
    key = avatars.key_of_link(request.match_info["name"], request.query.get("token", ""))
    if key is None:
        raise Forbidden("This avatar link is invalid or has expired.")
    if not await avatars.storage.exists(key):
        raise NotFound("No such avatar (it was replaced or removed).")
    response = web.StreamResponse(
        headers={
            "Content-Type": CONTENT_TYPE,
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    async for chunk in avatars.storage.read(key):
        await response.write(chunk)
    await response.write_eof()
    return response


USER_QUERY = {"limit", "page_size", "offset", "search", "role", "is_active"}


def _user_query(request: web.Request) -> UserQuery:
    problems = [
        field_error(("query", name), "unknown parameter", "value_error.extra")
        for name in request.query
        if name not in USER_QUERY
    ]
    problems += [
        field_error(("query", name), "must not contain NUL characters")
        for name, value in request.query.items()
        if "\x00" in value
    ]
    if problems:
        raise ValidationError(problems)
    size = query_int(request, "page_size", 25, minimum=1, maximum=100)
    limit = query_int(request, "limit", size, minimum=1, maximum=100)
    offset = query_int(request, "offset", 0, minimum=0, maximum=10_000)
    role, active = request.query.get("role") or None, request.query.get("is_active") or None
    if role is not None and role not in ROLES:
        raise ValidationError.single(("query", "role"), "must be one of: user, admin")
    if active is not None and active.lower() not in ("true", "false"):
        raise ValidationError.single(("query", "is_active"), "must be true or false")
    return UserQuery(
        limit=limit,
        offset=offset,
        search=request.query.get("search") or None,
        role=role,
        is_active=None if active is None else active.lower() == "true",
    )


def _page_url(request: web.Request, offset: int) -> str:
    url = request.url.update_query(offset=str(offset))
    base = request.app[SETTINGS].server.base_url.rstrip("/")
    return base + url.path_qs if base else str(url)


@routes.get("/api/v2/users/")
@requires_scope("admin")
async def list_users(request: web.Request) -> web.Response:
    await require_admin(request)
    query = _user_query(request)
    results, more = await _service(request).accounts.page(query)
    return json_reply(
        {
            "next": _page_url(request, query.offset + query.limit) if more else None,
            "previous": (
                _page_url(request, max(0, query.offset - query.limit)) if query.offset > 0 else None
            ),
            "results": results,
        }
    )


@routes.get("/api/v2/users/{id}")
@requires_scope("admin")
async def get_user(request: web.Request) -> web.Response:
    await require_admin(request)
    user_id = str(path_uuid(request, "id"))
    return json_reply(await _service(request).accounts.get(user_id))


@routes.patch("/api/v2/users/{id}")
@requires_scope("admin")
async def update_user(request: web.Request) -> web.Response:
    actor = await require_admin(request)
    user_id = str(path_uuid(request, "id"))
    body = Body(await read_json(request), ("is_active", "role"))
    changes = {"is_active": body.boolean("is_active"), "role": body.choice("role", ROLES)}
    body.done()
    changes = {key: value for key, value in changes.items() if value is not None}
    return json_reply(await _service(request).accounts.update(actor, user_id, changes))
