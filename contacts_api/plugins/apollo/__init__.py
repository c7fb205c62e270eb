"""The apollo plugin: run Apollo.io search URLs on your own data.

Registers ``POST /api/v2/apollo/analyze``, ``/contacts``, ``/contacts/count``
and ``/companies`` with their OpenAPI description, and adds the hook
``register_apollo_mappings`` (``plugins.apollo.hookspecs``) through which
other plugins map more Apollo parameters or override a mapping.
"""

from contacts_api.core.hookspecs import hookimpl
from contacts_api.plugins.apollo import hookspecs, openapi, routes

__all__ = ["hookspecs"]


@hookimpl
def register_routes(settings):
    return list(routes.routes)


@hookimpl
def register_openapi(settings, filters):
    return openapi.fragment()
