"""Contact routes: v1 list/CRUD/count, v2 reads (docs/api.md "Routes")."""

from aiohttp import web

from contacts_api import require_actor, require_v1_read, require_v1_write, requires_scope
from contacts_api.core.appkeys import FILTERS, SETTINGS
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import read_json
from contacts_api.plugins.contacts import service, writes
from contacts_api.plugins.contacts.ordering import CONTACT_ORDERING, parse_ordering
from contacts_api.plugins.contacts.routes_common import (
    UUID_PATH,
    list_page_params,
    page_body,
    query_bool,
    query_choice,
    resources,
    signer,
)
from contacts_api.plugins.contacts.validation import contact_fields

routes = web.RouteTableDef()


async def contact_list(request: web.Request, company_uuid: str | None = None) -> web.Response:
    applied = service.parse_contact_query(request.app, request.query.items())
    ordering = parse_ordering(request.query.get("ordering"), CONTACT_ORDERING)
    view = query_choice(request, "view", ("full", "simple"), "full")
    include_count = query_bool(request, "include_count")
    params = list_page_params(request)
    page = await service.list_contacts(
        resources(request),
        signer(request),
        applied,
        ordering,
        limit=params.limit,
        cursor=params.cursor,
        offset=params.offset,
        view=view,
        include_count=include_count,
        company_uuid=company_uuid,
    )
    return json_reply(page_body(request, page, params))


async def contact_count(request: web.Request, company_uuid: str | None = None) -> web.Response:
    applied = request.app[FILTERS].contacts.parse(request.query.items())
    return json_reply(
        {"count": await service.count_contacts(resources(request), applied, company_uuid)}
    )


async def contact_count_uuids(
    request: web.Request, company_uuid: str | None = None
) -> web.Response:
    from contacts_api.core.requests import query_int

    applied = request.app[FILTERS].contacts.parse(
        request.query.items(), ignore=("limit", "ordering")
    )
    ordering = parse_ordering(request.query.get("ordering"), CONTACT_ORDERING)
    limit = query_int(
        request, "limit", 1000, minimum=1, maximum=request.app[SETTINGS].contacts.max_count_uuids
    )
    total, uuids = await service.contact_uuid_list(
        resources(request), applied, ordering, limit=limit, company_uuid=company_uuid
    )
    return json_reply({"count": total, "uuids": uuids})


@routes.get("/api/v1/contacts/")
@requires_scope("read")
async def list_v1(request: web.Request) -> web.Response:
    await require_v1_read(request)
    return await contact_list(request)


@routes.post("/api/v1/contacts/")
@requires_scope("write")
async def create(request: web.Request) -> web.Response:
    await require_v1_write(request)
    fields = contact_fields(await read_json(request))
    return json_reply(await writes.create_contact(resources(request), fields), status=201)


@routes.get("/api/v1/contacts/count/")
@requires_scope("read")
async def count(request: web.Request) -> web.Response:
    await require_v1_read(request)
    return await contact_count(request)


@routes.get("/api/v1/contacts/count/uuids/")
@requires_scope("read")
async def count_uuids(request: web.Request) -> web.Response:
    await require_v1_read(request)
    return await contact_count_uuids(request)


@routes.get(f"/api/v1/contacts/{UUID_PATH}/")
@requires_scope("read")
async def detail_v1(request: web.Request) -> web.Response:
    await require_v1_read(request)
    return json_reply(await service.get_contact(resources(request), request.match_info["uuid"]))


@routes.patch(f"/api/v1/contacts/{UUID_PATH}/")
@requires_scope("write")
async def update(request: web.Request) -> web.Response:
    await require_v1_write(request)
    fields = contact_fields(await read_json(request))
    return json_reply(
        await writes.update_contact(resources(request), request.match_info["uuid"], fields)
    )


@routes.delete(f"/api/v1/contacts/{UUID_PATH}/")
@requires_scope("write")
async def delete(request: web.Request) -> web.Response:
    await require_v1_write(request)
    await writes.delete_contact(resources(request), request.match_info["uuid"])
    return web.Response(status=204)


@routes.get("/api/v2/contacts/")
@requires_scope("read")
async def list_v2(request: web.Request) -> web.Response:
    await require_actor(request)
    return await contact_list(request)


@routes.get(f"/api/v2/contacts/{UUID_PATH}/")
@requires_scope("read")
async def detail_v2(request: web.Request) -> web.Response:
    await require_actor(request)
    return json_reply(await service.get_contact(resources(request), request.match_info["uuid"]))
