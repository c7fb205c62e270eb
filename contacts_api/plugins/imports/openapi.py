"""The OpenAPI fragment of the import routes."""

from __future__ import annotations

from typing import Any

from contacts_api.core.openapi import error_response_refs, json_response

_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
JOB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "status",
        "file_name",
        "total_rows",
        "total_rows_estimated",
        "processed_rows",
        "created_count",
        "updated_count",
        "error_count",
        "error",
        "warnings",
        "created_at",
        "started_at",
        "finished_at",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["pending", "processing", "completed", "failed"]},
        "file_name": {"type": "string"},
        "file_size": {"type": "integer", "description": "Bytes uploaded."},
        "total_rows": {
            **_NULLABLE_INT,
            "description": "Non-blank data rows of the file: counted or estimated from the"
            " file size as soon as the job starts (null while pending), exact once it ends.",
        },
        "total_rows_estimated": {
            "type": "boolean",
            "description": "Whether total_rows is an estimate (from the file size).",
        },
        "processed_rows": {"type": "integer"},
        "created_count": {"type": "integer"},
        "updated_count": {"type": "integer"},
        "error_count": {"type": "integer"},
        "error": {
            "type": ["string", "null"],
            "description": "Why the job failed (the file could not be read).",
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string", "format": "date-time"},
        "started_at": _NULLABLE_TIME,
        "finished_at": _NULLABLE_TIME,
    },
}
ERROR_ROW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["row_number", "message", "row"],
    "properties": {
        "row_number": {"type": "integer", "description": "Data rows count from 1."},
        "message": {"type": "string"},
        "row": {
            "type": "object",
            "description": "The row's cells keyed by header.",
            "additionalProperties": {"type": "string"},
        },
    },
}


def _page_of(ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["next", "previous", "results"],
        "properties": {
            "next": {"type": ["string", "null"]},
            "previous": {"type": ["string", "null"]},
            "results": {"type": "array", "items": {"$ref": ref}},
        },
    }


_CURSOR = {
    "name": "cursor",
    "in": "query",
    "required": False,
    "description": "Opaque token taken from a page's next or previous link.",
    "schema": {"type": "string"},
}
_PAGING = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
    },
    {
        "name": "page_size",
        "in": "query",
        "required": False,
        "description": "Alias of limit.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
    },
    {
        "name": "offset",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 0},
    },
    {
        "name": "page",
        "in": "query",
        "required": False,
        "description": "1-based, with limit.",
        "schema": {"type": "integer", "minimum": 1},
    },
]
_JOB_ID = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
_WRITE = [{"writeKey": []}]
_READ = [{"writeKey": []}, {"readKey": []}, {"bearer": []}]
_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The CSV file (docs/csv-format.md).",
                    }
                },
            },
            "encoding": {"file": {"contentType": "text/csv, application/octet-stream"}},
        }
    },
}


def fragment() -> dict[str, Any]:
    job_ref = "#/components/schemas/ImportJob"
    return {
        "tags": [{"name": "import", "description": "CSV import as background jobs."}],
        "components": {
            "schemas": {
                "ImportJob": JOB_SCHEMA,
                "ImportError": ERROR_ROW_SCHEMA,
                "ImportJobPage": _page_of(job_ref),
                "ImportErrorPage": _page_of("#/components/schemas/ImportError"),
            }
        },
        "paths": {
            "/api/v1/contacts/import/": {
                "post": {
                    "tags": ["import"],
                    "operationId": "importContacts",
                    "security": _WRITE,
                    "summary": "Upload a CSV file and import it in the background",
                    "requestBody": _UPLOAD_BODY,
                    "responses": {
                        "202": json_response("The job, pending", {"$ref": job_ref}),
                        **error_response_refs(400, 403, 413, 503),
                    },
                },
                "get": {
                    "tags": ["import"],
                    "operationId": "listImportJobs",
                    "security": _READ,
                    "summary": "Import jobs, newest first",
                    "parameters": [_CURSOR, *_PAGING],
                    "responses": {
                        "200": json_response(
                            "A page of jobs", {"$ref": "#/components/schemas/ImportJobPage"}
                        ),
                        **error_response_refs(401, 422),
                    },
                },
            },
            "/api/v1/contacts/import/{job_id}/": {
                "get": {
                    "tags": ["import"],
                    "operationId": "getImportJob",
                    "security": _READ,
                    "summary": "An import job and its progress",
                    "parameters": [_JOB_ID],
                    "responses": {
                        "200": json_response("The job", {"$ref": job_ref}),
                        **error_response_refs(401, 404),
                    },
                }
            },
            "/api/v1/contacts/import/{job_id}/errors/": {
                "get": {
                    "tags": ["import"],
                    "operationId": "listImportErrors",
                    "security": _READ,
                    "summary": "The rows an import job skipped, by row number",
                    "parameters": [_JOB_ID, *_PAGING],
                    "responses": {
                        "200": json_response(
                            "A page of row errors", {"$ref": "#/components/schemas/ImportErrorPage"}
                        ),
                        **error_response_refs(401, 404, 422),
                    },
                }
            },
        },
    }
