"""OpenAPI description of the Apollo routes."""

from contacts_api.core.openapi import error_response_refs, json_body, json_response
from contacts_api.plugins.apollo.parsing import MAX_URL_LENGTH

_URL = {
    "type": "string",
    "maxLength": MAX_URL_LENGTH,
    "description": "An Apollo.io search URL as pasted (https://app.apollo.io/#/people?...); "
    f"at most {MAX_URL_LENGTH:,} characters.",
}
_SEARCH_BODY = {
    "type": "object",
    "required": ["url"],
    "additionalProperties": False,
    "properties": {
        "url": _URL,
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
        "cursor": {"type": "string", "description": "`next` or `previous` of a previous answer"},
        "view": {"type": "string", "enum": ["full", "simple"]},
        "include_count": {"type": "boolean"},
    },
}
_URL_BODY = {
    "type": "object",
    "required": ["url"],
    "additionalProperties": False,
    "properties": {"url": _URL},
}
_REPORT = {
    "apollo_url": {"type": "string"},
    "applied_filters": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
    "applied_ordering": {
        "type": ["string", "null"],
        "description": "The `ordering` the URL's sortByField/sortAscending became "
        "(null: the default order).",
    },
    "page": {
        "type": ["integer", "null"],
        "description": "The URL's Apollo page (with the request's limit); null without one.",
    },
    "mapping_summary": {
        "type": "object",
        "properties": {
            "total_parameters": {"type": "integer"},
            "mapped_parameters": {"type": "integer"},
            "unmapped_parameters": {"type": "integer"},
        },
    },
    "warnings": {"type": "array", "items": {"type": "string"}},
    "unmapped_parameters": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "values": {"type": "array", "items": {"type": "string"}},
                "category": {"type": "string"},
                "reason": {"type": "string"},
            },
        },
    },
    "unmapped_categories": {"type": "array", "items": {"type": "string"}},
}


def _page(item: str) -> dict:
    return {
        "type": "object",
        "properties": {
            "next": {"type": ["string", "null"], "description": "cursor for the next page"},
            "previous": {"type": ["string", "null"], "description": "cursor for the previous page"},
            "count": {"type": "integer"},
            "results": {"type": "array", "items": {"type": "object", "description": item}},
            **_REPORT,
        },
    }


def _post(operation: str, summary: str, body: dict, answer: dict) -> dict:
    return {
        "post": {
            "tags": ["apollo"],
            "operationId": operation,
            "summary": summary,
            "description": "Everything is read from the JSON body: a query string "
            "parameter is refused (422).",
            "security": [{"bearer": []}],
            "requestBody": json_body(body),
            "responses": {
                "200": json_response(summary, answer),
                **error_response_refs(400, 401, 422, 503),
            },
        }
    }


def fragment() -> dict:
    analysis = {
        "type": "object",
        "properties": {
            "url": {"type": "string"},
            "page_type": {"type": "string", "enum": ["people", "companies"]},
            "parameters": {"type": "object"},
            "categories": {"type": "object"},
            "statistics": {"type": "object"},
            "warnings": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The repairs the search routes report for this URL.",
            },
        },
    }
    return {
        "tags": [{"name": "apollo", "description": "Run Apollo.io search URLs on your data."}],
        "paths": {
            "/api/v2/apollo/analyze": _post(
                "apolloAnalyze", "Parameters of an Apollo URL, by category", _URL_BODY, analysis
            ),
            "/api/v2/apollo/contacts": _post(
                "apolloContacts",
                "Contacts matching an Apollo search",
                _SEARCH_BODY,
                _page("Contact"),
            ),
            "/api/v2/apollo/contacts/count": _post(
                "apolloContactsCount",
                "How many contacts match",
                _URL_BODY,
                {"type": "object", "properties": {"count": {"type": "integer"}}},
            ),
            "/api/v2/apollo/companies": _post(
                "apolloCompanies",
                "Companies matching an Apollo search",
                _SEARCH_BODY,
                _page("Company"),
            ),
        },
    }
