"""Jobs whose task the queue lost, kicked again.

A job is safe from a dying worker: its task's message stays in the Redis stream until
the task finishes, and is delivered again after ``broker.redelivery_idle_s``. It is not
safe from the queue itself: a Redis restarted without persistence, or a stream deleted
by hand, loses the message, and the job would stay ``pending`` or ``processing`` for
good (a bulk load with the secondary indexes of contacts dropped).

So every worker on the Redis broker sweeps every ``imports.recover_lost_s`` seconds
(the first sweep a few seconds after it starts): an unfinished job that nobody has held
a live lease on for that long, and whose id is in no message of the imports queue
(``TaskQueue.queued``: waiting, running or left by a dead worker), is kicked again. Its
run resumes from the last committed batch, as a redelivered one does. Sweeps of several
workers take turns under a Redis lock, and each reads the queue after the jobs, so a
job kicked by one sweep is seen queued by the next. A duplicate message (the queue
read just before a worker handed a job back) costs a task that waits for the job's
lease and returns once the job has ended.

The in-memory broker (embedded mode) has no queue to lose: the server re-starts
unfinished jobs when it starts (the plugin's ``startup`` hook).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from contacts_api.plugins.imports import repository as repo
from contacts_api.plugins.imports.service import TASK_NAME

log = logging.getLogger("contacts_api.imports")

# The first sweep after the worker starts (its task queue opens after this resource).
FIRST_SWEEP_S = 3.0


async def recover_lost(resources: Any, idle_s: float) -> list[str]:
    """Kick again the unfinished jobs idle for ``idle_s`` seconds whose task is in no
    queue; return their ids (none with the in-memory broker)."""
    idle = await repo.idle_job_ids(resources.db, idle_s)
    if not idle:
        return []
    queued = await resources.tasks.queued(TASK_NAME)
    if queued is None:
        return []
    held = {str(payload.get("job_id")) for payload in queued}
    lost = [job_id for job_id in idle if job_id not in held]
    for job_id in lost:
        log.warning("import %s: its task was in no queue; kicked again", job_id)
        await resources.tasks.kick(TASK_NAME, job_id=job_id)
    return lost


async def _sweep(resources: Any, idle_s: float) -> None:
    lock = resources.redis.lock(
        f"{resources.settings.redis.key_prefix}:imports:recover",
        timeout=max(30.0, idle_s),
        blocking=False,
    )
    if not await lock.acquire():
        return  # another worker is sweeping
    try:
        await recover_lost(resources, idle_s)
    finally:
        with contextlib.suppress(Exception):  # expired meanwhile: released by Redis
            await lock.release()


async def _sweep_forever(resources: Any, every_s: float) -> None:
    await asyncio.sleep(min(FIRST_SWEEP_S, every_s))
    while True:
        if resources.tasks is not None:
            try:
                await _sweep(resources, every_s)
            except Exception:  # the database or Redis away for a while: next time
                log.warning("the sweep for lost import jobs failed", exc_info=True)
        await asyncio.sleep(every_s)


@contextlib.asynccontextmanager
async def sweeping(resources: Any) -> AsyncIterator[asyncio.Task | None]:
    """The resource ``imports_recovery``: in a worker on the Redis broker, the sweep
    runs in the background while the worker's resources are open."""
    every_s = resources.settings.imports.recover_lost_s
    on_redis = resources.settings.uses_redis_broker and resources.redis is not None
    if resources.role != "worker" or not on_redis or every_s <= 0:
        yield None
        return
    task = asyncio.create_task(_sweep_forever(resources, every_s))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
