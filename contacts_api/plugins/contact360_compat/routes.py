"""Every route of the dialect, under the configured prefix."""

from aiohttp import web

from contacts_api import requires_scope
from contacts_api.core import routes as core_routes
from contacts_api.core.jsonio import json_reply
from contacts_api.plugins.contact360_compat import (
    routes_apollo,
    routes_auth,
    routes_data,
    routes_jobs,
)
from contacts_api.plugins.contact360_compat.config import prefix as configured_prefix
from contacts_api.plugins.contact360_compat.delegate import call_json
from contacts_api.plugins.contact360_compat.unsupported import unsupported_routes


@requires_scope("public")
async def api_info(request: web.Request) -> web.Response:
    """The app's ``GET /``: what is served here."""
    return json_reply(
        {
            "service": "contacts-api (Contact360 compatibility)",
            "status": "ok",
            "endpoints": {
                "contacts": "/api/v1/contacts/",
                "contacts_count": "/api/v1/contacts/count/",
                "health": "/api/v1/health/",
            },
        }
    )


@requires_scope("public")
async def health(request: web.Request) -> web.Response:
    """The app's health check: ``healthy`` and one boolean per dependency."""
    body = await call_json(core_routes.ready, request)
    checks = {name: state in ("ok", "not configured") for name, state in body["checks"].items()}
    status = "healthy" if body["status"] == "ok" else "unhealthy"
    return json_reply({"status": status, "checks": checks})


def all_routes(settings) -> list[web.RouteDef]:
    prefix = configured_prefix(settings)
    return [
        web.get(prefix + "/", api_info),
        web.get(prefix + "/api/v1/health/", health),
        *routes_auth.routes(prefix),
        *routes_data.routes(prefix),
        *routes_jobs.routes(prefix),
        *routes_apollo.routes(prefix),
        *unsupported_routes(prefix),
    ]
