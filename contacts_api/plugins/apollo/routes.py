"""HTTP routes of the apollo plugin (docs/api.md "Apollo search URLs", bearer auth).

The mapped filters go through the same filter registry and contacts service
as ``/api/v1/contacts/``, so results, counts and cursors behave identically.
These are POST routes, so ``next``/``previous`` are cursor tokens for the
body's ``cursor`` rather than links. Everything they take is in the body: a
query string parameter is refused (422 naming it), as on every other route,
rather than silently ignored.
"""

from typing import Any

from aiohttp import web

from contacts_api import requires_scope
from contacts_api.core.appkeys import FILTERS, RESOURCES, SETTINGS, SIGNER
from contacts_api.core.auth import require_actor
from contacts_api.core.errors import ValidationError, field_error
from contacts_api.core.filters import AppliedFilters
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import read_json
from contacts_api.plugins.apollo.search import Search, cached_search
from contacts_api.plugins.contacts import service

routes = web.RouteTableDef()
SEARCH_FIELDS = {"url", "limit", "cursor", "view", "include_count"}


async def _read_body(request: web.Request) -> dict[str, Any]:
    """The actor check, then the JSON body; any query parameter is a 422."""
    await require_actor(request)
    if request.query:
        raise ValidationError(
            [
                field_error(
                    ("query", name), "unknown parameter (this route reads its body)", "extra"
                )
                for name in dict.fromkeys(request.query)
            ]
        )
    return await read_json(request)


def _body_options(body: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    errors = [field_error(("body", k), "unknown field", "extra") for k in body if k not in allowed]
    limit = body.get("limit", 25)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        errors.append(field_error(("body", "limit"), "must be an integer from 1 to 100"))
    cursor = body.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        errors.append(field_error(("body", "cursor"), "must be a string"))
    view = body.get("view", "full")
    if view not in ("full", "simple"):
        errors.append(field_error(("body", "view"), "must be full or simple"))
    include_count = body.get("include_count", False)
    if not isinstance(include_count, bool):
        errors.append(field_error(("body", "include_count"), "must be true or false"))
    if errors:
        raise ValidationError(errors)
    return {"limit": limit, "cursor": cursor, "view": view, "include_count": include_count}


def _applied(request: web.Request, search: Search, resource: str) -> AppliedFilters:
    registry = getattr(request.app[FILTERS], resource)
    try:
        return registry.parse_mapping(search.query_filters(resource), location="apollo")
    except ValidationError as exc:  # a mapping produced a value our filter refuses
        raise ValidationError(
            exc.errors, f"The Apollo URL maps to filters that cannot be applied: {exc.detail}"
        ) from None


def _offset(request: web.Request, search: Search, options: dict[str, Any]) -> int:
    if options["cursor"] or not search.page:
        return 0
    offset = (search.page - 1) * options["limit"]
    if offset > request.app[SETTINGS].contacts.max_offset:
        raise ValidationError.single(
            ("body", "url"),
            f"Apollo page {search.page} is deeper "
            "than offsets reach here; follow the cursors instead",
        )
    return offset


async def _search_page(request: web.Request, resource: str) -> web.Response:
    body = await _read_body(request)
    options = _body_options(body, SEARCH_FIELDS)
    resources = request.app[RESOURCES]
    search = await cached_search(resources, body.get("url"))
    applied = _applied(request, search, resource)
    common = {
        "limit": options["limit"],
        "cursor": options["cursor"],
        "offset": _offset(request, search, options),
        "include_count": options["include_count"],
    }
    if resource == "contacts":
        page = await service.list_contacts(
            resources, request.app[SIGNER], applied, search.ordering, view=options["view"], **common
        )
    else:
        page = await service.list_companies(
            resources, request.app[SIGNER], applied, search.company_ordering, **common
        )
    answer: dict[str, Any] = {
        "next": page.next_cursor,
        "previous": page.previous_cursor,
        "results": page.results,
    }
    if page.count is not None:
        answer["count"] = page.count
    return json_reply({**answer, **search.report(resource)})


@routes.post("/api/v2/apollo/analyze")
@requires_scope("read")  # a search: POST only to carry the URL
async def analyze(request: web.Request) -> web.Response:
    body = await _read_body(request)
    _body_options(body, {"url"})
    search = await cached_search(request.app[RESOURCES], body.get("url"))
    return json_reply(search.analysis)


@routes.post("/api/v2/apollo/contacts")
@requires_scope("read")  # a search: POST only to carry the URL
async def contacts(request: web.Request) -> web.Response:
    return await _search_page(request, "contacts")


@routes.post("/api/v2/apollo/companies")
@requires_scope("read")  # a search: POST only to carry the URL
async def companies(request: web.Request) -> web.Response:
    return await _search_page(request, "companies")


@routes.post("/api/v2/apollo/contacts/count")
@requires_scope("read")  # a search: POST only to carry the URL
async def count(request: web.Request) -> web.Response:
    body = await _read_body(request)
    _body_options(body, {"url"})
    resources = request.app[RESOURCES]
    search = await cached_search(resources, body.get("url"))
    total = await service.count_contacts(resources, _applied(request, search, "contacts"))
    return json_reply({"count": total})
