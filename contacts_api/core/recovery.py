"""Jobs whose task the queue lost, kicked again: a periodic sweep in workers.

A job (an import, an export) is safe from a dying worker: its task's message stays in
the Redis stream until the task finishes, and is delivered again after
``broker.redelivery_idle_s``. It is not safe from the queue itself: a Redis restarted
without persistence, or a stream deleted by hand, loses the message, and the job would
stay ``pending`` or ``processing`` for good.

A plugin whose task runs a job recorded in its own table registers
:func:`lost_job_sweep` as a resource. In every worker on the Redis broker it sweeps
every ``every_s`` seconds (the first sweep a few seconds after the worker starts): the
jobs ``idle_jobs`` returns (unfinished, and no live task for ``every_s`` seconds) whose
id is in no message of the task's queue (``TaskQueue.queued``: waiting, running, or
left by a dead worker) are kicked again, with ``{payload_key: id}``. Sweeps of several
workers take turns under a Redis lock, and each reads the queue after the jobs, so a
job kicked by one sweep is seen queued by the next. A duplicate message (the queue read
in the moment between a worker handing a job back and its kick) costs a task that
finds the job taken or finished, as any redelivery may.

The in-memory broker (embedded mode) has no queue to lose: its tasks live in the
server's process, which re-starts unfinished jobs when it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from contacts_api.core.resources import ResourceSpec

__all__ = ["kick_lost", "lost_job_sweep", "restart_unfinished"]

log = logging.getLogger("contacts_api.tasks")

# The first sweep after a worker starts (its task queue opens after plugin resources).
FIRST_SWEEP_S = 3.0

# ``idle_jobs(resources, idle_s)``: ids of unfinished jobs without a live task for
# ``idle_s`` seconds.
IdleJobs = Callable[[Any, float], Awaitable[list[str]]]


async def kick_lost(
    resources: Any, task_name: str, payload_key: str, idle_jobs: IdleJobs, idle_s: float
) -> list[str]:
    """Kick ``task_name`` again for the idle jobs in no queued message; return their
    ids (none with the in-memory broker)."""
    idle = await idle_jobs(resources, idle_s)
    if not idle:
        return []
    queued = await resources.tasks.queued(task_name)
    if queued is None:
        return []
    held = {str(payload.get(payload_key)) for payload in queued}
    lost = [job_id for job_id in idle if job_id not in held]
    for job_id in lost:
        log.warning("%s %s: its task was in no queue; kicked again", task_name, job_id)
        await resources.tasks.kick(task_name, **{payload_key: job_id})
    return lost


async def restart_unfinished(
    resources: Any, task_name: str, payload_key: str, idle_jobs: IdleJobs
) -> list[str]:
    """Kick ``task_name`` for every unfinished job without a live task; return their
    ids. For the in-memory broker at start-up: its tasks died with the last process.
    A task meeting a job still run by another process waits until that one stops."""
    ids = await idle_jobs(resources, 0)
    for job_id in ids:
        await resources.tasks.kick(task_name, **{payload_key: job_id})
    if ids:
        log.info("re-started %d unfinished %s job(s)", len(ids), task_name)
    return ids


def lost_job_sweep(
    name: str,
    task_name: str,
    payload_key: str,
    idle_jobs: IdleJobs,
    every_s: Callable[[Any], float],
) -> ResourceSpec:
    """The resource ``name``: in a worker on the Redis broker, :func:`kick_lost` every
    ``every_s(settings)`` seconds (0: never) while the worker's resources are open."""

    async def sweep(resources: Any, period: float) -> None:
        lock = resources.redis.lock(
            f"{resources.settings.redis.key_prefix}:recover:{task_name}",
            timeout=max(30.0, period),
            blocking=False,
        )
        if not await lock.acquire():
            return  # another worker is sweeping
        try:
            await kick_lost(resources, task_name, payload_key, idle_jobs, period)
        finally:
            with contextlib.suppress(Exception):  # expired meanwhile: released by Redis
                await lock.release()

    async def sweep_forever(resources: Any, period: float) -> None:
        await asyncio.sleep(min(FIRST_SWEEP_S, period))
        while True:
            if resources.tasks is not None:
                try:
                    await sweep(resources, period)
                except Exception:  # the database or Redis away for a while: next time
                    log.warning("the sweep for lost %s tasks failed", task_name, exc_info=True)
            await asyncio.sleep(period)

    @contextlib.asynccontextmanager
    async def sweeping(resources: Any) -> AsyncIterator[asyncio.Task | None]:
        period = every_s(resources.settings)
        on_redis = resources.settings.uses_redis_broker and resources.redis is not None
        if resources.role != "worker" or not on_redis or period <= 0:
            yield None
            return
        task = asyncio.create_task(sweep_forever(resources, period))
        try:
            yield task
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return ResourceSpec(name, sweeping)
