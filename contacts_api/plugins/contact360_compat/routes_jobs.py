"""Imports and exports in the app's dialect, on the imports and exports plugins."""

import datetime as dt
import time
from typing import Any

from aiohttp import web

from contacts_api import requires_scope
from contacts_api.core.appkeys import RESOURCES, SETTINGS, SIGNER
from contacts_api.core.auth import require_actor, require_admin
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import absolute_url, rfc3339
from contacts_api.plugins.contact360_compat import shapes
from contacts_api.plugins.contact360_compat.config import prefix as configured_prefix
from contacts_api.plugins.contact360_compat.delegate import call_json, with_query
from contacts_api.plugins.exports import routes as export_routes
from contacts_api.plugins.imports import routes as import_routes
from contacts_api.plugins.imports.service import serialize_job, start_import

MAX_ERRORS = 100  # errors listed with a job (include_errors) or on its errors route
MAX_EXPORTS = 500  # exports listed on the history page


@requires_scope("import")
async def import_info(request: web.Request) -> web.Response:
    await require_admin(request)
    return json_reply({"detail": "Import endpoint ready: POST a CSV as `file`."})


@requires_scope("import")
async def import_upload(request: web.Request) -> web.Response:
    """The app uploads with its bearer token: an administrator may import."""
    await require_admin(request)
    part = await import_routes._file_part(request)
    job = await start_import(
        request.app[RESOURCES], part.filename, import_routes._part_chunks(part)
    )
    return json_reply(shapes.import_job(serialize_job(job)), status=202)


async def _errors(request: web.Request) -> list[dict[str, Any]]:
    page = with_query(request, [("limit", str(MAX_ERRORS))])
    body = await call_json(import_routes.list_errors, page)
    return [shapes.import_error(e) for e in body["results"]]


@requires_scope("import")
async def import_job(request: web.Request) -> web.Response:
    await require_admin(request)
    job = shapes.import_job(await call_json(import_routes.get_job, with_query(request, [])))
    if request.query.get("include_errors", "").lower() == "true":
        job["errors"] = await _errors(request)
    return json_reply(job)


@requires_scope("import")
async def import_errors(request: web.Request) -> web.Response:
    await require_admin(request)
    return json_reply(await _errors(request))


def _download_link(request: web.Request, export: dict[str, Any]) -> tuple[str | None, str | None]:
    """The app downloads through ``/exports/{id}/download?token=`` and reads the
    token from this link. The token is the exports plugin's own download grant
    (signed like ``exports.routes.download`` signs it for local storage, and
    checked by its ``serve_file``), for any storage: with S3 the file then
    streams through the API instead of a presigned URL the app cannot use."""
    if export["status"] != "completed":
        return None, None
    ttl = request.app[SETTINGS].exports.link_ttl_s
    expires = int(time.time()) + ttl
    token = request.app[SIGNER].sign(
        {"id": str(export["id"]), "exp": expires}, export_routes.DOWNLOAD
    )
    path = f"{configured_prefix(request.app[SETTINGS])}/api/v2/exports/{export['id']}/download"
    expires_at = rfc3339(dt.datetime.fromtimestamp(expires, dt.UTC))
    return absolute_url(request, f"{path}?token={token}"), expires_at


@requires_scope("export")
async def export_create(request: web.Request) -> web.Response:
    """Export contacts (the app's body is ours: ``contact_uuids``, ``filters``...)."""
    return await _export_create(request, export_routes.create_export)


@requires_scope("export")
async def company_export_create(request: web.Request) -> web.Response:
    """Export companies (``company_uuids``, ``filters`` or ``apollo_url``)."""
    return await _export_create(request, export_routes.create_companies_export)


async def _export_create(request: web.Request, handler) -> web.Response:
    actor = await require_actor(request)
    export = await call_json(handler, request)
    link, expires_at = _download_link(request, export)
    item = shapes.export_item(export, actor.id, link)
    item["expires_at"] = expires_at
    return json_reply(item, status=202)


@requires_scope("export")
async def export_list(request: web.Request) -> web.Response:
    """``{"exports": [...], "total": N}``: the caller's exports, newest first."""
    actor = await require_actor(request)
    items: list[dict[str, Any]] = []
    query: list[tuple[str, str]] = [("limit", "100")]
    while len(items) < MAX_EXPORTS:
        body = await call_json(export_routes.list_exports, with_query(request, query))
        for export in body["results"]:
            link, expires_at = _download_link(request, export)
            items.append({**shapes.export_item(export, actor.id, link), "expires_at": expires_at})
        if not body["next"]:
            break
        cursor = web.URL(body["next"]).query["cursor"]
        query = [("limit", "100"), ("cursor", cursor)]
    return json_reply({"exports": items, "total": len(items)})


@requires_scope("export")
async def export_status(request: web.Request) -> web.Response:
    export = await call_json(export_routes.get_export, request)
    link, expires_at = _download_link(request, export)
    progress = 100 if export["status"] == "completed" else 0
    return json_reply(
        {
            "export_id": export["id"],
            "status": export["status"],
            "progress_percentage": progress,
            "error_message": export.get("error"),
            "download_url": link,
            "expires_at": expires_at,
            "contact_count": export.get("row_count") or 0,
        }
    )


@requires_scope("export")
async def export_download(request: web.Request) -> web.StreamResponse:
    """The file itself, for the token of ``download_url`` (the exports plugin's check)."""
    return await export_routes.serve_file(request)


def routes(prefix: str) -> list[web.RouteDef]:
    i, e = prefix + "/api/v1/contacts/import", prefix + "/api/v2/exports"
    return [
        web.get(i + "/", import_info),
        web.post(i + "/", import_upload),
        web.get(i + "/{job_id}/", import_job),
        web.get(i + "/{job_id}/errors/", import_errors),
        web.post(e + "/contacts/export", export_create),
        web.post(e + "/companies/export", company_export_create),
        web.get(e + "/", export_list),
        web.get(e + "/{export_id}/status", export_status),
        web.get(e + "/{export_id}/download", export_download),
    ]
