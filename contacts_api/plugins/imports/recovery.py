"""Import jobs whose task the queue lost, kicked again (``core.recovery``).

A job whose worker died and whose message a Redis restarted without persistence lost
would stay ``pending`` or ``processing`` for good, a bulk load with the secondary
indexes of contacts dropped. Every worker on the Redis broker looks every
``imports.recover_lost_s`` seconds for unfinished jobs that nobody has held a live
lease on for that long and whose id is in no queued message, and kicks them again:
the run resumes from the last committed batch, as a redelivered one does. A duplicate
message waits for the job's lease and returns once the job has ended.
"""

from __future__ import annotations

from typing import Any

from contacts_api.core.recovery import kick_lost, lost_job_sweep
from contacts_api.plugins.imports import repository as repo
from contacts_api.plugins.imports.service import TASK_NAME


async def idle_jobs(resources: Any, idle_s: float) -> list[str]:
    """Unfinished jobs nobody has held a live lease on for ``idle_s`` seconds."""
    return await repo.idle_job_ids(resources.db, idle_s)


async def recover_lost(resources: Any, idle_s: float) -> list[str]:
    """Kick again the jobs idle for ``idle_s`` seconds whose task is in no queue."""
    return await kick_lost(resources, TASK_NAME, "job_id", idle_jobs, idle_s)


SWEEP = lost_job_sweep(
    "imports_recovery",
    TASK_NAME,
    "job_id",
    idle_jobs,
    every_s=lambda settings: settings.imports.recover_lost_s,
)
