"""``core.sse.stream_snapshots``: one event per change, keep-alives while nothing
changes, the final event last, resumption, and no more reads once the client left."""

import asyncio

from aiohttp import web

from contacts_api.core.sse import event_id, stream_snapshots
from tests.sse_client import read_events


def app_streaming(states: list[dict], reads: list[int], *, keepalive_s: float = 60.0):
    """An app whose ``/events`` streams ``states`` one read at a time (the last
    one repeats), counting the reads."""

    async def handler(request: web.Request) -> web.StreamResponse:
        position = {"n": 0}

        async def load():
            reads.append(1)
            position["n"] = min(position["n"] + 1, len(states) - 1)
            return states[position["n"]]

        return await stream_snapshots(
            request,
            states[0],
            load,
            lambda s: s["status"] == "done",
            interval_s=0.01,
            keepalive_s=keepalive_s,
        )

    app = web.Application()
    app.router.add_get("/events", handler)  # answers HEAD too
    return app


async def test_one_event_per_change_then_the_final_one(aiohttp_client):
    states = [{"status": "a", "n": 0}] * 3 + [{"status": "a", "n": 1}] * 2 + [{"status": "done"}]
    client = await aiohttp_client(app_streaming(states, []))
    events = await read_events(await client.get("/events"))
    assert [(e.event, e.data) for e in events] == [
        ("progress", {"status": "a", "n": 0}),
        ("progress", {"status": "a", "n": 1}),
        ("end", {"status": "done"}),
    ]
    assert [e.id for e in events] == [event_id(e.data) for e in events]


async def test_keep_alive_comments_while_nothing_changes(aiohttp_client):
    states = [{"status": "a"}] * 30 + [{"status": "done"}]
    client = await aiohttp_client(app_streaming(states, [], keepalive_s=0.05))
    body = await (await client.get("/events")).text()
    assert body.count(": keep-alive") >= 2
    assert body.startswith("retry: ") and body.rstrip().endswith('"done"}')


async def test_resuming_skips_the_state_already_seen(aiohttp_client):
    states = [{"status": "a"}, {"status": "a"}, {"status": "b"}, {"status": "done"}]
    client = await aiohttp_client(app_streaming(states, []))
    seen = event_id({"status": "a"})
    events = await read_events(await client.get("/events", headers={"Last-Event-ID": seen}))
    assert [e.data["status"] for e in events] == ["b", "done"]


async def test_a_client_that_leaves_stops_the_reads(aiohttp_client):
    reads: list[int] = []
    client = await aiohttp_client(app_streaming([{"status": "a"}], reads))
    response = await client.get("/events")
    await read_events(response, stop_after=1)
    response.close()
    await asyncio.sleep(0.2)
    settled = len(reads)
    await asyncio.sleep(0.3)
    assert len(reads) == settled  # the loop ended with the connection


async def test_head_answers_the_headers_without_holding_a_stream(aiohttp_client):
    reads: list[int] = []
    client = await aiohttp_client(app_streaming([{"status": "a"}], reads))
    response = await asyncio.wait_for(client.head("/events"), 5)
    assert response.status == 200 and response.content_type == "text/event-stream"
    assert reads == []
