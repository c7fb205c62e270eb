"""The auth_api_keys plugin: users' API keys with scopes (docs/api.md "Authentication").

Registers:

- an auth method: ``Authorization: Bearer cak_<id>_<secret>`` on v1 and v2
  routes authenticates as ``Actor(kind="api_key", id=<owner's user id>,
  role=<owner's current role>, scopes=<the key's scopes within that role>)``;
  the core refuses a route outside the scopes (403 ``INSUFFICIENT_SCOPE``,
  ``core.scopes``) and counts the key's own request budget (``core.budgets``);
- routes ``GET|POST /api/v2/users/me/api-keys``,
  ``DELETE /api/v2/users/me/api-keys/{id}`` and, for administrators,
  ``GET /api/v2/users/{id}/api-keys``, ``DELETE /api/v2/users/{id}/api-keys/{key_id}``;
- migrations ``migrations/auth_api_keys`` and the table ``api_keys``;
- the OpenAPI security scheme ``apiKey``;
- the command ``contacts-api api-keys create EMAIL --scopes read,write``.

It builds on auth_jwt's users (``requires``): a key acts as its owner, and
stops working when the owner is deactivated.
"""

from importlib import resources

from contacts_api.core.hookspecs import hookimpl
from contacts_api.plugins.auth_api_keys import cli, openapi, routes, tables
from contacts_api.plugins.auth_api_keys.keys import PREFIX
from contacts_api.plugins.auth_api_keys.service import api_keys_service

requires = ["auth_jwt"]


@hookimpl
def register_routes(settings):
    return list(routes.routes)


@hookimpl
def register_openapi(settings, filters):
    return openapi.fragment()


@hookimpl
def register_migrations():
    return [resources.files("contacts_api.migrations") / "auth_api_keys"]


@hookimpl
def register_tables():
    return list(tables.ALL_TABLES)


@hookimpl(tryfirst=True)
def actor_from_request(request, resources):
    """Bearer values that start with ``cak_``: an unknown, malformed, revoked
    or expired key is 401 ``INVALID_TOKEN``, never anonymous."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(PREFIX):
        return None
    return lambda: api_keys_service(resources).actor(token)


@hookimpl
def register_commands():
    return [cli.api_keys_command()]


@hookimpl
def check_settings(settings):
    if not (settings.server.signing_secret or settings.auth.jwt_secret):
        return [
            "auth_api_keys needs server.signing_secret (SIGNING_SECRET) or auth.jwt_secret "
            "(JWT_SECRET): API keys are hashed with a key derived from it"
        ]
    return []
