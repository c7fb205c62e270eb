"""Every object the web app shares, under a typed key (aiohttp "No Singletons").

Handlers reach shared state only through these keys: ``request.app[RESOURCES]``.
"""

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from contacts_api.core.filters import FilterRegistry
    from contacts_api.core.plugins import Plugins
    from contacts_api.core.resources import Resources
    from contacts_api.core.settings import Settings
    from contacts_api.core.signing import Signer

__all__ = [
    "ACTOR",
    "FILTERS",
    "OPENAPI",
    "PLUGINS",
    "REQUEST_ID",
    "RESOURCES",
    "SETTINGS",
    "SIGNER",
    "STARTED",
    "resources_of",
    "settings_of",
]

SETTINGS: web.AppKey["Settings"] = web.AppKey("settings")
"""The effective settings (frozen)."""

PLUGINS: web.AppKey["Plugins"] = web.AppKey("plugins")
"""This app's plugin manager facade."""

RESOURCES: web.AppKey["Resources"] = web.AppKey("resources")
"""Database, Redis, cache, storage, task queue; filled in by the cleanup contexts."""

FILTERS: web.AppKey["FilterRegistries"] = web.AppKey("filters")
"""The contact and company filter registries built from every plugin's filters."""

SIGNER: web.AppKey["Signer"] = web.AppKey("signer")
"""Signs and checks cursors and links (``core.signing``)."""

OPENAPI: web.AppKey[dict[str, Any]] = web.AppKey("openapi")
"""The assembled OpenAPI document (built by ``create_app``)."""

REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
"""This request's id (echoed or generated), for logs and the response header."""

STARTED: web.RequestKey[float] = web.RequestKey("started")
"""``time.perf_counter()`` when the request reached the app (``X-Process-Time``)."""

ACTOR: web.RequestKey[Any] = web.RequestKey("actor")
"""Memoized answer of ``actor_from_request`` for this request (``core.auth``)."""


class FilterRegistries:
    """The registries of one app: ``contacts`` and ``companies``."""

    def __init__(self, contacts: "FilterRegistry", companies: "FilterRegistry"):
        self.contacts = contacts
        self.companies = companies


def resources_of(request: web.Request) -> "Resources":
    """The shared resources (database, Redis, cache, storage, tasks) of a request's app."""
    return request.app[RESOURCES]


def settings_of(request: web.Request) -> "Settings":
    """The effective settings of a request's app."""
    return request.app[SETTINGS]
