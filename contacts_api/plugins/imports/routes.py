"""HTTP routes of the import (docs/api.md "Import"): upload, job list, job, job errors."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import BodyPartReader, web

from contacts_api import require_v1_read, require_v1_write, requires_scope
from contacts_api.core.appkeys import RESOURCES, SIGNER
from contacts_api.core.errors import BadRequest, NotFound, ValidationError
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import absolute_url, path_uuid, query_int
from contacts_api.core.signing import BadSignature
from contacts_api.plugins.imports import repository as repo
from contacts_api.plugins.imports.service import serialize_error, serialize_job, start_import

routes = web.RouteTableDef()
BASE = "/api/v1/contacts/import"
READ_CHUNK = 256 * 1024
DEFAULT_LIMIT, MAX_LIMIT = 25, 100
CURSOR = "imports.cursor"


async def _part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    try:
        while chunk := await part.read_chunk(READ_CHUNK):
            yield chunk
    except (ValueError, AssertionError) as error:
        raise BadRequest(f"Malformed multipart body: {error}") from None


async def _file_part(request: web.Request) -> BodyPartReader:
    if not request.content_type.startswith("multipart/"):
        raise BadRequest("Send the CSV as multipart/form-data with a `file` field.")
    try:
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.name == "file":
                return part
            await part.release()
    except (ValueError, AssertionError, KeyError) as error:
        raise BadRequest(f"Malformed multipart body: {error}") from None
    raise BadRequest("The multipart body has no `file` field.")


@routes.post(BASE)
@requires_scope("import")
async def upload(request: web.Request) -> web.Response:
    await require_v1_write(request)
    part = await _file_part(request)
    job = await start_import(request.app[RESOURCES], part.filename, _part_chunks(part))
    return json_reply(serialize_job(job), status=202)


def _page(
    request: web.Request, rows: list[Any], limit: int, offset: int, serialize: Any
) -> dict[str, Any]:
    """``{"next", "previous", "results"}`` with absolute offset links keeping the query."""

    def link(new_offset: int) -> str:
        query = {**request.query, "limit": str(limit), "offset": str(new_offset)}
        query.pop("page", None)
        return absolute_url(request, str(request.rel_url.with_query(query)))

    return {
        "next": link(offset + limit) if len(rows) > limit else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "results": [serialize(row) for row in rows[:limit]],
    }


def _limit_offset(request: web.Request) -> tuple[int, int]:
    limit = query_int(request, "limit", 0, minimum=1, maximum=MAX_LIMIT) or query_int(
        request, "page_size", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT
    )
    page = query_int(request, "page", 0, minimum=1, maximum=10**9)
    offset = query_int(request, "offset", 0, minimum=0, maximum=10**12)
    return limit, (page - 1) * limit if page else offset


def _after(request: web.Request) -> tuple[dt.datetime, uuid.UUID] | None:
    """The job key a ``cursor`` names (422 when it is not one of ours)."""
    token = request.query.get("cursor")
    if token is None:
        return None
    if "offset" in request.query or "page" in request.query:
        raise ValidationError.single(("query", "cursor"), "cursor cannot go with offset or page")
    try:
        key = request.app[SIGNER].unsign(token, CURSOR)
        return dt.datetime.fromisoformat(key["t"]), uuid.UUID(key["id"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError.single(("query", "cursor"), "invalid cursor") from None


def _link(request: web.Request, **changes: str | None) -> str:
    """This page's URL with query parameters changed (None removes one)."""
    query = {**request.query, **changes}
    query = {key: value for key, value in query.items() if value is not None}
    return absolute_url(request, str(request.rel_url.with_query(query)))


@routes.get(BASE)
@requires_scope("import")
async def list_jobs(request: web.Request) -> web.Response:
    """Jobs newest first, paged by cursor as every list (docs/api.md "A page"); ``offset``
    and ``page`` still jump to a page."""
    await require_v1_read(request)
    limit, offset = _limit_offset(request)
    after = _after(request)
    rows = await repo.list_jobs(request.app[RESOURCES].db, limit + 1, offset, after)
    more, rows = len(rows) > limit, rows[:limit]
    next_url = previous = None
    if more:
        last = rows[-1]
        token = request.app[SIGNER].sign(
            {"t": last["created_at"].isoformat(), "id": str(last["id"])}, CURSOR
        )
        next_url = _link(request, cursor=token, offset=None, page=None)
    if after is not None:  # newest first: back to the first page
        previous = _link(request, cursor=None)
    elif offset > 0:
        previous = _link(request, offset=str(max(offset - limit, 0)), page=None)
    return json_reply(
        {"next": next_url, "previous": previous, "results": [serialize_job(r) for r in rows]}
    )


async def _job(request: web.Request) -> dict[str, Any]:
    job = await repo.get_job(request.app[RESOURCES].db, str(path_uuid(request, "job_id")))
    if job is None:
        raise NotFound("No import job has this id.")
    return job


@routes.get(BASE + "/{job_id}")
@requires_scope("import")
async def get_job(request: web.Request) -> web.Response:
    await require_v1_read(request)
    return json_reply(serialize_job(await _job(request)))


@routes.get(BASE + "/{job_id}/errors")
@requires_scope("import")
async def list_errors(request: web.Request) -> web.Response:
    await require_v1_read(request)
    job = await _job(request)
    limit, offset = _limit_offset(request)
    rows = await repo.list_errors(request.app[RESOURCES].db, str(job["id"]), limit + 1, offset)
    return json_reply(_page(request, rows, limit, offset, serialize_error))
