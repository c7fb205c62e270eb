"""Contacts and companies in the app's dialect, on our contacts routes.

Each handler rewrites the query (``queries.py``), awaits our own handler on
that copy of the request, and reshapes the answer (``shapes.py``).
"""

from typing import Any

from aiohttp import web

from contacts_api import require_v1_write, requires_scope
from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import absolute_url, query_int, read_json
from contacts_api.plugins.contact360_compat import queries, shapes
from contacts_api.plugins.contact360_compat.delegate import call_json, with_headers, with_query
from contacts_api.plugins.contacts import routes_companies as companies_routes
from contacts_api.plugins.contacts import routes_contacts as contacts_routes
from contacts_api.plugins.contacts import writes
from contacts_api.plugins.contacts.attributes import COMPANY_ATTRIBUTES, CONTACT_ATTRIBUTES
from contacts_api.plugins.contacts.routes_attributes import _handler as attribute_handler
from contacts_api.plugins.contacts.routes_common import UUID_PATH
from contacts_api.plugins.contacts.validation import company_fields, contact_fields

# The app's dropdowns that read plain strings when asked for ``distinct``.
STRING_LISTS = {"seniority", "department", "departments"}
# Its dropdowns named differently: app field -> our attribute. The address
# dropdowns feed the company_address / contact_address filters, which match
# by "contains" on the location (queries.CONTACT_FILTERS), so city values fit.
CONTACT_LIST_ALIASES = {
    "departments": "department",
    "company_address": "company_city",
    "contact_address": "city",
    "company_name_for_emails": "company",
}
# ``fields=``: the contact fields a caller may ask for (the flat and simple shapes').
FIELD_NAMES = frozenset(shapes.FLAT_FIELDS) | {"location", "company_name"}
# Our attribute routes answer pages of at most 100 values; the app asks up to 1000.
VALUES_PAGE, MAX_VALUES = 100, 1000


def _meta(pairs: list[tuple[str, str]], ours: list[tuple[str, str]], body: dict) -> dict:
    by_cursor = not any(k in ("offset", "ordering") for k, _ in pairs)
    return {
        "strategy": "cursor" if by_cursor else "offset",
        "count_mode": "actual" if "count" in body else None,
        "count": body.get("count"),
        "filters_applied": any(
            k not in ("limit", "offset", "page_size", "cursor", "ordering", "view") for k, _ in ours
        ),
        "ordering": dict(ours).get("ordering", "-created_at"),
        "returned_records": len(body["results"]),
        "page_size": len(body["results"]),
        "page_size_cap": 100,
        "using_replica": False,
    }


async def _contact_page(request: web.Request, handler, shape) -> web.Response:
    pairs = list(request.query.items())
    ours = queries.contact_query(pairs)
    body = await call_json(handler, with_query(request, ours))
    body["results"] = [shape(item) for item in body["results"]]
    fields = queries.requested_fields(pairs, FIELD_NAMES)
    if fields:
        body["results"] = [{k: item[k] for k in fields if k in item} for item in body["results"]]
    if queries.wants(pairs, "include_meta"):
        body["meta"] = _meta(pairs, ours, body)
    return json_reply(body)


def _contact_shape(request: web.Request):
    simple = request.query.get("view", "").lower() == "simple"
    return shapes.simple_contact if simple else shapes.flat_contact


@requires_scope("read")
async def contacts_list(request: web.Request) -> web.Response:
    return await _contact_page(request, contacts_routes.list_v1, _contact_shape(request))


@requires_scope("read")
async def contacts_count(request: web.Request) -> web.Response:
    ours = with_query(request, queries.contact_query(request.query.items()))
    return json_reply(await call_json(contacts_routes.count, ours))


async def _uuids_with_offset(request: web.Request, handler, translate) -> web.Response:
    """``count/uuids/`` with the app's ``offset``: ours lists the first
    ``limit`` uuids in list order, so the page is cut from the first
    ``offset + limit`` (bounded by ``contacts.max_count_uuids`` like ours)."""
    most = request.app[RESOURCES].settings.contacts.max_count_uuids
    offset = query_int(request, "offset", 0, minimum=0, maximum=most)
    limit = query_int(request, "limit", 1000, minimum=1, maximum=most)
    pairs = [(k, v) for k, v in request.query.items() if k not in ("offset", "limit")]
    ours = [*translate(pairs), ("limit", str(offset + limit))]
    body = await call_json(handler, with_query(request, ours))
    body["uuids"] = body["uuids"][offset:]
    return json_reply(body)


@requires_scope("read")
async def contacts_uuids(request: web.Request) -> web.Response:
    return await _uuids_with_offset(request, contacts_routes.count_uuids, queries.contact_query)


@requires_scope("read")
async def contact_detail(request: web.Request) -> web.Response:
    return json_reply(shapes.flat_contact(await call_json(contacts_routes.detail_v1, request)))


def _write_key_request(request: web.Request, header: str) -> web.Request:
    """The app sends its bearer token *and* a write key; v1 writes take the key."""
    headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
    if header in request.headers:
        headers["X-Contacts-Write-Key"] = request.headers[header]
    return with_headers(request, headers)


async def _writer(request: web.Request, header: str) -> None:
    """403 ``INVALID_WRITE_KEY`` unless the app's write key is ours (the same check)."""
    await require_v1_write(_write_key_request(request, header))


def contact_body(data: dict[str, Any]) -> dict[str, Any]:
    """The app's ContactCreate: ``company_id`` links a company; ``uuid`` and
    ``text_search`` (the original's own search column) are not written here."""
    body = {k: v for k, v in data.items() if k not in ("uuid", "text_search", "company_id")}
    if data.get("company_id"):
        body["company"] = {"uuid": data["company_id"]}
    return body


def company_body(data: dict[str, Any]) -> dict[str, Any]:
    """The app's CompanyCreate: location inside ``metadata``, as it reads it."""
    body = {k: v for k, v in data.items() if k not in ("uuid", "text_search", "metadata")}
    metadata = dict(data.get("metadata") or {}) if isinstance(data.get("metadata"), dict) else None
    if metadata is not None:
        for key in ("city", "state", "country"):
            if key in metadata:
                body[key] = metadata.pop(key)
        if metadata:
            body["metadata"] = metadata
    elif "metadata" in data:
        body["metadata"] = data["metadata"]  # ours refuses it, naming the field
    return body


@requires_scope("write")
async def contact_create(request: web.Request) -> web.Response:
    await _writer(request, "X-Contacts-Write-Key")
    fields = contact_fields(contact_body(await read_json(request)))
    created = await writes.create_contact(request.app[RESOURCES], fields)
    return json_reply(shapes.flat_contact(created), status=201)


def _values(field: str, rows: list[dict[str, Any]], distinct: bool) -> list[Any]:
    if distinct and field in STRING_LISTS:
        return [row["value"] for row in rows]
    return [{"id": i, field: row["value"], **row} for i, row in enumerate(rows, 1)]


async def _values_pages(
    request: web.Request, handler, ours: list[tuple[str, str]], wanted: int
) -> dict[str, Any]:
    """Up to ``wanted`` values (the app asks up to 1000 for its charts), read
    from our attribute route in its pages of at most ``VALUES_PAGE``."""
    offset = query_int(request, "offset", 0, minimum=0, maximum=10**6)
    pairs = [(k, v) for k, v in ours if k != "offset"]
    results: list[dict[str, Any]] = []
    while True:
        size = min(VALUES_PAGE, wanted - len(results))
        page = [*pairs, ("limit", str(size)), ("offset", str(offset + len(results)))]
        body = await call_json(handler, with_query(request, page))
        results += body["results"]
        if not body["next"] or len(results) >= wanted:
            more = bool(body["next"])
            return {
                "next": _offset_link(request, offset + len(results)) if more else None,
                "previous": _offset_link(request, max(0, offset - wanted)) if offset else None,
                "results": results,
            }


def _offset_link(request: web.Request, offset: int) -> str:
    return absolute_url(request, str(request.rel_url.update_query(offset=str(offset))))


def _attribute_route(kind: str, field: str, attribute: str, extra=None):
    handler = attribute_handler(kind, attribute)
    renames = queries.CONTACT_FILTERS if kind == "contacts" else queries.COMPANY_FILTERS

    @requires_scope("read")
    async def values(request: web.Request) -> web.Response:
        pairs = list(request.query.items())
        ours = [(k, v) for k, v in queries.translate_filters(pairs, renames) if k != "limit"]
        if extra is not None:
            ours += extra(request)
        wanted = query_int(request, "limit", 25, minimum=1, maximum=MAX_VALUES)
        body = await _values_pages(request, handler, ours, wanted)
        # ``values``: the plain strings its dashboard reads (services/analytics.ts)
        body["values"] = [row["value"] for row in body["results"]]
        body["results"] = _values(field, body["results"], queries.wants(pairs, "distinct"))
        return json_reply(body)

    values.__name__ = f"compat_{kind}_{field}_values"
    return values


@requires_scope("read")
async def company_domains(request: web.Request) -> web.Response:
    """The domain dropdown: plain strings, the domains of matching companies."""
    search = request.query.get("search", "").strip()
    ours = [("limit", "100")] + ([("search", search)] if search else [])
    body = await call_json(companies_routes.list_v1, with_query(request, ours))
    domains = sorted({c["domain"] for c in body["results"] if c.get("domain")})
    return json_reply({"next": None, "previous": None, "results": domains[:25]})


@requires_scope("read")
async def companies_list(request: web.Request) -> web.Response:
    ours = with_query(request, queries.company_query(request.query.items()))
    body = await call_json(companies_routes.list_v1, ours)
    body["results"] = [shapes.company(item) for item in body["results"]]
    return json_reply(body)


@requires_scope("read")
async def companies_count(request: web.Request) -> web.Response:
    ours = with_query(request, queries.company_query(request.query.items()))
    return json_reply(await call_json(companies_routes.count, ours))


@requires_scope("read")
async def companies_uuids(request: web.Request) -> web.Response:
    return await _uuids_with_offset(request, companies_routes.count_uuids, queries.company_query)


@requires_scope("read")
async def company_detail(request: web.Request) -> web.Response:
    return json_reply(shapes.company(await call_json(companies_routes.detail_v1, request)))


@requires_scope("write")
async def company_create(request: web.Request) -> web.Response:
    await _writer(request, "X-Companies-Write-Key")
    fields = company_fields(company_body(await read_json(request)))
    created = await writes.create_company(request.app[RESOURCES], fields)
    return json_reply(shapes.company(created), status=201)


@requires_scope("write")
async def company_update(request: web.Request) -> web.Response:
    await _writer(request, "X-Companies-Write-Key")
    fields = company_fields(company_body(await read_json(request)))
    updated = await writes.update_company(
        request.app[RESOURCES], request.match_info["uuid"], fields
    )
    return json_reply(shapes.company(updated))


@requires_scope("write")
async def company_delete(request: web.Request) -> web.Response:
    await companies_routes.delete(_write_key_request(request, "X-Companies-Write-Key"))
    return web.Response(status=204)


@requires_scope("read")
async def company_contacts(request: web.Request) -> web.Response:
    return await _contact_page(request, companies_routes.company_contacts, shapes.company_contact)


@requires_scope("read")
async def company_contacts_count(request: web.Request) -> web.Response:
    ours = with_query(request, queries.contact_query(request.query.items()))
    return json_reply(await call_json(companies_routes.company_contacts_count, ours))


@requires_scope("read")
async def company_contacts_uuids(request: web.Request) -> web.Response:
    return await _uuids_with_offset(
        request, companies_routes.company_contacts_uuids, queries.contact_query
    )


def _of_company(request: web.Request) -> list[tuple[str, str]]:
    return [("company_uuid", request.match_info["uuid"])]


def routes(prefix: str) -> list[web.RouteDef]:
    c, co = prefix + "/api/v1/contacts", prefix + "/api/v1/companies"
    out = [
        web.get(c + "/", contacts_list),
        web.post(c + "/", contact_create),
        web.get(c + "/count/", contacts_count),
        web.get(c + "/count/uuids/", contacts_uuids),
        web.get(c + "/company/domain/", company_domains),
        web.get(f"{c}/{UUID_PATH}/", contact_detail),
        web.get(co + "/", companies_list),
        web.post(co + "/", company_create),
        web.get(co + "/count/", companies_count),
        web.get(co + "/count/uuids/", companies_uuids),
        web.get(f"{co}/{UUID_PATH}/", company_detail),
        web.patch(f"{co}/{UUID_PATH}/", company_update),  # PUT too (core)
        web.delete(f"{co}/{UUID_PATH}/", company_delete),
        web.get(f"{co}/company/{UUID_PATH}/contacts/", company_contacts),
        web.get(f"{co}/company/{UUID_PATH}/contacts/count/", company_contacts_count),
        web.get(f"{co}/company/{UUID_PATH}/contacts/count/uuids/", company_contacts_uuids),
    ]
    contact_lists = {name: name for name in CONTACT_ATTRIBUTES} | CONTACT_LIST_ALIASES
    for field, attribute in contact_lists.items():
        out.append(web.get(f"{c}/{field}/", _attribute_route("contacts", field, attribute)))
        out.append(
            web.get(
                f"{co}/company/{UUID_PATH}/contacts/{field}/",
                _attribute_route("contacts", field, attribute, extra=_of_company),
            )
        )
    for field in COMPANY_ATTRIBUTES:
        out.append(web.get(f"{co}/{field}/", _attribute_route("companies", field, field)))
    return out
