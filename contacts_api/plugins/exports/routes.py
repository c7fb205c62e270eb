"""HTTP routes of exports (docs/api.md "Export"); every export is its owner's alone."""

import datetime as dt
import time
import uuid
from typing import Any

from aiohttp import web

from contacts_api import requires_scope
from contacts_api.core.appkeys import FILTERS, PLUGINS, RESOURCES, SETTINGS, SIGNER
from contacts_api.core.auth import Actor, require_actor, require_owner
from contacts_api.core.errors import Conflict, Forbidden, NotFound, ValidationError
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import absolute_url, path_uuid, query_int, read_json, rfc3339
from contacts_api.core.signing import BadSignature
from contacts_api.plugins.exports.repository import ExportRepository
from contacts_api.plugins.exports.selection import COMPANIES, CONTACTS, Kind, parse_selection
from contacts_api.plugins.exports.task import TASK_NAME

routes = web.RouteTableDef()
CURSOR = "exports.cursor"
DOWNLOAD = "exports.download"


def serialize(export: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(export["id"]),
        "kind": export["kind"],
        "status": export["status"],
        "row_count": export["row_count"],
        "file_name": export["file_name"],
        "error": export["error"],
        "created_at": rfc3339(export["created_at"]),
        "finished_at": rfc3339(export["finished_at"]),
    }


def _repo(request: web.Request) -> ExportRepository:
    return ExportRepository(request.app[RESOURCES].db)


async def _owned(request: web.Request, actor: Actor) -> dict[str, Any]:
    export = await _repo(request).get(path_uuid(request, "export_id"))
    if export is None:
        raise NotFound("No such export.")
    require_owner(actor, export["owner_id"])
    return export


async def _create(request: web.Request, kind: Kind) -> web.Response:
    """Validate the selection (422 before any export exists), create the export of
    ``kind`` and queue ``exports.run``: one path for every kind."""
    actor = await require_actor(request)
    registry = getattr(request.app[FILTERS], kind.name)
    selection = parse_selection(request.app[PLUGINS], registry, await read_json(request), kind)
    export = await _repo(request).create(actor.id, selection, kind.name)
    await request.app[RESOURCES].tasks.kick(TASK_NAME, export_id=str(export["id"]))
    return json_reply(serialize(export), status=202)


@routes.post("/api/v2/exports/contacts/export")
@requires_scope("export")
async def create_export(request: web.Request) -> web.Response:
    return await _create(request, CONTACTS)


@routes.post("/api/v2/exports/companies/export")
@requires_scope("export")
async def create_companies_export(request: web.Request) -> web.Response:
    return await _create(request, COMPANIES)


def _page_link(request: web.Request, key: dict[str, Any]) -> str:
    token = request.app[SIGNER].sign(key, CURSOR)
    query = {**request.query, "cursor": token}
    return absolute_url(request, str(request.url.with_query(query).relative()))


@routes.get("/api/v2/exports")
@requires_scope("export")
async def list_exports(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    unknown = set(request.query) - {"limit", "cursor"}
    if unknown:
        raise ValidationError.single(("query", sorted(unknown)[0]), "unknown parameter")
    limit = query_int(request, "limit", 25, minimum=1, maximum=100)
    after = None
    if "cursor" in request.query:
        try:
            key = request.app[SIGNER].unsign(request.query["cursor"], CURSOR)
            after = (dt.datetime.fromisoformat(key["t"]), uuid.UUID(key["id"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            raise ValidationError.single(("query", "cursor"), "invalid cursor") from None
    rows = await _repo(request).page(actor.id, limit + 1, after)
    more, rows = len(rows) > limit, rows[:limit]
    next_url = None
    if more:
        last = rows[-1]
        next_url = _page_link(request, {"t": last["created_at"].isoformat(), "id": str(last["id"])})
    # Newest first and stable: the previous page is the first page's link when
    # we are past it (clients keep their own history for deeper back-paging).
    previous = None
    if after is not None:
        previous = absolute_url(
            request,
            str(
                request.url.with_query(
                    {k: v for k, v in request.query.items() if k != "cursor"}
                ).relative()
            ),
        )
    return json_reply(
        {"next": next_url, "previous": previous, "results": [serialize(r) for r in rows]}
    )


@routes.get("/api/v2/exports/{export_id}")
@requires_scope("export")
async def get_export(request: web.Request) -> web.Response:
    return json_reply(serialize(await _owned(request, await require_actor(request))))


@routes.get("/api/v2/exports/{export_id}/download")
@requires_scope("export")
async def download(request: web.Request) -> web.Response:
    export = await _owned(request, await require_actor(request))
    if export["status"] != "completed":
        raise Conflict(f"The export is not ready to download (status: {export['status']}).")
    ttl = request.app[SETTINGS].exports.link_ttl_s
    expires = int(time.time()) + ttl
    url = await request.app[RESOURCES].storage.presigned_url(
        export["storage_key"], ttl, export["file_name"]
    )
    if url is None:  # local storage: the API serves the file on a signed, expiring link
        token = request.app[SIGNER].sign({"id": str(export["id"]), "exp": expires}, DOWNLOAD)
        url = absolute_url(request, f"/api/v2/exports/{export['id']}/file?token={token}")
    expires_at = dt.datetime.fromtimestamp(expires, dt.UTC)
    return json_reply({"download_url": url, "expires_at": rfc3339(expires_at)})


@routes.get("/api/v2/exports/{export_id}/file")
@requires_scope("public")  # the signed link is the credential
async def serve_file(request: web.Request) -> web.StreamResponse:
    """The signed link is the credential: no bearer token needed (browsers follow it)."""
    refused = Forbidden("This download link is invalid or has expired.")
    try:
        grant = request.app[SIGNER].unsign(request.query.get("token", ""), DOWNLOAD)
    except BadSignature:
        raise refused from None
    export_id = path_uuid(request, "export_id")
    if grant.get("id") != str(export_id) or grant.get("exp", 0) < time.time():
        raise refused
    export = await _repo(request).get(export_id)
    if export is None or export["status"] != "completed":
        raise NotFound("No such export.")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{export["file_name"]}"',
        }
    )
    await response.prepare(request)
    async for chunk in request.app[RESOURCES].storage.read(export["storage_key"]):
        await response.write(chunk)
    await response.write_eof()
    return response
