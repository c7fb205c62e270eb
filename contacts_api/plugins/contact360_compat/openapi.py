"""The OpenAPI fragment of the dialect: one entry per route, from the route
list itself (so it cannot drift), tagged ``contact360_compat``."""

import re
from typing import Any

from aiohttp import web

from contacts_api.core.openapi import error_response_refs, json_response
from contacts_api.plugins.contacts.routes_common import UUID_PATH

TAG = "contact360_compat"
_PARAM = re.compile(r"\{(\w+)\}")
_DESCRIPTION = (
    "The API dialect of the original Contact360 web app, on this server's services "
    "(opt-in; see the README). Shapes follow that app, not docs/api.md."
)


def _path(template: str) -> str:
    """``{uuid:<regex>}`` -> ``{uuid}`` (the only regex parameter used here)."""
    return template.replace(UUID_PATH, "{uuid}")


def _summary(definition: web.RouteDef) -> str:
    doc = (definition.handler.__doc__ or "").strip().splitlines()
    return doc[0].rstrip(".") if doc else f"{definition.method} {_path(definition.path)}"


def fragment(definitions: list[web.RouteDef]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for definition in definitions:
        path = _path(definition.path)
        if ":" in path:  # a new regex parameter: teach _path() its name
            raise ValueError(f"{path}: a path parameter with a regex _path() does not know")
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAM.findall(path)
        ]
        operation: dict[str, Any] = {
            "tags": [TAG],
            "summary": _summary(definition),
            "security": [{"bearer": []}],
            "responses": {
                "2XX": json_response("The answer, in the app's dialect"),
                **error_response_refs(401, 403, 404, 422),
                "501": {"description": "A feature this server does not have"},
            },
        }
        if parameters:
            operation["parameters"] = parameters
        paths.setdefault(path, {})[definition.method.lower()] = operation
    return {"tags": [{"name": TAG, "description": _DESCRIPTION}], "paths": paths}
