"""What every list route shares: reading the list parameters and writing a page."""

from typing import Any

from aiohttp import web

from contacts_api.core.appkeys import RESOURCES, SETTINGS, SIGNER
from contacts_api.core.errors import ValidationError
from contacts_api.plugins.contacts.pagination import PageParams, page_params, page_url

UUID_PATH = "{uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}}"
BOOL_TEXT = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def resources(request: web.Request):
    return request.app[RESOURCES]


def signer(request: web.Request):
    return request.app[SIGNER]


def query_bool(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "").strip().lower()
    if raw == "":
        return False
    if raw not in BOOL_TEXT:
        raise ValidationError.single(("query", name), "must be true or false")
    return BOOL_TEXT[raw]


def query_choice(request: web.Request, name: str, choices: tuple[str, ...], default: str) -> str:
    raw = request.query.get(name, "").strip().lower() or default
    if raw not in choices:
        raise ValidationError.single(("query", name), f"must be one of {', '.join(choices)}")
    return raw


def list_page_params(request: web.Request, max_limit: int = 100) -> PageParams:
    return page_params(
        request.query, request.app[SETTINGS].contacts.max_offset, max_limit=max_limit
    )


def page_body(request: web.Request, page: Any, params: PageParams) -> dict[str, Any]:
    """``{"next", "previous", "results"}`` (+ ``count``) with absolute links."""
    base = request.app[SETTINGS].server.base_url

    def link(cursor: str | None, offset: int | None) -> str | None:
        if offset is None:
            return page_url(request, base, cursor=cursor) if cursor else None
        if params.page:
            return page_url(request, base, page=offset // params.limit + 1)
        return page_url(request, base, offset=offset or None)

    by_offset = params.offset > 0 or params.page is not None
    body = {
        "next": link(page.next_cursor, page.next_offset if by_offset else None),
        "previous": link(page.previous_cursor, page.previous_offset if by_offset else None),
        "results": page.results,
    }
    if page.count is not None:
        body["count"] = page.count
    return body


def offset_links(request: web.Request, params: PageParams, more: bool) -> dict[str, Any]:
    """Links of offset-paged lists (attribute values): no ``next`` past
    ``contacts.max_offset``, which would answer 422."""
    settings = request.app[SETTINGS]
    after = params.offset + params.limit
    base = settings.server.base_url
    more = more and after <= settings.contacts.max_offset
    return {
        "next": page_url(request, base, offset=after) if more else None,
        "previous": (
            page_url(request, base, offset=max(0, params.offset - params.limit) or None)
            if params.offset > 0
            else None
        ),
    }
