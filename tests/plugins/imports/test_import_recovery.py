"""Jobs whose task the queue lost (``plugins/imports/recovery.py``): only an unfinished
job idle for the sweep's period and in no message of the imports queue is kicked
again, and only once. (A real worker finishing such a job after its stream was deleted:
``test_import_bulk``.)"""

import uuid

from contacts_api.core.appkeys import RESOURCES
from contacts_api.plugins.imports.recovery import recover_lost
from contacts_api.plugins.imports.service import TASK_NAME
from tests.helpers import assert_kicks_the_lost_jobs_once
from tests.plugins.imports.conftest import query


def _job(settings, status: str, lease_expired_s_ago: float | None) -> str:
    """A job row as a worker left it: ``lease_expired_s_ago`` None for a job never
    taken (created 10 minutes ago)."""
    job_id = str(uuid.uuid4())
    leased = lease_expired_s_ago is not None
    query(
        settings,
        "INSERT INTO import_jobs (id, status, file_name, storage_key, created_at,"
        " started_at, lease_owner, lease_expires_at)"
        " VALUES (%s, %s, 'leads.csv', 'imports/x', now() - interval '10 minutes',"
        " CASE WHEN %s THEN now() - interval '9 minutes' END,"
        " CASE WHEN %s THEN 'gone-worker' END,"
        " now() - make_interval(secs => %s))",
        (job_id, status, leased, leased, lease_expired_s_ago or 0),
    )
    if not leased:
        query(settings, "UPDATE import_jobs SET lease_expires_at = NULL WHERE id = %s", (job_id,))
    return job_id


async def test_only_idle_jobs_in_no_queue_are_kicked_again_and_only_once(
    import_client, settings_factory
):
    settings = settings_factory(CONTACTS_API__BROKER__BACKEND="redis")
    client = await import_client(settings)  # sends tasks to Redis; runs none
    resources = client.app[RESOURCES]
    tasks = resources.tasks
    lost_running = _job(settings, "processing", lease_expired_s_ago=300)
    lost_pending = _job(settings, "pending", lease_expired_s_ago=None)
    queued = _job(settings, "processing", lease_expired_s_ago=300)
    await tasks.kick(TASK_NAME, job_id=queued)  # its message waits in the queue
    _job(settings, "processing", lease_expired_s_ago=5)  # idle, but not for long
    _job(settings, "completed", lease_expired_s_ago=300)
    _job(settings, "failed", lease_expired_s_ago=None)

    await assert_kicks_the_lost_jobs_once(
        tasks,
        TASK_NAME,
        "job_id",
        lambda: recover_lost(resources, idle_s=60),
        lost=[lost_running, lost_pending],
        queued=[queued],
    )


async def test_without_a_queue_to_read_nothing_is_kicked(import_client, memory_settings):
    """The in-memory broker's tasks live in the process: the server's startup re-starts
    unfinished jobs instead."""
    client = await import_client(memory_settings)
    resources = client.app[RESOURCES]
    _job(memory_settings, "processing", lease_expired_s_ago=300)
    assert await resources.tasks.queued(TASK_NAME) is None
    assert await recover_lost(resources, idle_s=60) == []
