"""A test plugin with one slow task, installed through an entry point for worker
subprocesses. The task logs each attempt in Redis; the first attempt sleeps
so a test can kill the worker in the middle of it."""

import asyncio
import os

from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.tasks import TaskSpec


async def sleepy(resources, *, key: str, seconds: float) -> None:
    redis = resources.redis
    attempt = await redis.incr(f"{key}:attempts")
    shared = ",".join(
        sorted(
            name
            for name in ("db", "redis", "cache", "storage", "tasks")
            if getattr(resources, name) is not None
        )
    )
    await redis.rpush(f"{key}:log", f"start {attempt} {resources.role} {os.getpid()} {shared}")
    await resources.db.fetch_val("SELECT 1")
    if attempt == 1:
        await asyncio.sleep(seconds)
    await redis.rpush(f"{key}:log", f"done {attempt}")


@hookimpl
def register_tasks():
    # the same task on a second queue, for workers reading several queues
    return [
        TaskSpec("probe.sleepy", sleepy, queue="probe"),
        TaskSpec("probe.sleepy_elsewhere", sleepy, queue="probe_elsewhere"),
    ]
