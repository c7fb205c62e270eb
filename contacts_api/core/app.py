"""The application factory: ``create_app(settings)`` builds a fresh app, with its
own plugin manager, resources and routes, and nothing global."""

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import aiohttp_cors
from aiohttp import web

from contacts_api.core.access import access_middleware, stamp_budget_headers, warn_undeclared
from contacts_api.core.appkeys import (
    FILTERS,
    OPENAPI,
    PLUGINS,
    RESOURCES,
    SETTINGS,
    SIGNER,
    FilterRegistries,
)
from contacts_api.core.logredact import install_log_redaction
from contacts_api.core.metrics import metrics_middleware
from contacts_api.core.middlewares import (
    body_timeout_middleware,
    errors_middleware,
    observe_middleware,
    stamp_headers,
    trusted_hosts_middleware,
)
from contacts_api.core.migrations import apply_migrations
from contacts_api.core.plugins import PluginError, Plugins
from contacts_api.core.resources import Resources, ResourceSpec, attach, resource_specs
from contacts_api.core.routes import build_openapi_document, core_routes, docs_static_path
from contacts_api.core.serving import serve_with_limits
from contacts_api.core.settings import Settings
from contacts_api.core.signing import Signer

__all__ = ["create_app"]

log = logging.getLogger("contacts_api")


def create_app(
    settings: Settings,
    *,
    extra_plugins: Iterable[tuple[str, object]] = (),
    plugins: Plugins | None = None,
) -> web.Application:
    """Build the web application. ``extra_plugins`` registers plugin objects by
    name (tests); installed plugins are found through their entry points.
    The app's settings are these with the plugins' sections typed."""
    plugins = plugins or Plugins.load(settings, extra=extra_plugins)
    settings = plugins.typed(settings)
    problems = plugins.settings_problems()
    if problems:
        raise PluginError("invalid settings: " + "; ".join(problems))
    install_log_redaction()  # unparsable requests: no client bytes in the log

    middlewares = [
        observe_middleware(settings.server),
        metrics_middleware(),
        body_timeout_middleware(settings.server.body_read_timeout_s),
    ]
    if settings.server.trusted_hosts:
        middlewares.append(trusted_hosts_middleware(settings.server.trusted_hosts))
    middlewares.append(errors_middleware)
    middlewares.append(access_middleware(settings))  # scopes and budgets (core.access)

    app = web.Application(middlewares=middlewares, client_max_size=settings.server.max_body_bytes)
    serve_with_limits(app, settings)  # connection cap, JSON answers to unparsable requests
    app[SETTINGS] = settings
    app[PLUGINS] = plugins
    app[SIGNER] = Signer(settings)
    app[FILTERS] = FilterRegistries(
        plugins.filter_registry("contact"), plugins.filter_registry("company")
    )
    resources = Resources(settings=settings, plugins=plugins, role="web")
    app[RESOURCES] = resources

    if settings.migrate_on_startup:
        app.cleanup_ctx.append(_migrate(settings, plugins))
    for spec in resource_specs(resources):
        app.cleanup_ctx.append(_resource_ctx(resources, spec))
    app.on_startup.append(_plugin_startup)
    app.on_response_prepare.append(stamp_headers)
    app.on_response_prepare.append(stamp_budget_headers)

    _add_routes(app, [*core_routes(), *plugins.routes()])
    warn_undeclared(app)
    app.router.add_static("/docs/static", docs_static_path(), name="docs-static")
    app[OPENAPI] = build_openapi_document(app)
    _setup_cors(app, settings.server.cors_origins)
    return app


def _migrate(settings: Settings, plugins: Plugins) -> Callable[[web.Application], Any]:
    async def migrate(app: web.Application) -> AsyncIterator[None]:
        await apply_migrations(settings.database.url.reveal(), plugins.migration_folders())
        yield

    return migrate


def _resource_ctx(resources: Resources, spec: ResourceSpec) -> Callable[[web.Application], Any]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with spec.open(resources) as value:
            attach(resources, spec.name, value)
            yield

    ctx.__name__ = f"resource_{spec.name}"
    return ctx


async def _plugin_startup(app: web.Application) -> None:
    await app[PLUGINS].startup(app, app[RESOURCES])


def _variants(path: str) -> list[str]:
    """docs/api.md: every route answers with and without a trailing slash."""
    bare = path.rstrip("/") or "/"
    return [bare] if bare == "/" else [bare, bare + "/"]


def _add_routes(app: web.Application, definitions: list[web.AbstractRouteDef]) -> None:
    """Register every route, all methods of one path on ONE aiohttp resource.

    aiohttp matches a request to the first resource whose path fits, so two
    resources with the same path (one per method, as ``router.add_route``
    makes when the definitions are not adjacent) break CORS: the preflight is
    answered by the first resource, which knows only its own methods.
    """
    resources: dict[str, web.Resource] = {}
    for definition in definitions:
        if not isinstance(definition, web.RouteDef):
            definition.register(app.router)
            continue
        methods = [definition.method]
        if definition.method == "PATCH":  # docs/api.md: PUT is accepted wherever PATCH is
            methods.append("PUT")
        kwargs = dict(definition.kwargs)
        name = kwargs.pop("name", None)
        allow_head = kwargs.pop("allow_head", True)
        if definition.method == "GET" and allow_head:  # as aiohttp's own add_get does
            methods.append("HEAD")
        for index, path in enumerate(_variants(definition.path)):
            resource = resources.get(path)
            if resource is None:
                resource = resources[path] = app.router.add_resource(
                    path, name=name if index == 0 else None
                )
            for method in methods:
                resource.add_route(method, definition.handler, **kwargs)


def _setup_cors(app: web.Application, origins: list[str]) -> None:
    """Answer CORS preflights on every route, for each of its methods.

    With no configured origin the preflight is still answered (a JSON 403
    naming the refused origin) rather than a bare 405 that reads like a
    missing route.
    """
    options = aiohttp_cors.ResourceOptions(
        allow_credentials=True,
        expose_headers=("X-Request-ID", "X-Process-Time"),
        allow_headers="*",
        max_age=600,
    )
    cors = aiohttp_cors.setup(app, defaults={origin: options for origin in origins})
    for route in list(app.router.routes()):
        if not isinstance(route.resource, web.StaticResource):
            cors.add(route)
