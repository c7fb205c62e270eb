"""``GET /api/v2/exports/{export_id}/events``: an export's progress as Server-Sent
Events (``core.sse``), for its owner only, like ``GET /api/v2/exports/{export_id}``."""

from typing import Any

from aiohttp import web

from contacts_api import requires_scope
from contacts_api.core.auth import require_actor
from contacts_api.core.openapi import error_response_refs
from contacts_api.core.sse import LAST_EVENT_ID_PARAMETER, sse_responses, stream_snapshots
from contacts_api.plugins.exports.routes import _owned, _repo, serialize

__all__ = ["OPENAPI_PATHS", "routes"]

routes = web.RouteTableDef()
FINAL = ("completed", "failed")
POLL_INTERVAL_S = 0.5


@routes.get("/api/v2/exports/{export_id}/events")
@requires_scope("export")
async def export_events(request: web.Request) -> web.StreamResponse:
    export = await _owned(request, await require_actor(request))  # 404 for another's
    repo, export_id = _repo(request), export["id"]

    async def load() -> dict[str, Any] | None:
        current = await repo.get(export_id)
        return None if current is None else serialize(current)

    return await stream_snapshots(
        request,
        serialize(export),
        load,
        lambda snapshot: snapshot["status"] in FINAL,
        interval_s=POLL_INTERVAL_S,
    )


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v2/exports/{export_id}/events": {
        "get": {
            "tags": ["exports"],
            "operationId": "streamExportEvents",
            "security": [{"bearer": []}],
            "summary": "An export's progress, live (Server-Sent Events)",
            "description": "One event per change of the export, then a final `end` event "
            "(status `completed` or `failed`) and the stream closes. Reconnect with "
            "`Last-Event-ID` to resume. Polling the export's route works as well.",
            "parameters": [
                {
                    "name": "export_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                },
                LAST_EVENT_ID_PARAMETER,
            ],
            "responses": {
                **sse_responses("The export's progress.", "#/components/schemas/Export"),
                **error_response_refs(401, 404),
            },
        }
    }
}
