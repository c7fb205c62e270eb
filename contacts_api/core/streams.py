"""A Redis stream broker that also redelivers when the queue is idle, and keeps only
the messages of unfinished tasks.

taskiq-redis' ``RedisStreamBroker.listen`` claims messages left pending by a
dead consumer (``XAUTOCLAIM``) only after a read returned *new* messages, so
on a quiet queue a killed worker's task is never delivered again. This
subclass runs the claim on every loop, idle or not. And since ``XAUTOCLAIM`` takes
any message idle longer than ``idle_timeout``, a live worker keeps the messages of
its running tasks claimed (``XCLAIM ... JUSTID`` every third of it): a task running
longer than ``broker.redelivery_idle_s`` is not delivered again while it runs.

Its acknowledgement is only an ``XACK``: the message stays in the stream for good
(no ``maxlen`` is set), so every task ever run stays in Redis's memory. Here a finished
task's message is acknowledged and deleted in one ``MULTI``. :meth:`queued` reads the
messages of unfinished tasks (not yet delivered, or delivered and unacknowledged): a
job whose task is in none of them was lost by the queue (a Redis restarted without
persistence) and can be kicked again (``TaskQueue.queued``).
"""

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker

__all__ = ["ReclaimingStreamBroker"]

logger = logging.getLogger("contacts_api.tasks")


def _lost_streams(error: ResponseError) -> bool:
    """A read failed because its stream or consumer group no longer exists."""
    text = str(error)
    return text.startswith("NOGROUP") or "no longer exists" in text


# Pending messages read by ``queued``: more than this many running or orphaned tasks
# on one queue is far beyond what workers run at once.
_MAX_PENDING = 10_000


class ReclaimingStreamBroker(RedisStreamBroker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # message id -> the task keeping it claimed while this worker holds it
        self._kept: dict[bytes, asyncio.Task] = {}

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """One message at a time: the receiver pulls the next only when it has a free
        slot, so a worker holds only the tasks it runs. (One ``XREADGROUP`` over all
        queues returned a message per queue, and a claim up to 100 stale ones: a busy
        worker kept them pending to itself while idle workers waited, and another
        worker's claim could run them a second time.)"""
        streams = [self.queue_name, *self.additional_streams]
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                try:
                    found = await self._next_message(redis, streams)
                except ResponseError as error:
                    if not _lost_streams(error):
                        raise
                    # Redis lost the streams (a restart without persistence, a
                    # deletion): the consumer group is gone with them, and every read
                    # would fail until it is declared again. Tasks kicked since are
                    # in the streams the kicks created: read from their start.
                    logger.warning("the task queues were lost by Redis; declaring them again")
                    await self._declare_consumer_group()
                    continue
                if found is not None:
                    yield self._ackable(*found)

    async def _next_message(self, redis: Redis, streams: list[str]) -> tuple | None:
        """``(stream, id, fields)`` of one message for this consumer: a dead worker's
        (idle longer than ``idle_timeout``), else a new one; None after waiting up to
        ``block`` ms for new messages without finding one."""
        for stream in streams:
            claimed = await self._claim_stale(redis, stream)
            if claimed:
                return (stream, *claimed[0])
        for stream in streams:
            fetched = await redis.xreadgroup(
                self.consumer_group_name,
                self.consumer_name,
                {stream: ">"},
                noack=False,
                count=1,
            )
            for _, messages in fetched or []:
                for message_id, fields in messages:
                    if fields:
                        return (stream, message_id, fields)
        # Wait for a new message without taking it (XREAD, no group): the loop then
        # takes it as above. One kicked between the reads above and this wait is found
        # on the next loop, after at most ``block`` ms.
        await redis.xread({stream: "$" for stream in streams}, block=self.block)
        return None

    async def _claim_stale(self, redis: Redis, stream: str) -> list:
        """Messages idle longer than ``idle_timeout`` (their worker died)."""
        lock = redis.lock(
            f"autoclaim:{self.consumer_group_name}:{stream}",
            timeout=self.unacknowledged_lock_timeout,
            blocking=False,
        )
        if not await lock.acquire():
            return []  # another worker is claiming right now
        try:
            _, claimed, *_ = await redis.xautoclaim(
                stream,
                self.consumer_group_name,
                self.consumer_name,
                min_idle_time=self.idle_timeout,
                count=1,
            )
        finally:
            await lock.release()
        return [(message_id, fields) for message_id, fields in claimed if fields]

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def _ack() -> None:
            keeping = self._kept.pop(id, None)
            if keeping is not None:
                keeping.cancel()
            async with Redis(connection_pool=self.connection_pool) as redis:
                async with redis.pipeline(transaction=True) as pipe:
                    pipe.xack(queue_name, self.consumer_group_name, id)
                    pipe.xdel(queue_name, id)
                    await pipe.execute()

        return _ack

    async def queued(self, stream: str) -> list[bytes]:
        """The messages of ``stream``'s unfinished tasks: not yet delivered to the
        consumer group, or delivered and not acknowledged (running, or left by a dead
        worker until they are claimed again). Messages acknowledged before their
        deletion existed (older versions) are left out."""
        async with Redis(connection_pool=self.connection_pool) as redis:
            try:
                groups = await redis.xinfo_groups(stream)
            except ResponseError:  # no such stream: nothing was ever kicked (or kept)
                return []
            group = self.consumer_group_name.encode()
            ours = next((g for g in groups if g["name"] == group), None)
            if ours is None:  # the stream outlived its group, or a kick recreated it
                return [fields[b"data"] for _, fields in await redis.xrange(stream) if fields]
            waiting = await redis.xrange(stream, min=b"(" + ours["last-delivered-id"])
            pending = await redis.xpending_range(
                stream, self.consumer_group_name, min="-", max="+", count=_MAX_PENDING
            )
            async with redis.pipeline(transaction=False) as pipe:
                for entry in pending:
                    pipe.xrange(stream, min=entry["message_id"], max=entry["message_id"])
                running = [message for found in await pipe.execute() for message in found]
        return [fields[b"data"] for _, fields in [*running, *waiting] if fields]

    def _ackable(self, stream, message_id, fields) -> AckableMessage:
        stream = stream.decode() if isinstance(stream, bytes) else stream
        self._kept[message_id] = asyncio.create_task(self._keep_claimed(stream, message_id))
        return AckableMessage(
            data=fields[b"data"], ack=self._ack_generator(id=message_id, queue_name=stream)
        )

    async def _keep_claimed(self, stream: str, message_id: bytes) -> None:
        """Claim the message again (``XCLAIM ... JUSTID``, which resets its idle time)
        every third of ``idle_timeout`` until it is acknowledged: a task running
        longer than ``broker.redelivery_idle_s`` (a large import) was otherwise taken
        by ``XAUTOCLAIM`` as a dead worker's, delivered again and again while it ran,
        each copy holding a task slot. Once the worker dies the claims stop, and the
        message is delivered again after ``idle_timeout``."""
        every_s = max(self.idle_timeout / 3000, 0.1)
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                await asyncio.sleep(every_s)
                try:
                    claimed = await redis.xclaim(
                        stream,
                        self.consumer_group_name,
                        self.consumer_name,
                        min_idle_time=0,
                        message_ids=[message_id],
                        justid=True,
                    )
                except (ResponseError, OSError, RedisError):  # Redis away: next time
                    continue
                if not claimed:  # acknowledged meanwhile, or lost with its stream
                    self._kept.pop(message_id, None)
                    return

    async def shutdown(self) -> None:
        for keeping in self._kept.values():
            keeping.cancel()
        self._kept.clear()
        await super().shutdown()
