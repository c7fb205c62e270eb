"""Attribute routes: distinct values with counts, one plain route per attribute
(``/api/v1/contacts/title/`` ...), so they never shadow ``{uuid}`` or other
plugins' paths, and an unknown attribute is simply 404."""

from aiohttp import web

from contacts_api import require_v1_read, requires_scope
from contacts_api.core.appkeys import FILTERS
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import query_text
from contacts_api.plugins.contacts import attributes, service
from contacts_api.plugins.contacts.routes_common import list_page_params, offset_links, resources

PARAMS = ("search", "limit", "offset", "ordering")


def _handler(kind: str, attribute: str):
    @requires_scope("read")
    async def handler(request: web.Request) -> web.Response:
        await require_v1_read(request)
        registry = getattr(request.app[FILTERS], kind)
        applied = registry.parse(request.query.items(), ignore=PARAMS)
        ordering = attributes.parse_attribute_ordering(request.query.get("ordering"))
        params = list_page_params(request)
        search = query_text(request, "search")
        rows = await service.attribute_values(
            resources(request),
            kind,
            attribute,
            applied,
            search=search,
            ordering=ordering,
            limit=params.limit + 1,
            offset=params.offset,
        )
        results = [{"value": v, "count": c} for v, c in rows[: params.limit]]
        return json_reply(
            {**offset_links(request, params, len(rows) > params.limit), "results": results}
        )

    handler.__name__ = f"{kind}_{attribute}_values"
    return handler


def attribute_routes() -> list[web.RouteDef]:
    out = []
    for kind, names in (
        ("contacts", attributes.CONTACT_ATTRIBUTES),
        ("companies", attributes.COMPANY_ATTRIBUTES),
    ):
        for name in names:
            out.append(web.get(f"/api/v1/{kind}/{name}/", _handler(kind, name)))
    return out
