"""Exports a stopped process left unfinished are started again: by the workers' sweep
for tasks the queue lost (Redis, ``core.recovery``), by the server when it starts
(in-memory broker)."""

import json
import uuid

import psycopg2

from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.recovery import kick_lost
from contacts_api.plugins.exports.task import TASK_NAME, _idle_exports
from tests.helpers import assert_kicks_the_lost_jobs_once
from tests.plugins.exports.conftest import wait_done


def _export(settings, status: str, heartbeat_s_ago: float | None) -> str:
    """An export row as a stopped worker left it (``heartbeat_s_ago`` None: never
    started; created 10 minutes ago), selecting one contact that does not exist."""
    export_id = str(uuid.uuid4())
    conn = psycopg2.connect(settings.database.url.reveal())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO exports (id, owner_id, status, selection, file_name,"
                " storage_key, row_count, created_at, heartbeat_at)"
                " VALUES (%s, 'alice', %s, %s, 'x.csv', %s, 0,"
                " now() - interval '10 minutes',"
                " now() - make_interval(secs => %s))",
                (
                    export_id,
                    status,
                    json.dumps({"contact_uuids": [str(uuid.uuid4())]}),
                    f"exports/{export_id}.csv",
                    heartbeat_s_ago or 0,
                ),
            )
            if heartbeat_s_ago is None:
                cur.execute("UPDATE exports SET heartbeat_at = NULL WHERE id = %s", (export_id,))
    finally:
        conn.close()
    return export_id


async def test_only_idle_exports_in_no_queue_are_kicked_again_and_only_once(
    export_client, settings_factory
):
    settings = settings_factory(CONTACTS_API__BROKER__BACKEND="redis")
    client = await export_client(settings)  # sends tasks to Redis; runs none
    resources = client.app[RESOURCES]
    tasks = resources.tasks
    lost_running = _export(settings, "processing", heartbeat_s_ago=300)
    lost_pending = _export(settings, "pending", heartbeat_s_ago=None)
    queued = _export(settings, "processing", heartbeat_s_ago=300)
    await tasks.kick(TASK_NAME, export_id=queued)  # its message waits in the queue
    _export(settings, "processing", heartbeat_s_ago=5)  # a live task's heartbeat
    _export(settings, "completed", heartbeat_s_ago=300)

    await assert_kicks_the_lost_jobs_once(
        tasks,
        TASK_NAME,
        "export_id",
        lambda: kick_lost(resources, TASK_NAME, "export_id", _idle_exports, 60),
        lost=[lost_running, lost_pending],
        queued=[queued],
    )


async def test_the_server_restarts_the_exports_a_stopped_process_left(
    export_client, settings_factory
):
    settings = settings_factory(CONTACTS_API__BROKER__BACKEND="memory")
    left = _export(settings, "processing", heartbeat_s_ago=300)
    never_started = _export(settings, "pending", heartbeat_s_ago=None)
    client = await export_client(settings)
    for export_id in (left, never_started):
        export = await wait_done(client, export_id)
        assert export["status"] == "completed" and export["row_count"] == 0
