"""The apollo plugin: run Apollo.io search URLs on your own data.

Requires the ``contacts`` plugin (searches run through its service).
Registers ``POST /api/v2/apollo/analyze``, ``/contacts``, ``/contacts/count``
and ``/companies`` with their OpenAPI description, the settings section
``[apollo]``, and adds the hook ``register_apollo_mappings``
(``plugins.apollo.hookspecs``) through which other plugins map more Apollo
parameters or override a mapping.
"""

from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.settings import SettingsSection
from contacts_api.plugins.apollo import hookspecs, openapi, routes
from contacts_api.plugins.apollo.settings import ApolloSettings

requires = ["contacts"]


@hookimpl
def register_hookspecs():
    return [hookspecs]


@hookimpl
def register_settings():
    return [SettingsSection("apollo", ApolloSettings)]


@hookimpl
def register_routes(settings):
    return list(routes.routes)


@hookimpl
def register_openapi(settings, filters):
    return openapi.fragment()
