"""The explorer: a page for people, served by the app (docs/api.md "Explorer").

The ``explorer`` built-in plugin registers the routes ``GET /explorer/`` (the
page), ``GET /`` (a redirect to it) and the page's static files under
``/explorer/static/`` (``routes``), with their OpenAPI description
(``openapi``). It adds no table, task or setting.

The page is the API's first client: it signs in with the v2 login and does
everything through the same JSON routes API clients use (contacts, Apollo,
import, export, and their progress events). Its files are plain HTML, CSS and
JavaScript modules in ``static/``: no build step, no third-party request, and
a Content-Security-Policy that allows nothing but this server. Operators who
do not want it block it: ``plugins.blocked = ["explorer"]``.
"""

from contacts_api.core.hookspecs import hookimpl


@hookimpl
def register_routes(settings):
    from contacts_api.plugins.explorer.routes import routes

    return list(routes)


@hookimpl
def register_openapi(settings, filters):
    from contacts_api.plugins.explorer.openapi import fragment

    return fragment()
