"""The taskiq worker: same resources as the web app, acknowledgement after the
task finishes (a killed worker's task is delivered again), clean shutdown."""

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis.asyncio as aioredis

from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.plugins import Plugins
from contacts_api.core.resources import Resources, resource_specs
from contacts_api.workers.broker import run_worker
from tests.conftest import subprocess_env, write_dist_info


@pytest.fixture
def probe_installed(tmp_path, monkeypatch):
    site = tmp_path / "probe-site"
    write_dist_info(
        site, "contacts-api-task-probe", "0.1.0", {"probe": "tests.core.task_probe_plugin"}
    )
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.fixture
def redis_settings(settings_factory, probe_installed):
    return settings_factory(
        CONTACTS_API__BROKER__BACKEND="redis", CONTACTS_API__BROKER__REDELIVERY_IDLE_S="1"
    )


async def _log(settings, key):
    client = aioredis.from_url(settings.redis.url.reveal())
    try:
        return [item.decode() for item in await client.lrange(f"{key}:log", 0, -1)]
    finally:
        await client.aclose()


async def _wait_for(settings, key, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = await _log(settings, key)
        if predicate(log):
            return log
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out; task log: {await _log(settings, key)}")


@contextlib.asynccontextmanager
async def _in_process_worker(settings):
    """A worker in this process (``run_worker``), stopped when the block ends."""
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, Plugins.load(settings), stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(worker, 15)


def test_worker_and_web_open_the_same_resource_specs(settings):
    plugins = Plugins.load(settings)
    web = [s.name for s in resource_specs(Resources(settings, plugins, role="web"))]
    worker = [
        s.name for s in resource_specs(Resources(settings, plugins, role="worker"), broker=object())
    ]
    assert web == worker  # plugins' resources included, in the same order
    assert web[:4] == ["db", "redis", "cache", "storage"] and web[-1] == "tasks"


async def test_in_process_worker_runs_a_task_kicked_by_the_web_app(make_client, redis_settings):
    client = await make_client(redis_settings)
    key = f"{redis_settings.redis.key_prefix}:{uuid.uuid4().hex}"
    async with _in_process_worker(redis_settings):
        await client.app[RESOURCES].tasks.kick("probe.sleepy", key=key, seconds=0)
        log = await _wait_for(redis_settings, key, lambda log: "done 1" in log, 15)
        role, shared = log[0].split()[2], log[0].split()[4]
        assert role == "worker" and shared == "cache,db,redis,storage,tasks"


async def test_a_task_is_queued_until_it_finishes_then_leaves_the_stream(
    make_client, redis_settings
):
    """``TaskQueue.queued`` sees a task waiting, then running; once it has finished its
    message is deleted, not only acknowledged (taskiq-redis alone keeps every message
    of every task ever run in Redis)."""
    client = await make_client(redis_settings)
    tasks = client.app[RESOURCES].tasks
    key = f"{redis_settings.redis.key_prefix}:{uuid.uuid4().hex}"
    payload = {"key": key, "seconds": 1.0}
    stream = f"{redis_settings.redis.key_prefix}:queue:probe"
    redis = aioredis.from_url(redis_settings.redis.url.reveal())
    await tasks.kick("probe.sleepy", **payload)
    assert await tasks.queued("probe.sleepy") == [payload]  # no worker yet: waiting
    try:
        async with _in_process_worker(redis_settings):
            await _wait_for(
                redis_settings, key, lambda log: any(e.startswith("start 1") for e in log), 15
            )
            assert await tasks.queued("probe.sleepy") == [payload]  # running
            await _wait_for(redis_settings, key, lambda log: "done 1" in log, 15)
            deadline = time.monotonic() + 10
            while await tasks.queued("probe.sleepy"):  # acknowledged just after it returns
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            assert await redis.xlen(stream) == 0
    finally:
        await redis.aclose()


async def test_messages_acknowledged_but_kept_by_older_versions_are_not_queued(
    make_client, redis_settings
):
    """A stream written before finished messages were deleted still holds them,
    acknowledged: they are not unfinished tasks."""
    client = await make_client(redis_settings)
    tasks = client.app[RESOURCES].tasks
    stream = f"{redis_settings.redis.key_prefix}:queue:probe"
    group = f"{redis_settings.redis.key_prefix}:workers"
    redis = aioredis.from_url(redis_settings.redis.url.reveal())
    try:
        for seconds in (1, 2, 3):
            await tasks.kick("probe.sleepy", key="old", seconds=seconds)
        # an older worker: took all three, finished the first two (XACK alone)
        (_, taken), *_ = await redis.xreadgroup(group, "old-worker", {stream: ">"}, count=3)
        await redis.xack(stream, group, taken[0][0], taken[1][0])
        await tasks.kick("probe.sleepy", key="new", seconds=4)
        assert await redis.xlen(stream) == 4
        queued = await tasks.queued("probe.sleepy")
        assert queued == [{"key": "old", "seconds": 3}, {"key": "new", "seconds": 4}]
    finally:
        await redis.aclose()


async def test_a_task_running_longer_than_the_redelivery_time_runs_once(
    make_client, redis_settings
):
    """``broker.redelivery_idle_s`` is 1 s here and the task runs 4 s: its live worker
    keeps its message claimed, so it is not taken for a dead worker's and delivered
    again while it runs (an hour-long import was, every ``redelivery_idle_s``, each
    copy waiting for the job's lease in a task slot)."""
    client = await make_client(redis_settings)
    key = f"{redis_settings.redis.key_prefix}:{uuid.uuid4().hex}"
    async with _in_process_worker(redis_settings):
        await client.app[RESOURCES].tasks.kick("probe.sleepy", key=key, seconds=4)
        await _wait_for(redis_settings, key, lambda log: "done 1" in log, 20)
        await asyncio.sleep(1.5)  # a copy delivered late would show by now
        assert [entry.split()[:2] for entry in await _log(redis_settings, key)] == [
            ["start", "1"],
            ["done", "1"],
        ]


async def _lose_the_queues(settings) -> None:
    """What a Redis restarted without persistence holds of the task queues: nothing
    (their streams, pending entries and consumer group gone)."""
    redis = aioredis.from_url(settings.redis.url.reveal())
    try:
        streams = [key async for key in redis.scan_iter(f"{settings.redis.key_prefix}:queue:*")]
        assert streams
        await redis.delete(*streams)
    finally:
        await redis.aclose()


async def test_a_listening_worker_consumes_again_after_redis_lost_the_queues(
    make_client, redis_settings
):
    """Its reads failed with NOGROUP once a second, for good, until it was restarted."""
    client = await make_client(redis_settings)
    tasks = client.app[RESOURCES].tasks
    async with _in_process_worker(redis_settings):
        before, after = (f"{redis_settings.redis.key_prefix}:{uuid.uuid4().hex}" for _ in "ab")
        await tasks.kick("probe.sleepy", key=before, seconds=0)
        await _wait_for(redis_settings, before, lambda log: "done 1" in log, 15)
        await _lose_the_queues(redis_settings)
        await tasks.kick("probe.sleepy", key=after, seconds=0)
        await _wait_for(redis_settings, after, lambda log: "done 1" in log, 15)


async def test_a_task_kicked_after_redis_lost_the_queues_reaches_the_next_worker(
    make_client, redis_settings
):
    """The kick recreates the stream without its consumer group; the group the next
    worker declares reads the stream from its start (taskiq-redis' "$" skipped it)."""
    client = await make_client(redis_settings)
    tasks = client.app[RESOURCES].tasks
    await _lose_the_queues(redis_settings)
    key = f"{redis_settings.redis.key_prefix}:{uuid.uuid4().hex}"
    await tasks.kick("probe.sleepy", key=key, seconds=0)
    # a stream without its group: the task is queued (the sweep must not kick it)
    assert await tasks.queued("probe.sleepy") == [{"key": key, "seconds": 0}]
    async with _in_process_worker(redis_settings):
        await _wait_for(redis_settings, key, lambda log: "done 1" in log, 15)


def _start_worker(settings, site, *extra, **environ):
    env = subprocess_env(
        site,
        DATABASE_URL=settings.database.url.reveal(),
        REDIS_URL=settings.redis.url.reveal(),
        **{
            "CONTACTS_API__REDIS__KEY_PREFIX": settings.redis.key_prefix,
            "CONTACTS_API__BROKER__REDELIVERY_IDLE_S": "1",
            "CONTACTS_API__STORAGE__LOCAL_PATH": settings.storage.local_path,
            **environ,
        },
    )
    return subprocess.Popen(
        [sys.executable, "-m", "contacts_api.core.cli", "worker", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _stop(process):
    if process is None:
        return
    if process.poll() is None:
        process.kill()
    process.wait(10)
    process.stdout.close()


def _wait_ready(process, timeout=20):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode()
        seen.append(line)
        if "worker resources open" in line:
            return
        if process.poll() is not None:
            break
    raise AssertionError("worker did not start:\n" + "".join(seen))


async def test_killed_workers_task_is_delivered_again(make_client, redis_settings, probe_installed):
    client = await make_client(redis_settings)
    key = f"{redis_settings.redis.key_prefix}:{uuid.uuid4().hex}"
    first = _start_worker(redis_settings, probe_installed, "--queue", "probe")
    second = None
    try:
        _wait_ready(first)
        await client.app[RESOURCES].tasks.kick("probe.sleepy", key=key, seconds=60)
        await _wait_for(
            redis_settings, key, lambda log: any(e.startswith("start 1") for e in log), 20
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = _start_worker(redis_settings, probe_installed)
        log = await _wait_for(redis_settings, key, lambda log: "done 2" in log, 30)
        assert log[0].split()[3] != log[1].split()[3]  # another process finished it
        assert "done 1" not in log
    finally:
        _stop(first)
        _stop(second)


@pytest.mark.parametrize(
    "names",
    [("probe.sleepy", "probe.sleepy"), ("probe.sleepy", "probe.sleepy_elsewhere")],
    ids=["one queue", "two queues"],
)
async def test_a_busy_worker_leaves_queued_tasks_to_an_idle_one(
    make_client, redis_settings, probe_installed, names
):
    """Each worker runs one task at a time here. Two tasks queued before the workers
    start, on one queue or on two, run side by side on the two workers: a worker reads
    only the task it starts. (It read up to 100 at once, then one per queue, and kept
    them pending to itself while busy.)"""
    client = await make_client(redis_settings)
    keys = [f"{redis_settings.redis.key_prefix}:{uuid.uuid4().hex}" for _ in names]
    for name, key in zip(names, keys, strict=True):  # a backlog, before any worker
        await client.app[RESOURCES].tasks.kick(name, key=key, seconds=8)
    one_at_a_time = {
        "CONTACTS_API__BROKER__MAX_CONCURRENT_TASKS": "1",
        # no redelivery within the test: a kept message would only come back after it
        "CONTACTS_API__BROKER__REDELIVERY_IDLE_S": "600",
    }
    workers = [_start_worker(redis_settings, probe_installed, **one_at_a_time) for _ in "ab"]
    try:
        for worker in workers:
            _wait_ready(worker)
        starts = [
            await _wait_for(
                redis_settings, key, lambda log: any(e.startswith("start 1") for e in log), 6
            )
            for key in keys
        ]
        assert starts[0][0].split()[3] != starts[1][0].split()[3]  # two processes
    finally:
        for worker in workers:
            _stop(worker)


def test_idle_worker_stops_on_sigterm(redis_settings, probe_installed):
    process = _start_worker(redis_settings, probe_installed)
    try:
        _wait_ready(process)
        time.sleep(6)  # idle past redis-py's old 5 s socket timeout
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        assert time.monotonic() - started < 10
    finally:
        _stop(process)


@pytest.mark.alone  # the exit is timed against the grace period
async def test_a_task_still_running_after_the_grace_period_is_handed_back(
    make_client, redis_settings, probe_installed
):
    """SIGTERM: the worker exits within its grace period, cancelling a task that did
    not stop by itself; the task goes back to the queue at once (not after the
    redelivery timeout, 10 minutes here), and another worker runs it."""
    client = await make_client(redis_settings)
    key = f"{redis_settings.redis.key_prefix}:{uuid.uuid4().hex}"
    deploy = {
        "CONTACTS_API__BROKER__REDELIVERY_IDLE_S": "600",
        "CONTACTS_API__BROKER__SHUTDOWN_GRACE_S": "4",
    }
    first = _start_worker(redis_settings, probe_installed, "--queue", "probe", **deploy)
    second = None
    try:
        _wait_ready(first)
        await client.app[RESOURCES].tasks.kick("probe.sleepy", key=key, seconds=60)
        await _wait_for(
            redis_settings, key, lambda log: any(e.startswith("start 1") for e in log), 20
        )
        started = time.monotonic()
        first.send_signal(signal.SIGTERM)
        assert first.wait(10) == 0
        assert time.monotonic() - started < 4 + 1  # the grace period, and Python's exit
        output = first.stdout.read().decode()
        assert "cancelled at the end of the grace period" in output, output
        assert "Traceback" not in output and "ERROR" not in output, output
        second = _start_worker(redis_settings, probe_installed, **deploy)
        log = await _wait_for(redis_settings, key, lambda log: "done 2" in log, 30)
        assert "done 1" not in log
    finally:
        _stop(first)
        _stop(second)


def test_worker_refuses_to_start_without_redis(settings_factory):
    env = subprocess_env(REDIS_URL="", DATABASE_URL="postgresql://127.0.0.1/x")
    result = subprocess.run(
        [sys.executable, "-m", "contacts_api.core.cli", "worker"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2 and b"needs Redis" in result.stderr
