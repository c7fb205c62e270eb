"""The taskiq broker entry for workers.

``contacts-api worker`` runs it; so does taskiq's own CLI
(``taskiq worker contacts_api.workers.broker:broker``). On worker startup it opens the very
same resources as the web app (``core.resources.open_resources``) and hands
them to tasks; it never fakes a web request.
"""

import asyncio
import logging
from collections.abc import Iterable
from contextlib import AsyncExitStack
from typing import Any

from taskiq import AsyncBroker, TaskiqEvents, TaskiqState

from contacts_api.core.plugins import Plugins
from contacts_api.core.resources import open_resources
from contacts_api.core.settings import Settings, load_settings
from contacts_api.core.tasks import make_broker

__all__ = ["build_worker_broker", "run_worker"]

log = logging.getLogger("contacts_api.worker")


def build_worker_broker(
    settings: Settings, plugins: Plugins, queues: Iterable[str] | None = None
) -> AsyncBroker:
    """A broker consuming ``queues`` (all plugin queues when None), whose
    startup opens the shared resources."""
    broker = make_broker(settings, plugins.tasks(), queues=queues)
    stack = AsyncExitStack()

    async def open_shared(state: TaskiqState) -> None:
        state.resources = await stack.enter_async_context(
            open_resources(settings, plugins, role="worker", broker=broker)
        )
        log.info("worker resources open; tasks: %s", ", ".join(sorted(broker.get_all_tasks())))

    async def close_shared(state: TaskiqState) -> None:
        await stack.aclose()

    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, open_shared)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, close_shared)
    return broker


async def run_worker(
    settings: Settings,
    plugins: Plugins,
    queues: Iterable[str] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Consume tasks until ``stop`` is set (or the task is cancelled), then shut
    down cleanly. A task is acknowledged only once it has finished."""
    from taskiq.acks import AcknowledgeType
    from taskiq.api import run_receiver_task

    broker = build_worker_broker(settings, plugins, queues)
    broker.is_worker_process = True
    await broker.startup()
    receiver = asyncio.create_task(
        run_receiver_task(
            broker,
            run_startup=False,
            ack_time=AcknowledgeType.WHEN_EXECUTED,
            max_async_tasks=settings.broker.max_concurrent_tasks,
        )
    )
    try:
        if stop is None:
            await receiver
        else:
            await stop.wait()
    finally:
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        await broker.shutdown()


def __getattr__(name: str) -> Any:
    # `taskiq worker contacts_api.workers.broker:broker`: built on first access, not at import.
    if name == "broker":
        plugins = Plugins.load(load_settings())
        return build_worker_broker(plugins.settings, plugins)
    raise AttributeError(name)
