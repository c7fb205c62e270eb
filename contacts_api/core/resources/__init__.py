"""Shared resources: the objects one process keeps open while it runs.

The web app and the taskiq worker open exactly the same resources with the
same code: ``resource_specs()`` lists them in order (core first, then
plugins'); the web app enters each as one ``cleanup_ctx``, the worker enters
them all with ``open_resources()``.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

import attrs
from redis.asyncio import Redis

from contacts_api.core.resources.cache import Cache, MemoryCache, RedisCache
from contacts_api.core.resources.database import Database, open_database
from contacts_api.core.resources.storage import Storage, open_storage
from contacts_api.core.settings import Settings
from contacts_api.core.tasks import TaskQueue, make_broker

if TYPE_CHECKING:
    from contacts_api.core.plugins import Plugins

__all__ = ["ResourceSpec", "Resources", "open_resources", "resource_specs"]


@attrs.define(eq=False)
class Resources:
    """Everything a request handler or a task needs besides its arguments.

    ``role`` is ``"web"`` or ``"worker"``. ``redis`` is None without Redis.
    ``extra`` holds the resources plugins add through ``register_resources``.
    """

    settings: Settings
    plugins: "Plugins"
    role: str = "web"
    db: Database = attrs.field(default=None)
    redis: Redis | None = None
    cache: Cache = attrs.field(default=None)
    storage: Storage = attrs.field(default=None)
    tasks: TaskQueue = attrs.field(default=None)
    extra: dict[str, Any] = attrs.Factory(dict)


@attrs.frozen
class ResourceSpec:
    """A resource: ``open(resources)`` is an async context manager whose value is
    stored as ``resources.<name>`` (core) or ``resources.extra[name]`` (plugins).
    It may use the resources opened before it."""

    name: str
    open: Callable[[Resources], AbstractAsyncContextManager[Any]]


@asynccontextmanager
async def _database(res: Resources) -> AsyncIterator[Database]:
    settings = res.settings.database
    web = res.role == "web"
    async with open_database(
        settings.url.reveal(),
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        connect_timeout_s=settings.connect_timeout_s,
        # Requests get the statement timeout; background tasks may run long.
        statement_timeout_ms=settings.statement_timeout_ms if web else 0,
        operation_timeout_s=(settings.statement_timeout_ms / 1000 + 5) if web else 24 * 3600,
    ) as db:
        yield db


@asynccontextmanager
async def _redis(res: Resources) -> AsyncIterator[Redis | None]:
    url = res.settings.redis.url.reveal()
    if not url:
        yield None
        return
    client = Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    try:
        yield client
    finally:
        await client.aclose()


@asynccontextmanager
async def _cache(res: Resources) -> AsyncIterator[Cache]:
    settings = res.settings.cache
    if res.redis is not None:
        prefix = f"{res.settings.redis.key_prefix}:cache:"
        yield RedisCache(res.redis, settings.default_ttl_s, prefix)
    else:
        yield MemoryCache(settings.default_ttl_s, settings.memory_max_entries)


@asynccontextmanager
async def _storage(res: Resources) -> AsyncIterator[Storage]:
    async with open_storage(res.settings.storage, res.settings.data_dir()) as storage:
        yield storage


def _tasks_opener(broker: Any = None) -> Callable[[Resources], Any]:
    """The API process builds and starts a broker to send tasks (and, in memory
    mode, to run them); the worker passes the broker it listens on."""

    @asynccontextmanager
    async def _tasks(res: Resources) -> AsyncIterator[TaskQueue]:
        specs = res.plugins.tasks()
        own = broker is None
        active = broker if broker is not None else make_broker(res.settings, specs)
        active.state.resources = res
        if own:
            await active.startup()
        try:
            yield TaskQueue(active, [spec.name for spec in specs])
        finally:
            if own:
                await active.shutdown()

    return _tasks


def resource_specs(res: Resources, broker: Any = None) -> list[ResourceSpec]:
    """Every resource of this process, in opening order."""
    core = [
        ResourceSpec("db", _database),
        ResourceSpec("redis", _redis),
        ResourceSpec("cache", _cache),
        ResourceSpec("storage", _storage),
    ]
    return [*core, *res.plugins.resources(), ResourceSpec("tasks", _tasks_opener(broker))]


CORE_NAMES = frozenset({"db", "redis", "cache", "storage", "tasks"})


def attach(res: Resources, name: str, value: Any) -> None:
    if name in CORE_NAMES:
        setattr(res, name, value)
    else:
        res.extra[name] = value


@asynccontextmanager
async def open_resources(
    settings: Settings, plugins: "Plugins", *, role: str = "worker", broker: Any = None
) -> AsyncIterator[Resources]:
    """Open every resource (as the worker does) and close them in reverse order.
    ``resources.settings`` has the plugins' sections whatever ``settings`` was."""
    res = Resources(settings=plugins.typed(settings), plugins=plugins, role=role)
    async with AsyncExitStack() as stack:
        for spec in resource_specs(res, broker):
            attach(res, spec.name, await stack.enter_async_context(spec.open(res)))
        yield res
