"""The plugin's OpenAPI fragment: every route, its parameters (the registered
filters included, so third-party filters appear), bodies and responses."""

from typing import Any

from contacts_api.core.openapi import (
    error_response_refs,
    filter_parameters,
    json_body,
    json_response,
)
from contacts_api.plugins.contacts import attributes, schemas
from contacts_api.plugins.contacts.ordering import COMPANY_ORDERING, CONTACT_ORDERING

UUID_PARAM = {
    "name": "uuid",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def _q(name: str, schema: dict, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _page_params(fields: dict) -> list[dict[str, Any]]:
    return [
        _q(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
            "Page size (at most 100).",
        ),
        _q("page_size", {"type": "integer", "minimum": 1, "maximum": 100}, "Alias of limit."),
        _q("cursor", {"type": "string"}, "Opaque keyset cursor from next/previous."),
        _q("offset", {"type": "integer", "minimum": 0, "maximum": 10000}, "Rows to skip."),
        _q("page", {"type": "integer", "minimum": 1}, "1-based page number (with limit)."),
        _q(
            "ordering",
            {"type": "string"},
            "Comma list of " + ", ".join(fields) + ", each optionally '-' prefixed.",
        ),
        _q("include_count", {"type": "boolean"}, "Add the total count to the page."),
    ]


def _op(
    op_id: str,
    summary: str,
    tag: str,
    responses: dict,
    params=(),
    body=None,
    security=None,
    errors=(401, 422),
) -> dict[str, Any]:
    op = {
        "tags": [tag],
        "operationId": op_id,
        "summary": summary,
        "parameters": list(params),
        "responses": {**responses, **error_response_refs(*errors, 503)},
    }
    if body is not None:
        op["requestBody"] = json_body(body)
    if security:
        op["security"] = security
    return op


V1_READ = [{"writeKey": []}, {"readKey": []}, {"bearer": []}]
WRITE = [{"writeKey": []}]
BEARER = [{"bearer": []}]


def fragment(filters) -> dict[str, Any]:
    cf, kf = filter_parameters(filters.contacts), filter_parameters(filters.companies)
    ref = schemas.ref
    contact_list = [
        *cf,
        *_page_params(CONTACT_ORDERING),
        _q("view", {"type": "string", "enum": ["full", "simple"]}, "simple: slim rows."),
    ]
    company_list = [*kf, *_page_params(COMPANY_ORDERING)]
    count_uuids = [
        _q(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1000},
            "How many uuids.",
        ),
        _q("ordering", {"type": "string"}, "List order of the uuids."),
    ]
    ok = lambda name, what: {"200": json_response(what, ref(name))}  # noqa: E731
    paths: dict[str, Any] = {}

    def add(path, method, op):
        paths.setdefault(path, {})[method] = op

    for version, security in (("v1", V1_READ), ("v2", BEARER)):
        tag = "contacts"
        add(
            f"/api/{version}/contacts/",
            "get",
            _op(
                f"{version}ListContacts",
                "A page of contacts",
                tag,
                ok("ContactPage", "A page"),
                contact_list,
                security=security,
            ),
        )
        add(
            f"/api/{version}/contacts/{{uuid}}/",
            "get",
            _op(
                f"{version}GetContact",
                "A contact",
                tag,
                ok("Contact", "The contact"),
                [UUID_PARAM],
                security=security,
                errors=(401, 404),
            ),
        )
        add(
            f"/api/{version}/companies/",
            "get",
            _op(
                f"{version}ListCompanies",
                "A page of companies",
                "companies",
                ok("CompanyPage", "A page"),
                company_list,
                security=security,
            ),
        )
        add(
            f"/api/{version}/companies/{{uuid}}/",
            "get",
            _op(
                f"{version}GetCompany",
                "A company",
                "companies",
                ok("Company", "The company"),
                [UUID_PARAM],
                security=security,
                errors=(401, 404),
            ),
        )
    for kind, schema, tag in (
        ("contacts", "Contact", "contacts"),
        ("companies", "Company", "companies"),
    ):
        noun = kind[:-1] if kind == "contacts" else "company"
        add(
            f"/api/v1/{kind}/",
            "post",
            _op(
                f"create{schema}",
                f"Create a {noun}",
                tag,
                {"201": json_response("Created", ref(schema))},
                body=ref(f"{schema}Write"),
                security=WRITE,
                errors=(400, 403, 409, 422),
            ),
        )
        add(
            f"/api/v1/{kind}/{{uuid}}/",
            "patch",
            _op(
                f"update{schema}",
                f"Update a {noun} (partial; PUT is the same)",
                tag,
                ok(schema, "Updated"),
                [UUID_PARAM],
                body=ref(f"{schema}Write"),
                security=WRITE,
                errors=(400, 403, 404, 409, 422),
            ),
        )
        add(
            f"/api/v1/{kind}/{{uuid}}/",
            "delete",
            _op(
                f"delete{schema}",
                f"Delete a {noun}",
                tag,
                {"204": {"description": "Deleted"}},
                [UUID_PARAM],
                security=WRITE,
                errors=(403, 404),
            ),
        )
    counts = (
        ("/api/v1/contacts", cf, [], "Contacts", "contacts"),
        ("/api/v1/companies", kf, [], "Companies", "companies"),
        ("/api/v1/companies/{uuid}/contacts", cf, [UUID_PARAM], "CompanyContacts", "companies"),
    )
    for base, params, path_params, name, tag in counts:
        add(
            f"{base}/count/",
            "get",
            _op(
                f"count{name}",
                "Number of matching rows",
                tag,
                ok("Count", "The count"),
                [*path_params, *params],
                security=V1_READ,
            ),
        )
        add(
            f"{base}/count/uuids/",
            "get",
            _op(
                f"count{name}Uuids",
                "Count and the first uuids in list order",
                tag,
                ok("CountUuids", "Count and uuids"),
                [*path_params, *params, *count_uuids],
                security=V1_READ,
            ),
        )
    add(
        "/api/v1/companies/{uuid}/contacts/",
        "get",
        _op(
            "listCompanyContacts",
            "A page of a company's contacts",
            "companies",
            ok("ContactPage", "A page"),
            [UUID_PARAM, *contact_list],
            security=V1_READ,
            errors=(401, 404, 422),
        ),
    )
    value_params = [
        _q("search", {"type": "string"}, "Values containing it."),
        _q("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size."),
        _q("offset", {"type": "integer", "minimum": 0}, "Values to skip."),
        _q(
            "ordering",
            {"type": "string", "enum": list(attributes.ATTRIBUTE_ORDERINGS)},
            "Default -count.",
        ),
    ]
    for kind, names, registry in (
        ("contacts", attributes.CONTACT_ATTRIBUTES, filters.contacts),
        ("companies", attributes.COMPANY_ATTRIBUTES, filters.companies),
    ):
        own = filter_parameters(registry, exclude=("search",))
        for name in names:
            add(
                f"/api/v1/{kind}/{name}/",
                "get",
                _op(
                    f"{kind}Values{name.title().replace('_', '')}",
                    f"Distinct {name} values of the matching {kind}, with counts",
                    kind,
                    ok("AttributeValues", "Values"),
                    [*own, *value_params],
                    security=V1_READ,
                ),
            )
    return {
        "tags": [
            {"name": "contacts", "description": "People: search, counts, CRUD."},
            {"name": "companies", "description": "Companies: search, counts, CRUD."},
        ],
        "paths": paths,
        "components": {"schemas": schemas.SCHEMAS},
    }
