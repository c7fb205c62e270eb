"""The taskiq broker entry for workers.

``contacts-api worker`` runs it; so does taskiq's own CLI
(``taskiq worker contacts_api.workers.broker:broker``). On worker startup it opens the very
same resources as the web app (``core.resources.open_resources``) and hands
them to tasks; it never fakes a web request.
"""

import asyncio
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import Any

from taskiq import AsyncBroker, TaskiqEvents, TaskiqState
from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver

from contacts_api.core.plugins import Plugins
from contacts_api.core.resources import open_resources
from contacts_api.core.settings import Settings, load_settings
from contacts_api.core.tasks import TaskQueue, make_broker

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
    down cleanly. A task is acknowledged only once it has finished.

    The shutdown (SIGTERM): stop taking tasks; set ``tasks.stopping`` so that running
    tasks stop at their next safe point and hand themselves back to the queue; cancel
    those still running near the end of ``broker.shutdown_grace_s`` (they hand
    themselves back too); close the shared resources only then.
    """
    broker = build_worker_broker(settings, plugins, queues)
    broker.is_worker_process = True
    await broker.startup()
    finish = asyncio.Event()  # the receiver takes no more messages once set
    with ThreadPoolExecutor() as executor:
        receiver = Receiver(
            broker=broker,
            executor=executor,
            run_startup=False,
            max_async_tasks=settings.broker.max_concurrent_tasks,
            ack_type=AcknowledgeType.WHEN_EXECUTED,
        )
        listening = asyncio.create_task(_listen(receiver, finish))
        stopped = asyncio.ensure_future((stop or asyncio.Event()).wait())
        try:
            await asyncio.wait({listening, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            await _drain(broker.state.resources.tasks, finish, listening, settings)
            await broker.shutdown()


async def _listen(receiver: Receiver, finish: asyncio.Event) -> None:
    """Run the receiver until ``finish``; a broker failure restarts it (as taskiq's
    own ``run_receiver_task`` does)."""
    while not finish.is_set():
        try:
            await receiver.listen(finish)
        except Exception:
            log.warning("the task receiver failed; listening again", exc_info=True)
            await asyncio.sleep(1)


async def _drain(
    queue: TaskQueue, finish: asyncio.Event, listening: asyncio.Task, settings: Settings
) -> None:
    """Stop taking tasks and let the running ones stop within the grace period."""
    loop = asyncio.get_running_loop()
    grace = settings.broker.shutdown_grace_s
    deadline = loop.time() + grace
    queue.stopping.set()
    finish.set()
    if queue.running:
        log.info("worker stopping: waiting up to %s s for %d task(s)", grace, len(queue.running))
    # Leave the last part of the grace period to the cancelled tasks' hand-back.
    cancel_at = deadline - min(5.0, grace / 4)
    if queue.running:
        await asyncio.wait(set(queue.running), timeout=max(0.0, cancel_at - loop.time()))
    if queue.running:
        log.warning("worker stopping: cancelling %d task(s) still running", len(queue.running))
        for task in queue.running:
            task.cancel()
        await asyncio.wait(set(queue.running), timeout=max(0.1, deadline - loop.time()))
    # The receiver returns once its tasks are done and its last read is closed.
    done, _ = await asyncio.wait({listening}, timeout=max(0.1, deadline - loop.time()))
    if not done:
        listening.cancel()
    await asyncio.gather(listening, return_exceptions=True)


def __getattr__(name: str) -> Any:
    # `taskiq worker contacts_api.workers.broker:broker`: built on first access, not at import.
    if name == "broker":
        plugins = Plugins.load(load_settings())
        return build_worker_broker(plugins.settings, plugins)
    raise AttributeError(name)
