"""A Redis stream broker that also redelivers when the queue is idle.

taskiq-redis' ``RedisStreamBroker.listen`` claims messages left pending by a
dead consumer (``XAUTOCLAIM``) only after a read returned *new* messages, so
on a quiet queue a killed worker's task is never delivered again. This
subclass runs the claim on every loop, idle or not.
"""

from collections.abc import AsyncGenerator

from redis.asyncio import Redis
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker

__all__ = ["ReclaimingStreamBroker"]


class ReclaimingStreamBroker(RedisStreamBroker):
    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        streams = [self.queue_name, *self.additional_streams]
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                fetched = await redis.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {stream: ">" for stream in streams},
                    block=self.block,
                    noack=False,
                    count=self.count,
                )
                for stream, messages in fetched or []:
                    for message_id, fields in messages:
                        yield self._ackable(stream, message_id, fields)
                for stream in streams:
                    for message_id, fields in await self._claim_stale(redis, stream):
                        yield self._ackable(stream, message_id, fields)

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
                count=self.unacknowledged_batch_size,
            )
        finally:
            await lock.release()
        return [(message_id, fields) for message_id, fields in claimed if fields]

    def _ackable(self, stream, message_id, fields) -> AckableMessage:
        stream = stream.decode() if isinstance(stream, bytes) else stream
        return AckableMessage(
            data=fields[b"data"], ack=self._ack_generator(id=message_id, queue_name=stream)
        )
