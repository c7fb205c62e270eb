"""Stream ``COPY (SELECT ...) TO STDOUT`` into async code, with backpressure.

aiopg cannot COPY (psycopg2 refuses it on async connections), so COPY runs on a synchronous psycopg2
connection in a thread; the thread hands ~1 MiB chunks to the event loop
through a small bounded queue, so memory stays flat whatever the row count.
"""

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import psycopg2

__all__ = ["CopyResult", "copy_csv"]

CHUNK = 1 << 20
_DONE = object()


class CopyResult:
    """Filled in when the copy ends: ``row_count`` (from PostgreSQL)."""

    row_count: int = 0


class _QueueWriter:
    """The file object psycopg2 writes COPY data to (called in the COPY thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue, stop: Any):
        self.loop, self.queue, self.stop = loop, queue, stop
        self.buffer = bytearray()

    def write(self, data: bytes | str) -> int:
        if self.stop.is_set():
            raise RuntimeError("export consumer stopped")
        self.buffer += data.encode() if isinstance(data, str) else data
        if len(self.buffer) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buffer:
            self.put(bytes(self.buffer))
            self.buffer.clear()

    def put(self, item: Any) -> None:
        asyncio.run_coroutine_threadsafe(self.queue.put(item), self.loop).result()


def _run_copy(
    dsn: str, sql: str, params: dict[str, Any], writer: _QueueWriter, result: CopyResult
) -> None:
    conn = psycopg2.connect(dsn, application_name="contacts-api export")
    try:
        with conn.cursor() as cur:
            literal = cur.mogrify(sql, params).decode()  # COPY takes no bind parameters
            cur.copy_expert(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)", writer)
            result.row_count = cur.rowcount
        writer.flush()
        writer.put(_DONE)
    except BaseException as exc:
        if not writer.stop.is_set():
            writer.put(exc)
        raise
    finally:
        conn.close()


async def copy_csv(
    dsn: str, sql: str, params: dict[str, Any], header: bytes, result: CopyResult
) -> AsyncIterator[bytes]:
    """Yield the CSV bytes: ``header`` then COPY's rows. ``params`` are inlined
    by psycopg2 (``mogrify``), since COPY takes no bind parameters."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue(maxsize=4)
    stop = threading.Event()
    writer = _QueueWriter(loop, queue, stop)
    thread = asyncio.ensure_future(asyncio.to_thread(_run_copy, dsn, sql, params, writer, result))
    try:
        yield header
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while not queue.empty():  # unblock a writer waiting on a full queue
            queue.get_nowait()
        await asyncio.gather(thread, return_exceptions=True)
