"""Background tasks: the taskiq broker and the ``TaskQueue`` plugins kick tasks with.

Plugins declare tasks with ``register_tasks`` as ``TaskSpec``s with stable
names. A task is called as ``await func(resources, **payload)``; ``payload``
is JSON. Each task runs on a named queue (a Redis stream
``<redis.key_prefix>:queue:<queue>``), so workers can be scaled per queue
(``contacts-api worker --queue imports``).

With Redis, the broker is taskiq-redis' stream broker (``core.streams``): a message is
acknowledged only after its task finished, so a task whose worker died is
delivered again (after ``broker.redelivery_idle_s``); tasks must therefore be
idempotent or resumable. Without Redis, an ``InMemoryBroker`` runs tasks in
the API process.

A worker that is told to stop (SIGTERM) sets ``TaskQueue.stopping``: a long task
checks it at its safe points (a transaction boundary), leaves its work resumable and
raises :class:`TaskInterrupted`; the task is then kicked again with the same payload,
so that another worker takes it over at once instead of after
``broker.redelivery_idle_s``.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import attrs
from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends

from contacts_api.core.settings import Settings

__all__ = ["TaskInterrupted", "TaskQueue", "TaskSpec", "make_broker"]

log = logging.getLogger("contacts_api.tasks")


class TaskInterrupted(Exception):
    """Raised by a task that stopped at a safe point because its process is stopping
    (``TaskQueue.stopping``): its work is resumable, so it is handed back to the queue
    with the same payload."""


@attrs.frozen
class TaskSpec:
    """A background task.

    ``name``: stable and unique (``"imports.run"``), independent of module paths.
    ``func``: ``async def func(resources, **payload)``.
    ``queue``: the queue it runs on (workers may serve a subset of queues).
    """

    name: str
    func: Callable[..., Awaitable[Any]]
    queue: str = "default"


def queue_stream(settings: Settings, queue: str) -> str:
    return f"{settings.redis.key_prefix}:queue:{queue}"


def make_broker(
    settings: Settings,
    tasks: Iterable[TaskSpec],
    *,
    queues: Iterable[str] | None = None,
    await_inplace: bool = False,
) -> AsyncBroker:
    """Build the broker and register every task on it.

    ``queues`` limits which queues this process consumes (worker only).
    """
    tasks = list(tasks)
    if settings.uses_redis_broker:
        from contacts_api.core.streams import ReclaimingStreamBroker

        consumed = sorted(set(queues or {t.queue for t in tasks} or {"default"}))
        streams = [queue_stream(settings, q) for q in consumed]
        broker: AsyncBroker = ReclaimingStreamBroker(
            settings.redis.url.reveal(),
            queue_name=streams[0],
            additional_streams={s: ">" for s in streams[1:]},
            consumer_group_name=f"{settings.redis.key_prefix}:workers",
            # A group created on a stream that already holds tasks (kicked after Redis
            # lost the group) delivers them; "$" (taskiq-redis' default) skipped them.
            consumer_id="0",
            idle_timeout=settings.broker.redelivery_idle_s * 1000,
            # Without it, a worker killed during autoclaim leaves the lock forever.
            unacknowledged_lock_timeout=30,
            # redis-py 8 defaults to 5 s, which crash-loops idle stream readers.
            socket_timeout=None,
        )
    else:
        broker = InMemoryBroker(await_inplace=await_inplace)
    for spec in tasks:
        broker.register_task(
            _bind_resources(spec.func),
            task_name=spec.name,
            queue_name=queue_stream(settings, spec.queue),
        )
    return broker


def _bind_resources(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def run(payload: dict[str, Any], context: Context = TaskiqDepends()) -> Any:
        resources = context.state.resources
        queue: TaskQueue = resources.tasks
        name = context.message.task_name
        current = asyncio.current_task()
        if current is not None:
            queue.running.add(current)
        try:
            return await func(resources, **payload)
        except TaskInterrupted:
            # Handed back: a new message, taken at once by a worker that is not stopping
            # (this one reads no more); the message of this run is acknowledged.
            await queue.kick(name, **payload)
            log.info("task %s handed back to the queue: this worker is stopping", name)
            return None
        except asyncio.CancelledError:
            if not queue.stopping.is_set() or current is None:
                raise
            # Cancelled by the worker at the end of its grace period: hand the task back
            # and end as a task that stopped (the receiver acknowledges its message),
            # not as one that failed.
            current.uncancel()
            await queue.kick(name, **payload)
            log.warning("task %s cancelled at the end of the grace period; handed back", name)
            return None
        finally:
            if current is not None:
                queue.running.discard(current)

    run.__name__ = run.__qualname__ = getattr(func, "__name__", "task")
    return run


class TaskQueue:
    """What plugins use to start background work: ``await tasks.kick(name, **payload)``.

    ``stopping`` is set when this process stops running tasks (a worker's SIGTERM):
    long tasks check it at their safe points and raise :class:`TaskInterrupted`.
    ``running`` holds the asyncio tasks running a task of this process.
    """

    def __init__(self, broker: AsyncBroker, names: Iterable[str]):
        self.broker = broker
        self.names = frozenset(names)
        self.stopping = asyncio.Event()
        self.running: set[asyncio.Task] = set()

    async def kick(self, name: str, **payload: Any) -> None:
        if name not in self.names:
            raise KeyError(f"no task named {name!r} is registered")
        task = self.broker.find_task(name)
        assert task is not None
        await task.kiq(payload)

    async def queued(self, name: str) -> list[dict[str, Any]] | None:
        """The payloads of task ``name``'s unfinished runs in its queue (waiting, or
        running and not yet acknowledged), for a task whose work is recorded elsewhere
        (a job row) to find out whether the queue still holds it. None when the queue
        cannot be read (the in-memory broker: its tasks live in this process)."""
        if name not in self.names:
            raise KeyError(f"no task named {name!r} is registered")
        from contacts_api.core.streams import ReclaimingStreamBroker

        if not isinstance(self.broker, ReclaimingStreamBroker):
            return None
        task = self.broker.find_task(name)
        assert task is not None
        payloads = []
        for data in await self.broker.queued(task.labels["queue_name"]):
            message = self.broker.formatter.loads(data)
            if message.task_name == name and message.args and isinstance(message.args[0], dict):
                payloads.append(message.args[0])
        return payloads
