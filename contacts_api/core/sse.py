"""Server-Sent Events of a background job's progress (imports, exports).

A job's state lives in its database row, written by whichever worker runs it,
so the stream polls that row (any API process can serve any job) and sends a
snapshot each time it changes:

- ``event: progress`` for every new state, ``event: end`` for the final one
  (then the stream closes);
- ``id:`` is the snapshot's fingerprint. A client that reconnects with
  ``Last-Event-ID`` is not sent that snapshot again: the stream resumes with the
  next change. Snapshots supersede each other, so the states a disconnected
  client missed are not replayed: it gets the current one;
- reconnecting with the id of the final event after the job ended is answered
  ``204 No Content``, which tells ``EventSource`` to stop reconnecting;
- a comment line every ``keepalive_s`` keeps proxies from closing an idle stream;
- every ``reauthorize_s`` the request's credentials are resolved again: a stream
  whose key was revoked, whose token expired or whose caller changed (deleted
  user, narrowed role) closes, and the client's reconnection meets the usual 401.
  An import can stream for half an hour; its credentials should not outlive
  their revocation by that long.

Route handlers check auth and ownership, and answer 404, *before* calling
``stream_snapshots``: errors are JSON answers, never half a stream.
"""

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from contacts_api.core.appkeys import ACTOR, PLUGINS, RESOURCES
from contacts_api.core.errors import ApiError

__all__ = [
    "EVENT_STREAM",
    "LAST_EVENT_ID_PARAMETER",
    "event_id",
    "format_event",
    "sse_responses",
    "stream_snapshots",
]

log = logging.getLogger("contacts_api.sse")

EVENT_STREAM = "text/event-stream"
RETRY_MS = 2000  # EventSource's reconnection delay after a dropped connection
KEEPALIVE_S = 15.0
REAUTHORIZE_S = 15.0

Snapshot = dict[str, Any]


def event_id(snapshot: Snapshot) -> str:
    """A short fingerprint of a snapshot: equal snapshots, equal ids."""
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def format_event(event: str, snapshot: Snapshot) -> bytes:
    """One SSE message (the JSON holds no newline, so one ``data:`` line)."""
    data = json.dumps(snapshot, separators=(",", ":"))
    return f"id: {event_id(snapshot)}\nevent: {event}\ndata: {data}\n\n".encode()


def _closed(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _still_authorized(request: web.Request) -> bool:
    """Whether the request's credentials, resolved again now (not the memoized
    actor), still give the actor they gave when the stream began (the same id,
    kind, role and scopes; anonymous stays anonymous where reads are public)."""
    if ACTOR not in request:  # the route required no credentials
        return True
    app = request.app
    try:
        actor = await app[PLUGINS].actor_from_request(request, app[RESOURCES])
    except ApiError as error:
        if error.status in (401, 403):  # revoked, expired, disabled
            return False
        raise
    return actor == request.get(ACTOR)


async def stream_snapshots(
    request: web.Request,
    first: Snapshot,
    load: Callable[[], Awaitable[Snapshot | None]],
    is_final: Callable[[Snapshot], bool],
    *,
    interval_s: float,
    keepalive_s: float = KEEPALIVE_S,
    reauthorize_s: float | None = None,
) -> web.StreamResponse:
    """Stream ``first`` and then every changed ``load()`` until ``is_final``.

    ``load`` answers the current snapshot, or None once the job is gone (the
    stream then closes). A failing ``load`` closes the stream too, and the
    client resumes with ``Last-Event-ID``. So do credentials that no longer
    authorize the request (checked every ``reauthorize_s``).
    """
    seen = request.headers.get("Last-Event-ID", "").strip()
    if is_final(first) and seen == event_id(first):
        return web.Response(status=204)  # the client already has the final event

    headers = {
        "Content-Type": EVENT_STREAM,
        "Cache-Control": "no-cache, no-store",
        "X-Accel-Buffering": "no",  # nginx: pass each event on at once
    }
    if request.method == "HEAD":  # the headers only: no stream to hold open
        return web.Response(headers=headers)
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    snapshot: Snapshot | None = first
    try:
        await response.write(f"retry: {RETRY_MS}\n\n".encode())
        reauthorize_s = REAUTHORIZE_S if reauthorize_s is None else reauthorize_s
        quiet_since = authorized_at = time.monotonic()
        while snapshot is not None:
            current = event_id(snapshot)
            if current != seen:
                final = is_final(snapshot)
                await response.write(format_event("end" if final else "progress", snapshot))
                seen, quiet_since = current, time.monotonic()
                if final:
                    break
            elif time.monotonic() - quiet_since >= keepalive_s:
                await response.write(b": keep-alive\n\n")
                quiet_since = time.monotonic()
            await asyncio.sleep(interval_s)
            if _closed(request):
                return response
            try:
                if time.monotonic() - authorized_at >= reauthorize_s:
                    if not await _still_authorized(request):
                        log.info(
                            "%s: the credentials no longer authorize it; closing", request.path
                        )
                        return response
                    authorized_at = time.monotonic()
                snapshot = await load()
            except Exception:  # the client reconnects and resumes from `seen`
                log.warning("%s: progress could not be read; closing", request.path, exc_info=True)
                return response
        await response.write_eof()
    except ConnectionError:  # the client went away (aiohttp's ClientConnectionResetError)
        pass
    return response


# -- OpenAPI -------------------------------------------------------------------

LAST_EVENT_ID_PARAMETER: dict[str, Any] = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "description": "The id of the last event received: resume after it (sent by "
    "EventSource when it reconnects).",
    "schema": {"type": "string"},
}


def sse_responses(description: str, snapshot_ref: str) -> dict[str, Any]:
    """The 200 and 204 answers of an event stream of ``snapshot_ref`` objects."""
    return {
        "200": {
            "description": description
            + " Server-Sent Events: `event: progress` for each change of the resource, "
            "then `event: end` with its final state; each `data` is the resource as JSON "
            "(" + snapshot_ref.rsplit("/", 1)[-1] + "); `id` identifies the state.",
            "content": {
                EVENT_STREAM: {"schema": {"type": "string"}},
            },
        },
        "204": {"description": "Last-Event-ID is the final event's: nothing more to send."},
    }
