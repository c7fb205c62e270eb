"""contact360_compat: the API dialect of the original Contact360 web app.

The public Next.js frontend of the system this project re-creates
(``thekoushikdurgas/appointment``) speaks a slightly different dialect of the
same API: flat contacts, ``job_id`` instead of ``id``, its own status words,
sort keys and filter names. This plugin serves that dialect under a path
prefix (``[contact360_compat] prefix``, default ``/contact360``)
so the app works unchanged once its API base URL points there, while our own
routes and contract stay as they are.

Every handler translates the request, then calls the same service functions
(or the same route handlers, on a translated copy of the request) as our own
routes, and reshapes the answer: no rule is implemented twice. Routes of
features this project does not have answer a JSON 501 (``unsupported.py``).

Opt-in: listed in ``core.plugins.OPT_IN_PLUGINS``, loaded only when the
operator names it in ``plugins.opt_in``.
"""

from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.settings import SettingsSection
from contacts_api.plugins.contact360_compat import openapi, routes
from contacts_api.plugins.contact360_compat.config import (
    NAME,
    Contact360CompatSettings,
    settings_problems,
)

# It translates to the routes and services of these plugins.
requires = ["contacts", "imports", "exports", "apollo", "auth_jwt"]


@hookimpl
def register_settings():
    return [SettingsSection(NAME, Contact360CompatSettings)]


@hookimpl
def register_routes(settings):
    return routes.all_routes(settings)


@hookimpl
def register_openapi(settings, filters):
    return openapi.fragment(routes.all_routes(settings))


@hookimpl
def check_settings(settings):
    return settings_problems(settings)
