"""The OpenAPI 3.1 document, assembled from every enabled plugin's fragment,
and helpers plugins use to describe their routes consistently.

The core declares no security scheme: each auth plugin declares its own in
its fragment (``components.securitySchemes``). A route's security alternative
that names a scheme no loaded plugin declares is dropped, so blocking an auth
plugin leaves no dangling reference.
"""

import copy
from typing import Any

from contacts_api.core.filters import FilterRegistry, FilterSpec

__all__ = [
    "ERROR_RESPONSES",
    "assemble",
    "error_response_refs",
    "filter_parameter_components",
    "filter_parameters",
    "json_body",
    "json_response",
]

_KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "choice": {"type": "string"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "datetime": {"type": "string", "description": "RFC 3339 timestamp or YYYY-MM-DD"},
    "uuid": {"type": "string", "format": "uuid"},
    "range": {"type": "string", "pattern": r"^\s*-?\d*\s*,\s*-?\d*\s*$"},
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail", "error_code"],
    "properties": {
        "detail": {"type": "string"},
        "error_code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}

ERROR_RESPONSES = {
    "400": "Malformed request",
    "401": "Not authenticated or invalid token",
    "403": "Forbidden",
    "404": "Not found",
    "409": "Conflict",
    "413": "Payload too large",
    "422": "Validation error",
    "429": "Rate limited",
    "503": "Service unavailable",
}


def error_response_refs(*statuses: int) -> dict[str, Any]:
    """Responses entries for the given error statuses, all using the Error schema."""
    return {
        str(status): {
            "description": ERROR_RESPONSES.get(str(status), "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def json_response(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": schema or {"type": "object"}}}
    return {"description": description, "content": content}


def json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _filter_parameter(spec: FilterSpec) -> dict[str, Any]:
    item = dict(_KIND_SCHEMAS[spec.kind])
    if spec.choices:
        item["enum"] = list(spec.choices)
    description = spec.description
    if spec.aliases:
        description += f" Aliases: {', '.join(spec.aliases)}."
    if spec.multiple and spec.kind != "range":
        description += " Repeat it or give a comma list; values are ORed."
    schema = {"type": "array", "items": item} if spec.multiple else item
    return {
        "name": spec.name,
        "in": "query",
        "required": False,
        "description": description.strip(),
        "schema": schema,
        "style": "form",
        "explode": True,
    }


def _component_name(registry: FilterRegistry, spec: FilterSpec) -> str:
    return f"{registry.resource}Filter.{spec.name}"


def filter_parameters(
    registry: FilterRegistry, exclude: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """References to the query parameters of every filter of a registry
    (plugins' included), for a route's ``parameters``. The parameters
    themselves are declared once, in ``components/parameters``
    (``filter_parameter_components``): a document listing 58 filters on a
    dozen routes stays small. ``exclude``: filter names a route uses otherwise."""
    return [
        {"$ref": f"#/components/parameters/{_component_name(registry, spec)}"}
        for spec in registry.specs.values()
        if spec.name not in exclude
    ]


def filter_parameter_components(*registries: FilterRegistry) -> dict[str, dict[str, Any]]:
    """``components/parameters`` entries for every filter of these registries."""
    return {
        _component_name(registry, spec): _filter_parameter(spec)
        for registry in registries
        for spec in registry.specs.values()
    }


def _merge(into: dict[str, Any], fragment: dict[str, Any], where: str, origin: str) -> None:
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, f"{where}.{key}", origin)
        elif key in into and into[key] != value:
            raise ValueError(f"{origin}: OpenAPI fragment disagrees with another at {where}.{key}")
        else:
            # A copy: later fragments merge into it, and this one may be a
            # plugin's module-level constant shared by every app.
            into[key] = copy.deepcopy(value)


def _drop_unknown_security(document: dict[str, Any]) -> None:
    known = set(document["components"].get("securitySchemes", {}))
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "security" not in operation:
                continue
            kept = [alt for alt in operation["security"] if set(alt) <= known]
            if kept or not operation["security"]:
                operation["security"] = kept


def assemble(
    fragments: list[tuple[str, dict[str, Any]]], *, title: str, version: str
) -> dict[str, Any]:
    """Merge ``(origin, fragment)`` pairs into one document (paths and
    components merged by name). Fragments that disagree fail with a
    ``ValueError`` naming the later one's origin (``"plugin contacts"``)."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Self-hosted B2B contacts and companies data API.",
        },
        "paths": {},
        "components": {"schemas": {"Error": ERROR_SCHEMA}},
        "tags": [],
    }
    tags: dict[str, dict[str, Any]] = {}
    for origin, fragment in fragments:
        for tag in fragment.get("tags", []):
            tags.setdefault(tag["name"], tag)
        _merge(document, {k: v for k, v in fragment.items() if k != "tags"}, "", origin)
    document["tags"] = sorted(tags.values(), key=lambda t: t["name"])
    _drop_unknown_security(document)
    return document
