"""The aiopg pool and the query helper every plugin uses."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiopg
import psycopg2
import psycopg2.errors
from sqlalchemy.sql import ClauseElement

from contacts_api.core.sql import compile_sql

__all__ = ["CONFLICTS", "Database", "Query", "Transaction", "is_transient", "open_database"]

Query = str | ClauseElement
Params = dict[str, Any] | Sequence[Any] | None
T = TypeVar("T")


# SQLSTATEs: class 08 (connection exception), administrator and crash shutdown, the
# server still starting, no free connection slot (psycopg2's classes for them share
# no parent but OperationalError, hence the list)
_TRANSIENT_SQLSTATES = (
    "08000",
    "08001",
    "08003",
    "08004",
    "08006",
    "08007",
    "08P01",
    "57P01",
    "57P02",
    "57P03",
    "53300",
)
_TRANSIENT_ERRORS = (
    *(psycopg2.errors.lookup(code) for code in _TRANSIENT_SQLSTATES),
    psycopg2.InterfaceError,  # the connection is already closed
    OSError,
)


# A transaction that lost to a concurrent one and was rolled back whole: retry it.
CONFLICTS = (psycopg2.errors.DeadlockDetected, psycopg2.errors.SerializationFailure)


def is_transient(error: BaseException) -> bool:
    """A failure of the connection or of the server's availability, not of the
    statement: the connection broke (libpq raises the bare OperationalError, with no
    SQLSTATE), a connection exception, an administrator or crash shutdown, a server
    still starting, no free connection slot, a socket error."""
    return type(error) is psycopg2.OperationalError or isinstance(error, _TRANSIENT_ERRORS)


def _prepare(query: Query, params: Params) -> tuple[str, Params]:
    if isinstance(query, str):
        return query, params
    sql, compiled_params = compile_sql(query)
    if isinstance(params, dict):
        compiled_params.update(params)
    return sql, compiled_params


async def _run(cur: Any, query: Query, params: Params) -> None:
    try:
        await cur.execute(*_prepare(query, params))
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # a real cancellation of this task
        # aiopg turns a server-side cancel (statement_timeout) into CancelledError,
        # which would silently drop the request: give callers the database's error.
        raise psycopg2.extensions.QueryCanceledError(
            "canceling statement due to statement timeout"
        ) from None


def _rows(cur: Any, raw: list[tuple]) -> list[dict[str, Any]]:
    names = [col.name for col in cur.description]
    return [dict(zip(names, row, strict=True)) for row in raw]


class _Runner:
    """Query methods shared by ``Database`` (one pooled connection per call)
    and ``Transaction`` (one connection for the whole block)."""

    async def fetch_all(self, query: Query, params: Params = None) -> list[dict[str, Any]]:
        """All rows as dicts keyed by column name."""
        async with self._cursor() as cur:
            await _run(cur, query, params)
            return _rows(cur, await cur.fetchall())

    async def fetch_one(self, query: Query, params: Params = None) -> dict[str, Any] | None:
        """The first row as a dict, or None."""
        async with self._cursor() as cur:
            await _run(cur, query, params)
            row = await cur.fetchone()
            return None if row is None else _rows(cur, [row])[0]

    async def fetch_val(self, query: Query, params: Params = None) -> Any:
        """The first column of the first row, or None."""
        async with self._cursor() as cur:
            await _run(cur, query, params)
            row = await cur.fetchone()
            return None if row is None else row[0]

    async def fetch_tuples(self, query: Query, params: Params = None) -> list[tuple]:
        """All rows as tuples: the cheapest form for hot paths."""
        async with self._cursor() as cur:
            await _run(cur, query, params)
            return await cur.fetchall()

    async def execute(self, query: Query, params: Params = None) -> int:
        """Run a statement; return the affected row count."""
        async with self._cursor() as cur:
            await _run(cur, query, params)
            return cur.rowcount


class Transaction(_Runner):
    """Queries on one connection inside ``BEGIN ... COMMIT`` (rolled back on error)."""

    def __init__(self, cur: Any):
        self._cur = cur

    @asynccontextmanager
    async def _cursor(self) -> AsyncIterator[Any]:
        yield self._cur


async def _rollback(conn: Any, cur: Any) -> None:
    """Roll back after an error. A connection that cannot roll back (it dropped,
    or the task is being cancelled) is closed, so the pool never hands out a
    connection still inside a transaction; the first error is the one raised."""
    if conn.closed:
        return
    try:
        await cur.execute("ROLLBACK")
    except asyncio.CancelledError:
        conn.close()
        raise
    except Exception:
        conn.close()


class Database(_Runner):
    """The application's PostgreSQL access: the aiopg pool plus query helpers.

    Accepts SQL text with pyformat params or SQLAlchemy Core statements
    (compiled by ``core.sql.compile_sql``). aiopg connections are autocommit:
    use ``async with db.transaction() as tx`` for atomic work.
    """

    def __init__(self, pool: aiopg.Pool):
        self.pool = pool

    @asynccontextmanager
    async def _cursor(self) -> AsyncIterator[Any]:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            yield cur

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        # BEGIN/COMMIT by hand, not aiopg's cur.begin(): when the connection drops,
        # its Transaction object stays "open" and warns when collected, long after.
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("BEGIN")
            try:
                yield Transaction(cur)
            except BaseException:
                await _rollback(conn, cur)
                raise
            await cur.execute("COMMIT")

    async def in_transaction(
        self, work: Callable[[Transaction], Awaitable[T]], *, attempts: int = 3
    ) -> T:
        """``await work(tx)`` in a transaction, run again from the start (at most
        ``attempts`` times) when it loses a deadlock or a serialization conflict
        to a concurrent writer: the database rolled it back whole, so ``work``
        must keep its results in its own locals, not in variables it outlives."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.transaction() as tx:
                    return await work(tx)
            except CONFLICTS:
                if attempt == attempts:
                    raise
                await asyncio.sleep(0.02 * attempt)
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A raw aiopg connection, for what the helpers do not cover."""
        async with self.pool.acquire() as conn:
            yield conn

    async def ping(self) -> None:
        """Raise if the database cannot answer ``SELECT 1`` right now."""
        if await self.fetch_val("SELECT 1") != 1:
            raise psycopg2.OperationalError("unexpected answer to SELECT 1")


@asynccontextmanager
async def open_database(
    dsn: str,
    *,
    min_size: int,
    max_size: int,
    connect_timeout_s: float,
    statement_timeout_ms: int,
    operation_timeout_s: float,
) -> AsyncIterator[Database]:
    """Open the pool; ``statement_timeout_ms`` (0 = none) applies to every query."""
    pool = await aiopg.create_pool(
        dsn,
        minsize=min_size,
        maxsize=max_size,
        timeout=operation_timeout_s,
        pool_recycle=300,
        connect_timeout=max(1, int(connect_timeout_s)),
        options=f"-c statement_timeout={statement_timeout_ms}",
        application_name="contacts-api",
    )
    try:
        yield Database(pool)
    finally:
        pool.close()
        await pool.wait_closed()
