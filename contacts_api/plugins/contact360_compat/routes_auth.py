"""Sign-in, session and profile in the app's dialect, on the auth_jwt service."""

from aiohttp import web

from contacts_api import requires_scope
from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.auth import require_admin
from contacts_api.core.errors import Forbidden, ValidationError
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import absolute_url, client_address, path_uuid, read_json
from contacts_api.plugins.auth_jwt import routes as auth_routes
from contacts_api.plugins.auth_jwt.service import auth_service
from contacts_api.plugins.auth_jwt.validation import Body
from contacts_api.plugins.contact360_compat import shapes
from contacts_api.plugins.contact360_compat.delegate import call_json

# the app's profile field -> ours
PROFILE_RENAMES = {"name": "full_name"}
PROFILE_FIELDS = ("name", "job_title", "bio", "timezone", "avatar_url", "company")
IGNORED_PROFILE_FIELDS = ("notifications",)  # UI preferences: not stored here


def _service(request: web.Request):
    # bound to the request: profiles carry fresh links to uploaded avatars
    return auth_service(request.app[RESOURCES]).for_request(absolute_url(request, ""))


@requires_scope("public")
async def login(request: web.Request) -> web.Response:
    body = await call_json(auth_routes.login, request)
    return json_reply(shapes.tokens(body, "Login successful"))


@requires_scope("public")
async def register(request: web.Request) -> web.Response:
    """``{"name", "email", "password"}``: our registration with ``name`` as ``full_name``."""
    service = _service(request)
    service.check_registration_open()
    data = await read_json(request)
    translated = {PROFILE_RENAMES.get(k, k): v for k, v in data.items()}
    body = Body(translated, ("email", "password", "full_name"))
    email, password, profile = body.email(), body.password("password"), body.profile()
    body.done()
    answer = await service.register(email, password, profile, client_address(request))
    return json_reply(shapes.tokens(answer, "Registration successful"), status=201)


@requires_scope("public")
async def refresh(request: web.Request) -> web.Response:
    return json_reply(await call_json(auth_routes.refresh, request))


@requires_scope("write")
async def logout(request: web.Request) -> web.Response:
    await auth_routes.logout(request)
    return json_reply({"message": "Logged out"})


@requires_scope("read")
async def session(request: web.Request) -> web.Response:
    actor = await auth_routes.require_user(request)
    me = await _service(request).accounts.me(actor)
    return json_reply({"user": shapes.user(me)})


@requires_scope("read")
async def profile(request: web.Request) -> web.Response:
    actor = await auth_routes.require_user(request)
    return json_reply(shapes.user(await _service(request).accounts.me(actor)))


@requires_scope("write")
async def update_profile(request: web.Request) -> web.Response:
    """PUT/PATCH ``{"name", "job_title", "bio", "timezone", "avatar_url", "notifications",
    "role"}``.

    ``role`` may only repeat the caller's own (an administrator changes
    roles); ``notifications`` are accepted and not stored."""
    actor = await auth_routes.require_user(request)
    data = await read_json(request)
    role = data.pop("role", None)
    if role is not None and shapes.ROLES_FROM_APP.get(role) != actor.role:
        raise Forbidden("Roles are changed by an administrator, not on one's own profile.")
    for key in IGNORED_PROFILE_FIELDS:
        data.pop(key, None)
    translated = {PROFILE_RENAMES.get(k, k): v for k, v in data.items()}
    body = Body(translated, [PROFILE_RENAMES.get(k, k) for k in PROFILE_FIELDS])
    changes = body.profile()
    body.done()
    service = _service(request)
    await service.accounts.update_profile(actor, changes)
    return json_reply(shapes.user(await service.accounts.me(actor)))


@requires_scope("write")
async def upload_avatar(request: web.Request) -> web.Response:
    """POST multipart ``file``: the avatar upload, on ours (same checks and limits);
    answers the app's user, ``avatar_url`` a fresh link to the thumbnail."""
    user = await call_json(auth_routes.upload_avatar, request)
    return json_reply({**shapes.user(user), "message": "Avatar uploaded"})


@requires_scope("write")
async def change_password(request: web.Request) -> web.Response:
    """``{"current_password", "password"|"new_password"}``. The app sends only the
    new password; here a password change always needs the current one (a
    stolen access token must not be enough), so that is a clear 422."""
    actor = await auth_routes.require_user(request)
    data = await read_json(request)
    if "password" in data and "new_password" not in data:
        data["new_password"] = data.pop("password")
    data.pop("confirm_password", None)
    body = Body(data, ("current_password", "new_password"))
    current, new = body.string("current_password"), body.password("new_password")
    body.done()
    await _service(request).change_password(actor, current, new, request.remote)
    return json_reply({"message": "Password updated"})


@requires_scope("admin")
async def list_users(request: web.Request) -> web.Response:
    """The team page: every user, as the app's users."""
    body = await call_json(auth_routes.list_users, request)
    return json_reply([shapes.user(u) for u in body["results"]])


@requires_scope("admin")
async def update_user(request: web.Request) -> web.Response:
    """The team page: ``{"role": "Admin"|"Member"}`` or ``{"is_active": bool}``."""
    actor = await require_admin(request)
    user_id = str(path_uuid(request, "id"))
    data = await read_json(request)
    if "role" in data:
        role = shapes.ROLES_FROM_APP.get(data["role"]) if isinstance(data["role"], str) else None
        if role is None:
            raise ValidationError.single(("body", "role"), "must be one of: Admin, Member")
        data["role"] = role
    body = Body(data, ("is_active", "role"))
    changes = {
        "is_active": body.boolean("is_active"),
        "role": body.choice("role", ("user", "admin")),
    }
    body.done()
    changes = {key: value for key, value in changes.items() if value is not None}
    updated = await _service(request).accounts.update(actor, user_id, changes)
    return json_reply(shapes.user(updated))


def routes(prefix: str) -> list[web.RouteDef]:
    return [
        web.post(prefix + "/api/v2/auth/login/", login),
        web.post(prefix + "/api/v2/auth/register/", register),
        web.post(prefix + "/api/v2/auth/refresh/", refresh),
        web.post(prefix + "/api/v2/auth/logout/", logout),
        web.get(prefix + "/api/v2/auth/session/", session),
        web.post(prefix + "/api/v2/auth/change-password/", change_password),
        web.get(prefix + "/api/v2/users/profile/", profile),
        web.patch(prefix + "/api/v2/users/profile/", update_profile),  # PUT too (core)
        web.post(prefix + "/api/v2/users/profile/avatar/", upload_avatar),
        web.get(prefix + "/api/v2/users/", list_users),
        web.patch(prefix + "/api/v2/users/{id}/", update_user),
    ]
