"""The OpenAPI fragment of the API-key routes and the ``apiKey`` security scheme."""

from typing import Any

from contacts_api.core.openapi import error_response_refs, json_body, json_response
from contacts_api.core.scopes import SCOPES

__all__ = ["SECURITY_SCHEMES", "fragment"]

SECURITY_SCHEMES = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "cak_<id>_<secret>",
        "description": "A user's API key (`Authorization: Bearer cak_...`), on v1 and v2 "
        "routes, within its scopes (403 INSUFFICIENT_SCOPE outside them).",
    }
}
CALLER = [{"bearer": []}, {"apiKey": []}]
TIME = {"type": ["string", "null"], "format": "date-time"}
SCOPE_LIST = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "string", "enum": list(SCOPES)},
}
KEY_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "format": "uuid"},
    "name": {"type": "string"},
    "scopes": SCOPE_LIST,
    "created_at": {"type": "string", "format": "date-time"},
    "expires_at": TIME,
    "last_used_at": TIME,
}
KEY_FIELDS = ("id", "name", "scopes", "created_at", "expires_at", "last_used_at")
SCHEMAS = {
    "ApiKey": {
        "type": "object",
        "properties": KEY_PROPERTIES,
        "required": list(KEY_FIELDS),
        "additionalProperties": False,
    },
    "NewApiKey": {
        "type": "object",
        "properties": {
            **KEY_PROPERTIES,
            "key": {"type": "string", "description": "The secret key, shown only here."},
        },
        "required": [*KEY_FIELDS, "key"],
        "additionalProperties": False,
    },
    "ApiKeyPage": {
        "type": "object",
        "properties": {
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}}
        },
        "required": ["results"],
    },
}
CREATE_BODY = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "scopes": SCOPE_LIST,
        "expires_at": TIME,
    },
    "required": ["name", "scopes"],
    "additionalProperties": False,
}


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _op(op_id: str, summary: str, responses: dict, *errors: int, **extra: Any) -> dict:
    return {
        "tags": ["api keys"],
        "operationId": op_id,
        "summary": summary,
        "security": CALLER,
        "responses": {**responses, **error_response_refs(401, 403, 429, *errors)},
        **extra,
    }


def fragment() -> dict[str, Any]:
    page = json_response(
        "The keys (revoked ones are not listed)", {"$ref": "#/components/schemas/ApiKeyPage"}
    )
    gone = {"204": {"description": "Revoked: the key stops working at once"}}
    return {
        "tags": [{"name": "api keys", "description": "Users' API keys (plugin auth_api_keys)."}],
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
        "paths": {
            "/api/v2/users/me/api-keys": {
                "get": _op("listOwnApiKeys", "The caller's API keys", {"200": page}),
                "post": _op(
                    "createApiKey",
                    "Create an API key (its secret is shown once)",
                    {
                        "201": json_response(
                            "The key, with its secret", {"$ref": "#/components/schemas/NewApiKey"}
                        )
                    },
                    400,
                    409,
                    422,
                    requestBody=json_body(CREATE_BODY),
                    description="With a user's bearer token only (403 with an API key). "
                    "Scopes never exceed the owner's role (`import` and `admin` are for "
                    "administrators); 409 at 25 active keys.",
                ),
            },
            "/api/v2/users/me/api-keys/{id}": {
                "delete": _op(
                    "revokeOwnApiKey",
                    "Revoke one of the caller's keys (a key revokes only itself)",
                    gone,
                    404,
                    parameters=[_id("id")],
                )
            },
            "/api/v2/users/{id}/api-keys": {
                "get": _op(
                    "listUserApiKeys",
                    "A user's API keys (admin)",
                    {"200": page},
                    parameters=[_id("id")],
                )
            },
            "/api/v2/users/{id}/api-keys/{key_id}": {
                "delete": _op(
                    "revokeUserApiKey",
                    "Revoke a user's key (admin)",
                    gone,
                    404,
                    parameters=[_id("id"), _id("key_id")],
                )
            },
        },
    }
