"""The auth_jwt plugin: users with passwords, signed in with JWT bearer tokens.

Registers:

- routes ``POST /api/v2/auth/register|login|refresh|logout``, ``GET /api/v2/users/me``,
  ``PATCH /api/v2/users/me/profile``, ``POST /api/v2/users/me/password``,
  ``POST|DELETE /api/v2/users/me/avatar`` with ``GET /api/v2/users/avatars/{name}``
  (the signed links of local-storage avatars) and, for
  admins, ``GET /api/v2/users/``, ``GET|PATCH /api/v2/users/{id}`` (docs/api.md "Users"),
  with their OpenAPI description;
- migrations ``migrations/auth_jwt`` and the tables ``users``, ``user_profiles``,
  ``refresh_tokens``;
- the OpenAPI security scheme ``bearer``;
- an auth method: ``Authorization: Bearer <access token>`` authenticates as
  ``Actor(kind="user", id=<user id>, role=<the user's current role>)``;
- a settings check (``auth.jwt_secret`` long enough, bcrypt cost, limits);
- the command ``contacts-api users create|set-role``.
"""

from importlib import resources

from contacts_api.core.hookspecs import hookimpl
from contacts_api.plugins.auth_jwt import cli, openapi, routes, tables
from contacts_api.plugins.auth_jwt.checks import settings_problems
from contacts_api.plugins.auth_jwt.service import auth_service
from contacts_api.plugins.auth_jwt.tokens import ACCESS

# Bearer values of this shape are API keys (docs/api.md "Authentication"), which
# the auth_api_keys plugin resolves; a JWT never starts with it.
API_KEY_PREFIX = "cak_"

# The OpenAPI security scheme of this auth method.
SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}


@hookimpl
def register_routes(settings):
    return list(routes.routes)


@hookimpl
def register_openapi(settings, filters):
    fragment = openapi.fragment()
    fragment.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    return fragment


@hookimpl
def register_migrations():
    return [resources.files("contacts_api.migrations") / "auth_jwt"]


@hookimpl
def register_tables():
    return list(tables.ALL_TABLES)


@hookimpl
def actor_from_request(request, resources):
    """Bearer tokens. The signature and claims are checked here, synchronously
    (a bad token raises 401 ``INVALID_TOKEN`` whatever the other methods say);
    the user row is read only if no earlier method answered."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None  # no header, or another scheme a third-party plugin may own
    if token.strip().startswith(API_KEY_PREFIX):
        return None  # an API key (plugin auth_api_keys), never a JWT
    service = auth_service(resources)
    claims = service.tokens.decode(token.strip(), ACCESS)
    return lambda: service.actor(claims)


@hookimpl
def register_commands():
    return [cli.users_command()]


@hookimpl
def check_settings(settings):
    return settings_problems(settings)
