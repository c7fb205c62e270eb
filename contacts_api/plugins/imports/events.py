"""``GET /api/v1/contacts/import/{job_id}/events``: a job's progress as Server-Sent
Events (``core.sse``), for the same callers as the job's status route."""

from typing import Any

from aiohttp import web

from contacts_api import require_v1_read, requires_scope
from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.errors import NotFound
from contacts_api.core.openapi import error_response_refs
from contacts_api.core.requests import path_uuid
from contacts_api.core.sse import LAST_EVENT_ID_PARAMETER, sse_responses, stream_snapshots
from contacts_api.plugins.imports import repository as repo
from contacts_api.plugins.imports.service import FINAL, serialize_job

__all__ = ["OPENAPI_PATHS", "routes"]

routes = web.RouteTableDef()
# How often the stream re-reads the job row. The worker writes progress at most
# every PROGRESS_EVERY_S (tasks.py), so polling faster only adds queries.
POLL_INTERVAL_S = 0.5


@routes.get("/api/v1/contacts/import/{job_id}/events")
@requires_scope("import")
async def job_events(request: web.Request) -> web.StreamResponse:
    await require_v1_read(request)
    db, job_id = request.app[RESOURCES].db, str(path_uuid(request, "job_id"))

    async def load() -> dict[str, Any] | None:
        job = await repo.get_job(db, job_id)
        return None if job is None else serialize_job(job)

    first = await load()
    if first is None:
        raise NotFound("No import job has this id.")
    return await stream_snapshots(
        request, first, load, lambda job: job["status"] in FINAL, interval_s=POLL_INTERVAL_S
    )


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/contacts/import/{job_id}/events": {
        "get": {
            "tags": ["import"],
            "operationId": "streamImportJobEvents",
            "security": [{"writeKey": []}, {"readKey": []}, {"bearer": []}],
            "summary": "An import job's progress, live (Server-Sent Events)",
            "description": "One event per change of the job, then a final `end` event "
            "(status `completed` or `failed`) and the stream closes. Reconnect with "
            "`Last-Event-ID` to resume. Polling the job's route works as well.",
            "parameters": [
                {
                    "name": "job_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                },
                LAST_EVENT_ID_PARAMETER,
            ],
            "responses": {
                **sse_responses("The job's progress.", "#/components/schemas/ImportJob"),
                **error_response_refs(401, 404),
            },
        }
    }
}
