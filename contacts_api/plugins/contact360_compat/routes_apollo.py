"""Apollo URLs in the app's dialect: categories as an array, ``offset`` and the
include/exclude company and domain refinements in the query string.

The URL is read by the apollo plugin (``cached_search``); the refinements are
our own contact filters of the same names, added to the URL's filters and
parsed by the same registry; the page comes from the contacts service.
"""

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from contacts_api import requires_scope
from contacts_api.core.appkeys import FILTERS, RESOURCES, SIGNER
from contacts_api.core.auth import require_actor
from contacts_api.core.errors import ValidationError, field_error
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import query_int, read_json
from contacts_api.plugins.apollo import routes as apollo_routes
from contacts_api.plugins.apollo.search import cached_search
from contacts_api.plugins.contact360_compat import shapes
from contacts_api.plugins.contact360_compat.delegate import call_json
from contacts_api.plugins.contacts import service

REFINEMENTS = (
    "include_company_name",
    "exclude_company_name",
    "include_domain_list",
    "exclude_domain_list",
)
PAGE_PARAMS = ("limit", "offset", "cursor", "view")


def _check_query(request: web.Request, allowed: tuple[str, ...]) -> None:
    unknown = [name for name in request.query if name not in allowed]
    if unknown:
        raise ValidationError(
            [field_error(("query", n), "unknown parameter", "extra") for n in unknown]
        )


@requires_scope("read")
async def analyze(request: web.Request) -> web.Response:
    """Our analysis with ``categories`` as the array the app maps over."""
    body = await call_json(apollo_routes.analyze, request)
    categories = [
        {
            "name": name,
            "parameters": [
                {"name": key, "values": values, "description": key, "category": name}
                for key, values in parameters.items()
            ],
            "total_parameters": len(parameters),
        }
        for name, parameters in body["categories"].items()
    ]
    parts = urlsplit(body["url"])
    hash_path, _, hash_query = parts.fragment.partition("?")
    query_string = hash_query or parts.query or None
    return json_reply(
        {
            "url": body["url"],
            "page_type": body.get("page_type"),
            "url_structure": {
                "base_url": f"{parts.scheme}://{parts.netloc}{parts.path}",
                "hash_path": hash_path or None,
                "query_string": query_string,
                "has_query_params": bool(query_string),
            },
            "categories": categories,
            "statistics": {
                "total_parameters": body["statistics"]["total_parameters"],
                "total_parameter_values": body["statistics"]["total_values"],
                "categories_used": body["statistics"]["categories_used"],
                "categories": [c["name"] for c in categories],
            },
            "raw_parameters": body["parameters"],
            "warnings": body.get("warnings", []),
        }
    )


async def _search(request: web.Request, allowed: tuple[str, ...]):
    """The Apollo search of the body's URL and its filters plus the refinements."""
    await require_actor(request)
    _check_query(request, allowed)
    body = await read_json(request)
    extra = [k for k in body if k != "url"]
    if extra:
        raise ValidationError([field_error(("body", k), "unknown field", "extra") for k in extra])
    search = await cached_search(request.app[RESOURCES], body.get("url"))
    mapping: dict[str, list[str]] = {
        k: list(v) for k, v in search.query_filters("contacts").items()
    }
    for name in REFINEMENTS:
        for value in request.query.getall(name, []):
            mapping.setdefault(name, []).append(value)
    registry = request.app[FILTERS].contacts
    try:
        applied = registry.parse_mapping(mapping, location="apollo")
    except ValidationError as exc:
        raise ValidationError(
            exc.errors, f"The Apollo URL maps to filters that cannot be applied: {exc.detail}"
        ) from None
    return search, applied


def _report(search) -> dict[str, Any]:
    """Our mapping report, in the app's names and nesting."""
    report = search.report("contacts")
    unmapped = report["unmapped_parameters"]
    by_category: dict[str, list[dict[str, Any]]] = {}
    for item in unmapped:
        by_category.setdefault(item["category"], []).append(item)
    unmapped_names = [u["name"] for u in unmapped]
    return {
        "apollo_url": report["apollo_url"],
        "applied_filters": report["applied_filters"],
        "mapping_summary": {
            "total_apollo_parameters": report["mapping_summary"]["total_parameters"],
            "mapped_parameters": report["mapping_summary"]["mapped_parameters"],
            "unmapped_parameters": report["mapping_summary"]["unmapped_parameters"],
            "mapped_parameter_names": list(search.mapped_names),
            "unmapped_parameter_names": unmapped_names,
        },
        "unmapped_categories": [
            {"name": name, "total_parameters": len(items), "parameters": items}
            for name, items in by_category.items()
        ],
        "warnings": report["warnings"],
    }


@requires_scope("read")
async def contacts(request: web.Request) -> web.Response:
    search, applied = await _search(request, (*PAGE_PARAMS, *REFINEMENTS))
    limit = query_int(request, "limit", 25, minimum=1, maximum=100)
    offset = query_int(
        request, "offset", 0, minimum=0, maximum=request.app[RESOURCES].settings.contacts.max_offset
    )
    view = request.query.get("view", "full")
    if view not in ("full", "simple"):
        raise ValidationError.single(("query", "view"), "must be full or simple")
    page = await service.list_contacts(
        request.app[RESOURCES],
        request.app[SIGNER],
        applied,
        search.ordering,
        limit=limit,
        cursor=request.query.get("cursor") or None,
        offset=offset,
        view=view,
    )
    shape = shapes.simple_contact if view == "simple" else shapes.flat_contact
    return json_reply(
        {
            "next": page.next_cursor,
            "previous": page.previous_cursor,
            "results": [shape(c) for c in page.results],
            **_report(search),
        }
    )


@requires_scope("read")
async def count(request: web.Request) -> web.Response:
    _search_result, applied = await _search(request, REFINEMENTS)
    return json_reply({"count": await service.count_contacts(request.app[RESOURCES], applied)})


@requires_scope("read")
async def uuids(request: web.Request) -> web.Response:
    search, applied = await _search(request, ("limit", *REFINEMENTS))
    resources = request.app[RESOURCES]
    limit = query_int(
        request, "limit", 1000, minimum=1, maximum=resources.settings.contacts.max_count_uuids
    )
    total, found = await service.contact_uuid_list(resources, applied, search.ordering, limit=limit)
    return json_reply({"count": total, "uuids": found})


def routes(prefix: str) -> list[web.RouteDef]:
    a = prefix + "/api/v2/apollo"
    return [
        web.post(a + "/analyze", analyze),
        web.post(a + "/contacts", contacts),
        web.post(a + "/contacts/count", count),
        web.post(a + "/contacts/count/uuids", uuids),
    ]
