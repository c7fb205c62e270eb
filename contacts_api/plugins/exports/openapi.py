"""OpenAPI description of the export routes."""

from contacts_api.core.openapi import error_response_refs, json_body, json_response

EXPORT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "kind": {
            "type": "string",
            "enum": ["contacts", "companies"],
            "description": "What the export's rows are: contacts, or companies.",
        },
        "status": {"type": "string", "enum": ["pending", "processing", "completed", "failed"]},
        "row_count": {"type": "integer"},
        "file_name": {"type": "string"},
        "error": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
REQUEST = {
    "type": "object",
    "description": "Exactly one of the three fields.",
    "properties": {
        "contact_uuids": {
            "type": "array",
            "items": {"type": "string", "format": "uuid"},
            "minItems": 1,
            "maxItems": 100000,
        },
        "filters": {
            "type": "object",
            "description": "Contact filters (the list route's "
            "query parameters) as an object of lists.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "apollo_url": {
            "type": "string",
            "description": "An Apollo.io people search URL (needs the apollo plugin).",
        },
    },
    "additionalProperties": False,
}
COMPANIES_REQUEST = {
    "type": "object",
    "description": "Exactly one of the three fields.",
    "properties": {
        "company_uuids": {
            "type": "array",
            "items": {"type": "string", "format": "uuid"},
            "minItems": 1,
            "maxItems": 100000,
        },
        "filters": {
            "type": "object",
            "description": "Company filters (the companies list route's query parameters, "
            "plugins' filters included) as an object of lists.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "apollo_url": {
            "type": "string",
            "description": "An Apollo.io `#/companies` search URL, or a `#/people` URL "
            "whose organization filters are used (needs the apollo plugin).",
        },
    },
    "additionalProperties": False,
}
_ID = {
    "name": "export_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
_TAG = ["exports"]
_BEARER = [{"bearer": []}]


def fragment() -> dict:
    page = {
        "type": "object",
        "properties": {
            "next": {"type": ["string", "null"]},
            "previous": {"type": ["string", "null"]},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Export"}},
        },
    }
    export_ref = {"$ref": "#/components/schemas/Export"}
    return {
        "tags": [{"name": "exports", "description": "CSV exports of contacts or companies."}],
        "components": {"schemas": {"Export": EXPORT}},
        "paths": {
            "/api/v2/exports/contacts/export": {
                "post": {
                    "tags": _TAG,
                    "operationId": "createExport",
                    "security": _BEARER,
                    "summary": "Export contacts as CSV in the background",
                    "requestBody": json_body(REQUEST),
                    "responses": {
                        "202": json_response("The export, pending", export_ref),
                        **error_response_refs(400, 401, 422),
                    },
                }
            },
            "/api/v2/exports/companies/export": {
                "post": {
                    "tags": _TAG,
                    "operationId": "createCompaniesExport",
                    "security": _BEARER,
                    "summary": "Export companies as CSV in the background",
                    "description": "One row per company: the company columns of the "
                    "contacts CSV, then `uuid` and `contacts_count`. The export's `kind` "
                    "is `companies`; progress, download and lifetime are those of "
                    "contact exports.",
                    "requestBody": json_body(COMPANIES_REQUEST),
                    "responses": {
                        "202": json_response("The export, pending", export_ref),
                        **error_response_refs(400, 401, 422),
                    },
                }
            },
            "/api/v2/exports": {
                "get": {
                    "tags": _TAG,
                    "operationId": "listExports",
                    "security": _BEARER,
                    "summary": "Your exports, newest first",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": json_response("A page", page),
                        **error_response_refs(401, 422),
                    },
                }
            },
            "/api/v2/exports/{export_id}": {
                "get": {
                    "tags": _TAG,
                    "operationId": "getExport",
                    "security": _BEARER,
                    "summary": "One of your exports",
                    "parameters": [_ID],
                    "responses": {
                        "200": json_response("The export", export_ref),
                        **error_response_refs(401, 404),
                    },
                }
            },
            "/api/v2/exports/{export_id}/download": {
                "get": {
                    "tags": _TAG,
                    "operationId": "downloadExport",
                    "security": _BEARER,
                    "summary": "A fresh, expiring download URL of a completed export",
                    "parameters": [_ID],
                    "responses": {
                        "200": json_response(
                            "The URL",
                            {
                                "type": "object",
                                "properties": {
                                    "download_url": {"type": "string"},
                                    "expires_at": {"type": "string", "format": "date-time"},
                                },
                            },
                        ),
                        **error_response_refs(401, 404, 409),
                    },
                }
            },
            "/api/v2/exports/{export_id}/file": {
                "get": {
                    "tags": _TAG,
                    "operationId": "exportFile",
                    "summary": "The CSV of a local-storage export, on a signed link",
                    "parameters": [
                        _ID,
                        {
                            "name": "token",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The CSV file",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        **error_response_refs(403, 404),
                    },
                }
            },
        },
    }
