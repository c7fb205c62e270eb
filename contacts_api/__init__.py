"""contacts-api: a self-hosted B2B contacts and companies data API.

This module is the public surface for plugin authors, in the way datasette's
plugins write ``from datasette import hookimpl``::

    from contacts_api import FilterSpec, hookimpl, require_actor

Everything named in ``__all__`` is part of the plugin contract and keeps its
meaning across minor versions. Anything imported from deeper modules
(``contacts_api.core.*``, ``contacts_api.plugins.*``) is internal, except each
built-in plugin's ``service`` module, which is that plugin's public API for
plugins that declare it in ``requires``. ``contacts_api.testing`` starts the
app with given plugins against a test database, for a plugin's own tests.

Names are resolved on first use (PEP 562), so ``import contacts_api.core.x``
stays cheap and free of import cycles.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it
_PUBLIC: dict[str, str] = {
    # the hook markers
    "hookimpl": "contacts_api.core.hookspecs",
    "hookspec": "contacts_api.core.hookspecs",
    # authentication
    "Actor": "contacts_api.core.auth",
    "get_actor": "contacts_api.core.auth",
    "require_actor": "contacts_api.core.auth",
    "require_admin": "contacts_api.core.auth",
    "require_owner": "contacts_api.core.auth",
    "require_v1_read": "contacts_api.plugins.auth_write_key.access",
    "require_v1_write": "contacts_api.plugins.auth_write_key.access",
    # what each route asks of its caller (API key scopes, request budgets)
    "requires_scope": "contacts_api.core.scopes",
    "SCOPES": "contacts_api.core.scopes",
    # filters
    "FilterSpec": "contacts_api.core.filters",
    "Range": "contacts_api.core.filters",
    "TimeBound": "contacts_api.core.filters",
    # errors, in docs/api.md's shape
    "ApiError": "contacts_api.core.errors",
    "BadRequest": "contacts_api.core.errors",
    "Conflict": "contacts_api.core.errors",
    "Forbidden": "contacts_api.core.errors",
    "InvalidToken": "contacts_api.core.errors",
    "NotAuthenticated": "contacts_api.core.errors",
    "NotFound": "contacts_api.core.errors",
    "ValidationError": "contacts_api.core.errors",
    "field_error": "contacts_api.core.errors",
    # requests and the OpenAPI fragments that describe them
    "read_json": "contacts_api.core.requests",
    "query_int": "contacts_api.core.requests",
    "path_uuid": "contacts_api.core.requests",
    "error_response_refs": "contacts_api.core.openapi",
    "json_body": "contacts_api.core.openapi",
    "json_response": "contacts_api.core.openapi",
    # what plugins register besides routes and filters
    "Command": "contacts_api.core.cli",
    "ResourceSpec": "contacts_api.core.resources",
    "TaskSpec": "contacts_api.core.tasks",
    "resources_of": "contacts_api.core.appkeys",
    "settings_of": "contacts_api.core.appkeys",
    # a plugin's own settings section (register_settings)
    "Secret": "contacts_api.core.settings",
    "SettingsSection": "contacts_api.core.settings",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'contacts_api' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
