"""Company routes: v1 list/CRUD/count, a company's contacts, v2 reads."""

from aiohttp import web

from contacts_api import require_actor, require_v1_read, require_v1_write, requires_scope
from contacts_api.core.appkeys import FILTERS, SETTINGS
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import query_int, read_json
from contacts_api.plugins.contacts import service, writes
from contacts_api.plugins.contacts.ordering import COMPANY_ORDERING, parse_ordering
from contacts_api.plugins.contacts.routes_common import (
    UUID_PATH,
    list_page_params,
    page_body,
    query_bool,
    resources,
    signer,
)
from contacts_api.plugins.contacts.routes_contacts import (
    contact_count,
    contact_count_uuids,
    contact_list,
)
from contacts_api.plugins.contacts.validation import company_fields

routes = web.RouteTableDef()
LIST_PARAMS = ("limit", "page_size", "cursor", "offset", "page", "ordering", "include_count")


async def company_list(request: web.Request) -> web.Response:
    applied = request.app[FILTERS].companies.parse(request.query.items(), ignore=LIST_PARAMS)
    ordering = parse_ordering(request.query.get("ordering"), COMPANY_ORDERING)
    include_count = query_bool(request, "include_count")
    params = list_page_params(request)
    page = await service.list_companies(
        resources(request),
        signer(request),
        applied,
        ordering,
        limit=params.limit,
        cursor=params.cursor,
        offset=params.offset,
        include_count=include_count,
    )
    return json_reply(page_body(request, page, params))


@routes.get("/api/v1/companies/")
@requires_scope("read")
async def list_v1(request: web.Request) -> web.Response:
    await require_v1_read(request)
    return await company_list(request)


@routes.post("/api/v1/companies/")
@requires_scope("write")
async def create(request: web.Request) -> web.Response:
    await require_v1_write(request)
    fields = company_fields(await read_json(request))
    return json_reply(await writes.create_company(resources(request), fields), status=201)


@routes.get("/api/v1/companies/count/")
@requires_scope("read")
async def count(request: web.Request) -> web.Response:
    await require_v1_read(request)
    applied = request.app[FILTERS].companies.parse(request.query.items())
    return json_reply({"count": await service.count_companies(resources(request), applied)})


@routes.get("/api/v1/companies/count/uuids/")
@requires_scope("read")
async def count_uuids(request: web.Request) -> web.Response:
    await require_v1_read(request)
    applied = request.app[FILTERS].companies.parse(
        request.query.items(), ignore=("limit", "ordering")
    )
    ordering = parse_ordering(request.query.get("ordering"), COMPANY_ORDERING)
    limit = query_int(
        request, "limit", 1000, minimum=1, maximum=request.app[SETTINGS].contacts.max_count_uuids
    )
    total, uuids = await service.company_uuid_list(
        resources(request), applied, ordering, limit=limit
    )
    return json_reply({"count": total, "uuids": uuids})


@routes.get(f"/api/v1/companies/{UUID_PATH}/")
@requires_scope("read")
async def detail_v1(request: web.Request) -> web.Response:
    await require_v1_read(request)
    return json_reply(await service.get_company(resources(request), request.match_info["uuid"]))


@routes.patch(f"/api/v1/companies/{UUID_PATH}/")
@requires_scope("write")
async def update(request: web.Request) -> web.Response:
    await require_v1_write(request)
    fields = company_fields(await read_json(request))
    return json_reply(
        await writes.update_company(resources(request), request.match_info["uuid"], fields)
    )


@routes.delete(f"/api/v1/companies/{UUID_PATH}/")
@requires_scope("write")
async def delete(request: web.Request) -> web.Response:
    await require_v1_write(request)
    await writes.delete_company(resources(request), request.match_info["uuid"])
    return web.Response(status=204)


async def _company_uuid(request: web.Request) -> str:
    uuid = request.match_info["uuid"]
    await service.get_company(resources(request), uuid)  # 404 for an unknown company
    return uuid


@routes.get(f"/api/v1/companies/{UUID_PATH}/contacts/")
@requires_scope("read")
async def company_contacts(request: web.Request) -> web.Response:
    await require_v1_read(request)
    return await contact_list(request, await _company_uuid(request))


@routes.get(f"/api/v1/companies/{UUID_PATH}/contacts/count/")
@requires_scope("read")
async def company_contacts_count(request: web.Request) -> web.Response:
    await require_v1_read(request)
    return await contact_count(request, await _company_uuid(request))


@routes.get(f"/api/v1/companies/{UUID_PATH}/contacts/count/uuids/")
@requires_scope("read")
async def company_contacts_uuids(request: web.Request) -> web.Response:
    await require_v1_read(request)
    return await contact_count_uuids(request, await _company_uuid(request))


@routes.get("/api/v2/companies/")
@requires_scope("read")
async def list_v2(request: web.Request) -> web.Response:
    await require_actor(request)
    return await company_list(request)


@routes.get(f"/api/v2/companies/{UUID_PATH}/")
@requires_scope("read")
async def detail_v2(request: web.Request) -> web.Response:
    await require_actor(request)
    return json_reply(await service.get_company(resources(request), request.match_info["uuid"]))
