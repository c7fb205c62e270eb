"""Every route declares the scope of work it needs (core.scopes): the app's
whole router is walked, every built-in plugin (the opt-in ones included) and
the README's example plugin."""

import pytest
from aiohttp import web

from contacts_api import SCOPES, requires_scope
from contacts_api.core.app import create_app
from contacts_api.core.appkeys import PLUGINS
from contacts_api.core.plugins import BUILTIN_PLUGINS, OPT_IN_PLUGINS
from contacts_api.core.scopes import PUBLIC, declared_scope


def _undeclared(app: web.Application) -> list[str]:
    missing = []
    for route in app.router.routes():
        if route.method == "OPTIONS" or isinstance(route.resource, web.StaticResource):
            continue  # CORS preflights (aiohttp-cors) and the docs' static files
        if declared_scope(route.handler) is None:
            missing.append(f"{route.method} {route.resource.canonical}")
    return missing


def test_every_route_of_every_builtin_plugin_and_the_example_declares_a_scope(
    settings_factory, example_plugin_installed
):
    settings = settings_factory(CONTACTS_API__PLUGINS__OPT_IN=",".join(OPT_IN_PLUGINS))
    app = create_app(settings)
    loaded = {plugin["name"] for plugin in app[PLUGINS].describe()}
    assert set(BUILTIN_PLUGINS) | set(OPT_IN_PLUGINS) | {"example"} <= loaded
    assert _undeclared(app) == []
    assert len(list(app.router.routes())) > 100


def test_a_route_without_a_declaration_is_found(settings_factory):
    routes = web.RouteTableDef()

    @routes.get("/undeclared")
    async def undeclared(request):
        return web.Response()

    class Plugin:
        from contacts_api import hookimpl

        @hookimpl
        def register_routes(self, settings):
            return list(routes)

    app = create_app(settings_factory(), extra_plugins=[("undeclared", Plugin())])
    assert {"GET /undeclared", "HEAD /undeclared"} <= set(_undeclared(app))


def test_unknown_scopes_are_refused_when_declared():
    with pytest.raises(ValueError, match="unknown scope"):
        requires_scope("everything")
    assert PUBLIC not in SCOPES and set(SCOPES) == {"read", "write", "import", "export", "admin"}
