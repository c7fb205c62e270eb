"""The core's own routes: health, readiness, the OpenAPI document, the docs page
and the plugin list. Plugins add everything else."""

import asyncio
import html
from importlib import resources as package_files
from pathlib import Path
from typing import Any

from aiohttp import web

from contacts_api.core.appkeys import FILTERS, OPENAPI, PLUGINS, RESOURCES
from contacts_api.core.auth import get_actor, is_local
from contacts_api.core.errors import Forbidden
from contacts_api.core.jsonio import json_reply
from contacts_api.core.metrics import metrics_response
from contacts_api.core.openapi import (
    assemble,
    error_response_refs,
    filter_parameter_components,
    json_response,
)
from contacts_api.core.plugins import PluginError
from contacts_api.core.scopes import PUBLIC, requires_scope

__all__ = ["CORE_OPENAPI", "build_openapi_document", "core_routes", "docs_static_path"]

READY_TIMEOUT_S = 3.0
routes = web.RouteTableDef()


@routes.get("/health")
@requires_scope(PUBLIC)
async def health(request: web.Request) -> web.Response:
    return json_reply({"status": "ok"})


async def _check(probe: Any) -> str:
    try:
        await asyncio.wait_for(probe, READY_TIMEOUT_S)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # any failure means "not ready"; the name says which
        return f"error: {type(exc).__name__}"
    return "ok"


@routes.get("/ready")
@requires_scope(PUBLIC)
async def ready(request: web.Request) -> web.Response:
    res = request.app[RESOURCES]
    probes = {"database": res.db.ping(), "storage": res.storage.check()}
    if res.redis is not None:
        probes["redis"] = res.redis.ping()
    names = list(probes)
    results = await asyncio.gather(*(_check(probes[n]) for n in names))
    checks = dict(zip(names, results, strict=True))
    if res.redis is None:
        checks["redis"] = "not configured"
    failing = [name for name, state in checks.items() if state.startswith("error")]
    body: dict[str, Any] = {"status": "ok" if not failing else "unavailable", "checks": checks}
    if failing:
        body.update(
            error_code="SERVICE_UNAVAILABLE", detail=f"Not ready: {', '.join(failing)} unavailable."
        )
    return json_reply(body, status=503 if failing else 200)


@routes.get("/openapi.json")
@requires_scope(PUBLIC)
async def openapi(request: web.Request) -> web.Response:
    return json_reply(request.app[OPENAPI])


def build_openapi_document(app: web.Application) -> dict[str, Any]:
    """Assemble the document once, at app creation: disagreeing fragments fail boot."""
    filters = app[FILTERS]
    shared = {
        "components": {
            "parameters": filter_parameter_components(filters.contacts, filters.companies)
        }
    }
    fragments = [
        ("the core", CORE_OPENAPI),
        ("the core", shared),
        *(
            (f"plugin {name}", fragment)
            for name, fragment in app[PLUGINS].openapi_fragments(filters)
        ),
    ]
    try:
        return assemble(fragments, title="contacts-api", version=_version())
    except ValueError as exc:
        raise PluginError(str(exc)) from None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("contacts-api")
    except PackageNotFoundError:
        return "0.0.0+source"


def docs_static_path() -> Path:
    return Path(str(package_files.files("swagger_ui").joinpath("static")))


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true}});
</script></body></html>
"""


@routes.get("/docs")
@requires_scope(PUBLIC)
async def docs(request: web.Request) -> web.Response:
    page = DOCS_PAGE.format(title=html.escape("contacts-api documentation"))
    return web.Response(text=page, content_type="text/html")


@routes.get("/-/plugins")
@requires_scope("admin")
async def plugin_list(request: web.Request) -> web.Response:
    actor = await get_actor(request)
    if not (is_local(request) or (actor is not None and actor.is_admin)):
        raise Forbidden("Only administrators or local requests may list plugins.")
    return json_reply({"plugins": request.app[PLUGINS].describe()})


@routes.get("/metrics")
@requires_scope(PUBLIC)  # its own protection: server.metrics_token, else loopback only
async def metrics(request: web.Request) -> web.Response:
    return await metrics_response(request)


def core_routes() -> list[web.AbstractRouteDef]:
    return list(routes)


_STATUS = {"type": "object", "properties": {"status": {"type": "string"}}}
CORE_OPENAPI: dict[str, Any] = {
    "tags": [{"name": "service", "description": "Health, readiness and documents."}],
    "components": {
        "securitySchemes": {
            "metricsToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "server.metrics_token, for GET /metrics only.",
            }
        }
    },
    "paths": {
        "/health": {
            "get": {
                "tags": ["service"],
                "summary": "The process is serving",
                "operationId": "health",
                "responses": {"200": json_response("Serving", _STATUS)},
            }
        },
        "/ready": {
            "get": {
                "tags": ["service"],
                "summary": "Database, Redis and storage are reachable",
                "operationId": "ready",
                "responses": {
                    "200": json_response(
                        "Ready",
                        {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string"},
                                "checks": {"type": "object"},
                            },
                        },
                    ),
                    **error_response_refs(503),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "tags": ["service"],
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": json_response("The OpenAPI 3.1 document")},
            }
        },
        "/docs": {
            "get": {
                "tags": ["service"],
                "summary": "Interactive documentation (works offline)",
                "operationId": "docs",
                "responses": {
                    "200": {
                        "description": "An HTML page",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/metrics": {
            "get": {
                "tags": ["service"],
                "summary": "Prometheus metrics (metrics token, else local requests only)",
                "description": "The Prometheus text exposition format. With "
                "`server.metrics_token` set, send it as `Authorization: Bearer <token>`; "
                "without it, only loopback peers (and no forwarding proxy) are answered.",
                "operationId": "metrics",
                "security": [{}, {"metricsToken": []}],
                "responses": {
                    "200": {
                        "description": "The metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **error_response_refs(401, 403),
                },
            }
        },
        "/-/plugins": {
            "get": {
                "tags": ["service"],
                "summary": "Loaded plugins (admin or local requests)",
                "operationId": "listPlugins",
                "responses": {"200": json_response("The plugins"), **error_response_refs(403)},
            }
        },
    },
}
