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
- a comment line every ``keepalive_s`` keeps proxies from closing an idle stream.

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


async def stream_snapshots(
    request: web.Request,
    first: Snapshot,
    load: Callable[[], Awaitable[Snapshot | None]],
    is_final: Callable[[Snapshot], bool],
    *,
    interval_s: float,
    keepalive_s: float = KEEPALIVE_S,
) -> web.StreamResponse:
    """Stream ``first`` and then every changed ``load()`` until ``is_final``.

    ``load`` answers the current snapshot, or None once the job is gone (the
    stream then closes). A failing ``load`` closes the stream too, and the
    client resumes with ``Last-Event-ID``.
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
        quiet_since = time.monotonic()
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
