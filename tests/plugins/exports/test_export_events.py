"""``GET /api/v2/exports/{export_id}/events``: an export's progress as SSE, for
its owner only."""

import uuid

import pytest

from contacts_api.plugins.exports import events as export_events
from tests.plugins.exports.conftest import as_user, seed, wait_done
from tests.sse_client import read_events

ALICE, BOB = as_user("alice"), as_user("bob")
STATUSES = ["pending", "processing", "completed"]


@pytest.fixture
def fast_polling(monkeypatch):
    monkeypatch.setattr(export_events, "POLL_INTERVAL_S", 0.02)


async def start_export(client) -> str:
    await seed(client, [{"first_name": f"P{n}", "email": f"p{n}@example.com"} for n in range(5)])
    response = await client.post(
        "/api/v2/exports/contacts/export",
        json={"filters": {"email": ["example.com"]}},
        headers=ALICE,
    )
    assert response.status == 202, await response.text()
    return (await response.json())["id"]


async def test_the_owner_sees_the_states_in_order_then_the_final_one(
    export_client, settings, fast_polling
):
    client = await export_client(settings)
    export_id = await start_export(client)
    received = await read_events(
        await client.get(f"/api/v2/exports/{export_id}/events", headers=ALICE)
    )
    *progress, last = received
    assert all(e.event == "progress" for e in progress)
    assert last.event == "end" and last.data == await wait_done(client, export_id)
    assert last.data["status"] == "completed" and last.data["row_count"] == 5
    ranks = [STATUSES.index(e.data["status"]) for e in received]
    assert ranks == sorted(ranks) and len(set(e.id for e in received)) == len(received)


async def test_resuming_after_the_final_event_answers_204(export_client, settings):
    client = await export_client(settings)
    export_id = await start_export(client)
    await wait_done(client, export_id)
    url = f"/api/v2/exports/{export_id}/events"
    (final,) = await read_events(await client.get(url, headers=ALICE))
    assert final.event == "end"
    resumed = await client.get(url, headers={**ALICE, "Last-Event-ID": final.id})
    assert resumed.status == 204


async def test_only_the_owner_may_listen(export_client, settings):
    client = await export_client(settings)
    export_id = await start_export(client)
    url = f"/api/v2/exports/{export_id}/events"
    for headers, status, code in (
        (BOB, 404, "NOT_FOUND"),  # someone else's export is not found, as on its route
        ({}, 401, "NOT_AUTHENTICATED"),
    ):
        response = await client.get(url, headers=headers)
        assert response.status == status
        assert (await response.json())["error_code"] == code
    response = await client.get(f"/api/v2/exports/{uuid.uuid4()}/events", headers=ALICE)
    assert response.status == 404
    await wait_done(client, export_id)
