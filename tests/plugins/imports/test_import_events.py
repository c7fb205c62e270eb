"""``GET /api/v1/contacts/import/{job_id}/events``: a job's progress as SSE."""

import uuid

import pytest

from contacts_api.plugins.imports import events as import_events
from tests.plugins.imports.conftest import WRITE, generate_csv, upload, wait_job
from tests.sse_client import read_events

ROWS = 3000


@pytest.fixture
def fast_polling(monkeypatch):
    monkeypatch.setattr(import_events, "POLL_INTERVAL_S", 0.02)


@pytest.fixture
def small_batches(settings_factory):
    """Many batches, so a running job shows progress several times."""
    return settings_factory(
        CONTACTS_API__BROKER__BACKEND="memory", CONTACTS_API__IMPORTS__BATCH_SIZE="100"
    )


def events_url(job_id: str) -> str:
    return f"/api/v1/contacts/import/{job_id}/events"


async def start(client) -> str:
    content, _ = generate_csv(ROWS)
    response = await upload(client, content)
    assert response.status == 202, await response.text()
    return (await response.json())["id"]


async def test_events_arrive_while_the_import_runs_in_order_and_end_with_the_status(
    import_client, small_batches, fast_polling
):
    client = await import_client(small_batches)
    job_id = await start(client)
    response = await client.get(events_url(job_id), headers=WRITE)
    assert response.headers["Cache-Control"].startswith("no-cache")
    received = await read_events(response)

    *progress, last = received
    assert [e.event for e in progress] == ["progress"] * len(progress)
    assert last.event == "end" and last.data["status"] == "completed"
    assert last.data == await wait_job(client, job_id)  # the job route's own answer
    assert last.data["processed_rows"] == last.data["created_count"] == ROWS
    running = [e for e in progress if e.data["status"] == "processing"]
    assert any(0 < e.data["processed_rows"] < ROWS for e in running), "no event mid-import"
    counts = [e.data["processed_rows"] for e in received]
    assert counts == sorted(counts)  # in order
    ranks = ["pending", "processing", "completed"]
    assert [ranks.index(e.data["status"]) for e in received] == sorted(
        ranks.index(e.data["status"]) for e in received
    )
    ids = [e.id for e in received]
    assert all(ids) and len(set(ids)) == len(ids)  # one event per change, none repeated
    assert response.content.at_eof()  # closed when the job ended


async def test_last_event_id_resumes_after_the_last_event_seen(
    import_client, small_batches, fast_polling
):
    client = await import_client(small_batches)
    job_id = await start(client)
    first = await client.get(events_url(job_id), headers=WRITE)
    seen = await read_events(first, stop_after=1)
    first.close()

    resumed = await client.get(events_url(job_id), headers={**WRITE, "Last-Event-ID": seen[0].id})
    rest = await read_events(resumed)
    assert rest[-1].event == "end" and rest[-1].data["status"] == "completed"
    assert seen[0].id not in [e.id for e in rest]  # the seen event is not sent again
    assert rest[0].data["processed_rows"] >= seen[0].data["processed_rows"]

    # Resuming after the final event: nothing more (204 stops EventSource).
    done = await client.get(events_url(job_id), headers={**WRITE, "Last-Event-ID": rest[-1].id})
    assert done.status == 204


async def test_a_finished_job_streams_its_final_event_and_closes(import_client, small_batches):
    client = await import_client(small_batches)
    job = await wait_job(client, await start(client))
    for last_event_id in ({}, {"Last-Event-ID": "not-an-id-we-sent"}):
        response = await client.get(events_url(job["id"]), headers={**WRITE, **last_event_id})
        events = await read_events(response)
        assert [(e.event, e.data) for e in events] == [("end", job)]


async def test_events_need_the_same_credentials_as_the_job_route(import_client, small_batches):
    client = await import_client(small_batches)
    job_id = await start(client)
    response = await client.get(events_url(job_id))
    assert response.status == 401
    assert (await response.json())["error_code"] == "NOT_AUTHENTICATED"
    response = await client.get(events_url(str(uuid.uuid4())), headers=WRITE)
    assert response.status == 404 and (await response.json())["error_code"] == "NOT_FOUND"
    response = await client.get(events_url("not-a-uuid"), headers=WRITE)
    assert response.status == 404
    await wait_job(client, job_id)
