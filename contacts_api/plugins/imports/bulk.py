"""The bulk path of a large import: defer the secondary indexes of ``contacts``.

Each index of ``contacts`` costs every inserted row a page write or several (the
trigram GIN indexes most); building them once after a large load costs a fraction of
maintaining them row by row (issue 16: 173 s to insert 970k rows with the indexes
present, 7.9 s without them plus 56.5 s to build them afterwards).

So when an import turns out to be large relative to the table (:func:`should_bulk`,
decided after its first rows are written: the created share of those rows, times the
rows still to come, against the size of the table; or, for a file of at least
``bulk_min_rows`` rows into an empty table, before its first row), the job becomes a
*bulk load*:

1. it registers itself in ``import_bulk_loads`` and records the definition of every
   deferrable index of ``contacts`` in ``import_deferred_indexes`` (one transaction,
   under an advisory lock), then drops those indexes with ``DROP INDEX CONCURRENTLY``
   (no lock that stops readers or writers);
2. it goes on writing batches exactly as before (same statements, same transactions,
   same counters and row errors: the database it leaves is the batch path's);
3. at its end, it leaves ``import_bulk_loads`` and, when no unfinished bulk load
   remains, builds each recorded index again (with a larger ``maintenance_work_mem``),
   deletes its record, and ``ANALYZE``\\s the table; only then is the job completed.

How the indexes come back depends on the table the load began on (recorded with each
index, ``rebuild_plainly``, so that a resumed job makes the first one's choice):

- a young table (at most ``bulk_plain_rebuild_max_rows`` rows: a first load): a plain
  ``CREATE INDEX``, ``bulk_rebuild_connections`` (2) at once, the trigram GIN ones
  first. A plain build scans the table once (``CONCURRENTLY`` twice, then waits for
  older transactions) and plain builds share the table's SHARE lock, so they run side
  by side (``CONCURRENTLY`` ones take a self-conflicting lock: one at a time). API
  writes to contacts wait until the rebuild ends (one waiting past the API's
  ``statement_timeout_ms`` answers 503, to be retried); reads go on. A build killed with its
  worker rolls back whole (nothing half-built is left); the resumed job builds it.
  Measured on 200k imported contacts (backend CPU, 2 cores, loaded machine): the
  search_key trigram index 7.8 s plain against 10.7 s ``CONCURRENTLY``, a btree
  0.29 s against 0.34 s; ``ANALYZE`` 3.8 s (statistics target 1000 on three
  columns; its lock conflicts with CREATE INDEX's, so it runs after them);
- an older table: ``CREATE INDEX CONCURRENTLY``, one by one, so that API writes go
  on (``bulk_rebuild_concurrently = false`` makes these plain too).

Deferrable means: not unique, not a primary key, not backing a constraint, and not in
the ``bulk_keep_indexes`` setting (the import's own lookups and the foreign-key index).
The unique indexes stay: they keep emails unique against concurrent API writes and
serve the import's ``ON CONFLICT``.

Why this design rather than COPY into a staging table and a new set-based merge: the
batch writer's statements are already set-based (``unnest`` of array literals, one
statement per table and batch); what a row costs is what the database does per row
once it is there. Measured by the backend's CPU per imported row
(``benchmarks/import_bulk_cost.py``, 20k-row fresh import, 2 cores): 296 us with the
full schema, 127 us without the deferred indexes plus 73 us (plain) or 91 us
(``CONCURRENTLY``) to build them again, 196 us without the two per-row BEFORE
triggers of contacts (``contacts_fill_company``, ``contacts_fill_value_ids``), 63 us
without both; the Python side costs ~70 us. Deferring the indexes keeps the writer, so
the bulk path cannot drift from the batch path's rules (company resolution in file
order, merges, row errors, company-only rows). The triggers stay (they belong to the
contacts schema, and API writes need them), but the batch writer, on either path,
fills their columns set-based and skips them (migration ``contacts_0009``).

What users see: reads keep working during a bulk load, but list filters and orderings
served by a dropped index read the table instead (slower) until the rebuild ends; API
writes go through (they are faster). A worker killed mid-load leaves every committed
batch and the records; the resumed job finishes the load and rebuilds the indexes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import psycopg2
import psycopg2.errors

log = logging.getLogger("contacts_api.imports")

TABLE = "contacts"
_LOCK = 7_100_003  # advisory lock class of the deferral records

_DEFERRABLE = """
SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = to_regclass(%(table)s)
    AND NOT x.indisunique AND NOT x.indisprimary
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
    AND i.relname <> ALL(%(keep)s::text[])
ORDER BY i.relname"""
_LIVE_LOADS = """
SELECT count(*) FROM import_bulk_loads b JOIN import_jobs j ON j.id = b.job_id
WHERE j.status IN ('pending', 'processing')"""
_INDEX_STATE = """SELECT x.indisvalid FROM pg_index x
    WHERE x.indexrelid = to_regclass(%s)"""


async def table_rows(db: Any, table: str = TABLE) -> int:
    """The planner's estimate of the table's rows (``reltuples``; no scan)."""
    value = await db.fetch_val(
        "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(%s)",
        (table,),
    )
    return int(value or 0)


async def table_is_empty(db: Any, table: str = TABLE) -> bool:
    """Whether the table holds no row (one index probe, not the planner's estimate)."""
    return not await db.fetch_val(f"SELECT EXISTS (SELECT 1 FROM {table})")


def should_bulk(
    *, written: int, created: int, remaining: int, table: int, min_rows: int, fraction: float
) -> bool:
    """Whether the rest of a file is worth a bulk load: the rows it is expected to
    create (the created share of the ``written`` rows so far, times the ``remaining``
    ones) are at least ``min_rows`` and at least ``fraction`` of the ``table``'s rows.

    A re-import (every row an update) never is: an update that changes nothing costs
    no index entry, while the rebuild would cost one per row of the table."""
    if written <= 0 or remaining <= 0:
        return False
    expected_new = remaining * created / written
    return expected_new >= min_rows and expected_new >= fraction * table


async def is_bulk_load(db: Any, job_id: str) -> bool:
    """Whether the job registered as a bulk load (a resumed one goes on as one)."""
    return bool(await db.fetch_val("SELECT 1 FROM import_bulk_loads WHERE job_id = %s", (job_id,)))


async def begin(
    db: Any, dsn: str, job_id: str, keep: list[str], *, plainly: bool = False
) -> list[str]:
    """Register the job as a bulk load and drop the deferrable indexes of ``contacts``
    (their definitions recorded first, and whether to build them again ``plainly``:
    the first deferring load's choice stays); return the names dropped."""
    async with db.transaction() as tx:
        await tx.fetch_val("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        await tx.execute(
            "INSERT INTO import_bulk_loads (job_id) VALUES (%s) ON CONFLICT DO NOTHING",
            (job_id,),
        )
        found = await tx.fetch_all(_DEFERRABLE, {"table": TABLE, "keep": keep})
        for index in found:
            await tx.execute(
                "INSERT INTO import_deferred_indexes"
                " (index_name, table_name, definition, rebuild_plainly)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (index["name"], TABLE, index["definition"], plainly),
            )
    names = [index["name"] for index in found]
    if names:
        begun = time.monotonic()
        await asyncio.to_thread(_drop_all, dsn, names)
        log.info(
            "bulk load %s: deferred %d index(es) of %s (dropped in %.1f s)",
            job_id,
            len(names),
            TABLE,
            time.monotonic() - begun,
        )
    return names


async def leave(db: Any, job_id: str) -> None:
    """The job's load is over (completed or failed): it holds the indexes back no more."""
    await db.execute("DELETE FROM import_bulk_loads WHERE job_id = %s", (job_id,))


async def pending_rebuilds(db: Any) -> int:
    return int(await db.fetch_val("SELECT count(*) FROM import_deferred_indexes") or 0)


async def restore(db: Any, dsn: str, settings: Any) -> int:
    """Build again every deferred index, unless an unfinished bulk load still holds
    them back; return how many were built."""
    if not await pending_rebuilds(db):
        return 0
    return await asyncio.to_thread(
        _restore,
        dsn,
        settings.bulk_maintenance_work_mem,
        settings.bulk_rebuild_concurrently,
        max(settings.bulk_rebuild_connections, 1),
    )


def _connect(dsn: str) -> Any:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return conn


def _drop_all(dsn: str, names: list[str]) -> None:
    conn = _connect(dsn)
    try:
        with conn.cursor() as cur:
            for name in names:
                cur.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
    finally:
        conn.close()


def _restore(dsn: str, maintenance_work_mem: str, concurrently: bool, connections: int) -> int:
    """Build the recorded indexes: the plain ones first, ``connections`` at a time,
    then the others ``CONCURRENTLY``, one by one; ``ANALYZE`` the table when any was
    built. Stops (answering how many were built) when a bulk load holds them back."""
    conn = _rebuild_connection(dsn, maintenance_work_mem)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT index_name, definition, rebuild_plainly FROM import_deferred_indexes"
                " ORDER BY index_name"
            )
            records = cur.fetchall()
        plain = [(name, sql) for name, sql, plainly in records if plainly or not concurrently]
        gentle = [(name, sql) for name, sql, plainly in records if concurrently and not plainly]
        built, held = _build_plainly(dsn, maintenance_work_mem, plain, connections)
        for name, definition in [] if held else gentle:
            if _held_back(conn):
                break
            _build(conn, name, definition, concurrently=True)
            built += 1
            if not _forget(conn, name):  # deferred again by a new bulk load
                break
        if built:
            with conn.cursor() as cur:
                begun = time.monotonic()
                cur.execute(f"ANALYZE {TABLE}")
                log.info("analyzed %s in %.1f s", TABLE, time.monotonic() - begun)
    finally:
        conn.close()
    return built


def _rebuild_connection(dsn: str, maintenance_work_mem: str) -> Any:
    """A connection for index builds: a larger ``maintenance_work_mem``, no statement
    timeout, and a check that its client is still there (a build orphaned by a killed
    worker stops within a second instead of racing the resumed job's build)."""
    conn = _connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('maintenance_work_mem', %s, false)", (maintenance_work_mem,))
        cur.execute("SET statement_timeout = 0")
        cur.execute("SET client_connection_check_interval = '1s'")
    return conn


def _costliest_first(indexes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The trigram GIN indexes (several times a btree's build) first: with several
    connections, the longest builds start first and the short ones fill in."""
    return sorted(indexes, key=lambda index: (" USING gin " not in index[1], index[0]))


def _build_plainly(
    dsn: str, maintenance_work_mem: str, indexes: list[tuple[str, str]], connections: int
) -> tuple[int, bool]:
    """Build ``indexes`` with a plain ``CREATE INDEX`` on ``connections`` connections at
    once (plain builds share the table's SHARE lock, which ``CONCURRENTLY`` ones do
    not: those wait for each other); answer (built, whether a bulk load held them
    back). A build that fails rolls back whole (no invalid index is left): the first
    error is raised once the other connections have finished their current index."""
    queue = _costliest_first(indexes)
    lock = threading.Lock()
    built = [0]
    held = threading.Event()
    errors: list[BaseException] = []

    def take() -> tuple[str, str] | None:
        with lock:
            if held.is_set() or errors or not queue:
                return None
            return queue.pop(0)

    def work() -> None:
        try:
            conn = _rebuild_connection(dsn, maintenance_work_mem)
        except BaseException as error:  # noqa: BLE001 - raised by the caller
            errors.append(error)
            return
        try:
            while (index := take()) is not None:
                name, definition = index
                if _held_back(conn):
                    held.set()
                    return
                _build(conn, name, definition, concurrently=False)
                with lock:
                    built[0] += 1
                if not _forget(conn, name):  # deferred again by a new bulk load
                    held.set()
                    return
        except BaseException as error:  # noqa: BLE001 - raised by the caller
            errors.append(error)
        finally:
            conn.close()

    threads = [
        threading.Thread(target=work, name=f"index-rebuild-{n}", daemon=True)
        for n in range(min(connections, len(queue)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return built[0], held.is_set()


def _build(conn: Any, name: str, definition: str, *, concurrently: bool) -> None:
    """Build one recorded index (``IF NOT EXISTS``: a build that committed before a
    crash is not repeated), dropping first what a crashed ``CONCURRENTLY`` build left
    invalid."""
    with conn.cursor() as cur:
        cur.execute(_INDEX_STATE, (name,))
        state = cur.fetchone()
        if state is not None and not state[0]:  # left invalid by a crashed build
            cur.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        prefix = "CREATE INDEX "
        if not definition.startswith(prefix):  # pg_get_indexdef's own form
            raise ValueError(f"unexpected index definition: {definition}")
        build = (
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS "
            if concurrently
            else prefix + "IF NOT EXISTS "
        )
        begun = time.monotonic()
        try:
            cur.execute(build + definition[len(prefix) :])
        except (psycopg2.errors.UniqueViolation, psycopg2.errors.DuplicateTable):
            # Another session created the same name between IF NOT EXISTS's check and
            # the catalog insert (a build orphaned by a killed worker): built, if valid.
            cur.execute(_INDEX_STATE, (name,))
            state = cur.fetchone()
            if state is None or not state[0]:
                raise
        log.info(
            "rebuilt index %s %sin %.1f s",
            name,
            "concurrently " if concurrently else "",
            time.monotonic() - begun,
        )


def _forget(conn: Any, name: str) -> bool:
    """Delete the record of a rebuilt index, unless a bulk load began meanwhile (it
    dropped the index again, or will): False then."""
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            cur.execute(_LIVE_LOADS)
            held = bool(cur.fetchone()[0])
            if not held:
                cur.execute("DELETE FROM import_deferred_indexes WHERE index_name = %s", (name,))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.autocommit = True
    return not held


def _held_back(conn: Any) -> bool:
    with conn.cursor() as cur:
        cur.execute(_LIVE_LOADS)
        return bool(cur.fetchone()[0])
