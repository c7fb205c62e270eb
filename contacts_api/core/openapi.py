"""The OpenAPI 3.1 document, assembled from every enabled plugin's fragment,
and helpers plugins use to describe their routes consistently."""

from typing import Any

from contacts_api.core.filters import FilterRegistry, FilterSpec

__all__ = [
    "ERROR_RESPONSES",
    "assemble",
    "error_response_refs",
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


def filter_parameters(registry: FilterRegistry) -> list[dict[str, Any]]:
    """OpenAPI query parameters for every filter of a registry (plugins' included)."""
    return [_filter_parameter(spec) for spec in registry.specs.values()]


def _merge(into: dict[str, Any], fragment: dict[str, Any], where: str) -> None:
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, f"{where}.{key}")
        elif key in into and into[key] != value:
            raise ValueError(f"OpenAPI fragments disagree at {where}.{key}")
        else:
            into[key] = value


V1_ONLY = (
    "A v1 credential only: on a v2 route (/api/v2/...) it is not a credential at all "
    "(401 NOT_AUTHENTICATED where one is needed)."
)


def assemble(fragments: list[dict[str, Any]], *, title: str, version: str) -> dict[str, Any]:
    """Merge fragments into one document (paths and components merged by name)."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Self-hosted B2B contacts and companies data API.",
        },
        "paths": {},
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "writeKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Contacts-Write-Key",
                    "description": V1_ONLY,
                },
                "readKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Contacts-Read-Key",
                    "description": V1_ONLY,
                },
            },
        },
        "tags": [],
    }
    tags: dict[str, dict[str, Any]] = {}
    for fragment in fragments:
        for tag in fragment.get("tags", []):
            tags.setdefault(tag["name"], tag)
        _merge(document, {k: v for k, v in fragment.items() if k != "tags"}, "")
    document["tags"] = sorted(tags.values(), key=lambda t: t["name"])
    return document
