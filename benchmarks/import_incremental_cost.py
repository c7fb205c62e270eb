"""Where the time of an incremental import goes, on a copy of a loaded database.

    python benchmarks/import_incremental_cost.py --base i16x_base_1m [--rows 20000]
        [--batch-size 2000] [--explain-batch 3] [--set synchronous_commit=off ...]
        [--without-fills] [--without-indexes] [--warmup-rows N]

``benchmarks/import.py --incremental-base N`` times the whole path (HTTP upload,
worker, database) of ``--rows`` new contacts into a database of N; this script explains
its number. It clones the base (``--base``, made by that benchmark), migrates the
clone, writes the same new contacts with the import's own code in one process (parse
every batch first, then ``write_batch`` one transaction per batch, as the worker does)
and prints per row: parsing, each statement's wall time, the database backend's CPU
(``/proc/<pid>/stat``: steady on a loaded machine, where wall time is not), the
commits, and the end-of-job clean-up of the GIN pending lists. ``--explain-batch K``
prints the K-th batch's plans with ``EXPLAIN (ANALYZE, BUFFERS)`` (auto_explain, sent
to the client as notices), so the buffers each statement reads and dirties are seen.
``--set NAME=VALUE`` sets a setting for the session, to price it. ``--without-fills``
writes the way the importer did before migration contacts_0009 (the triggers of
contacts fill the copy and the ids row by row), for comparison; ``--without-indexes``
drops the indexes a bulk load defers (``import_bulk_cost``'s list), to price their
maintenance at the base's size. ``--warmup-rows N`` imports N other new contacts first,
untimed: a freshly cloned database is cold (its pages in no shared buffer), a second
import of the day is not.

Beside the CPU, the writer's wall time is split into the time the backend waited for a
CPU while runnable (``/proc/<pid>/schedstat``: the load of the machine) and the rest
(blocked: reads, WAL writes and flushes, locks); the cluster's WAL and buffer-writing
counters (``pg_stat_wal``, ``pg_stat_bgwriter``) are printed per row, the import's own
on a private cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import import_cost  # noqa: E402
from benchmarks.common import with_database  # noqa: E402
from benchmarks.import_incremental import write_new_contacts  # noqa: E402

import_bench = importlib.import_module("benchmarks.import")
from benchmarks.list_queries import app_settings  # noqa: E402
from contacts_api.core.migrations import _apply  # noqa: E402
from contacts_api.core.plugins import Plugins  # noqa: E402
from contacts_api.plugins.imports import upsert_sql  # noqa: E402
from contacts_api.plugins.imports.parsing import BatchReader  # noqa: E402
from contacts_api.plugins.imports.upsert import write_batch  # noqa: E402

ADMIN_URL = import_cost.ADMIN_URL
TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def backend_runqueue_wait(pid: int) -> float:
    """Seconds the backend ``pid`` has waited for a CPU while runnable
    (``/proc/<pid>/schedstat``): what a loaded machine adds to its wall time. Wall
    minus CPU minus this is the time it was blocked (reads, writes, fsync, locks)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


class CpuTimedTransaction(import_cost.TimedTransaction):
    """Times each statement's wall time and the backend's CPU."""

    def __init__(self, cursor, seconds, cpu, pid):
        super().__init__(cursor, seconds)
        self.cpu, self.pid = cpu, pid

    async def execute(self, sql, params=None):
        self._run(sql, params)

    def _run(self, sql, params):
        before = backend_cpu(self.pid)
        super()._run(sql, params)
        self.cpu[import_cost.STATEMENTS.get(sql, sql.strip()[:40])] += (
            backend_cpu(self.pid) - before
        )


def clone(base: str, name: str) -> str:
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for attempt in range(30):
            try:
                cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
                break
            except psycopg2.errors.ObjectInUse:
                if attempt == 29:
                    raise
                time.sleep(2)
    admin.close()
    return with_database(ADMIN_URL, name)


def parsed_batches(rows: int, tag: str, batch_size: int) -> list:
    """``rows`` new contacts (emails tagged ``tag``) read into the import's batches."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "new.csv"
        write_new_contacts(path, rows, tag, import_bench.SEED)
        reader = BatchReader(import_cost.file_chunks(path), 0, batch_size)
        batches, end_row = [], 0
        while (batch := reader.next_batch(end_row)) is not None:
            batches.append(batch)
            end_row = batch.end_row
        reader.close()
    return batches


def warm_up(url: str, rows: int, batch_size: int) -> None:
    """Import ``rows`` other new contacts first, untimed (GIN lists merged after), so
    the measured import finds the buffers as a second import of the day would, not
    as the first one into a freshly cloned (cold) database."""
    conn = psycopg2.connect(url)
    for batch in parsed_batches(rows, f"warm{os.getpid()}", batch_size):
        with conn.cursor() as cur:
            untimed = import_cost.TimedTransaction(cur, collections.Counter())
            asyncio.run(write_batch(untimed, batch))
        conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(CLEAN_GIN)
    conn.close()


CLEAN_GIN = (
    "SELECT sum(gin_clean_pending_list(i.indexrelid)) FROM pg_index i"
    " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
    " WHERE am.amname = 'gin' AND i.indrelid IN ('contacts'::regclass,"
    " 'companies'::regclass)"
)

# the cluster's WAL and buffer-writing counters, compared before and after the writes
# (a private cluster's are the import's own)
SERVER_COUNTERS = """
SELECT wal_records, wal_fpi, wal_bytes, wal_buffers_full, wal_write, wal_sync,
       checkpoints_timed + checkpoints_req, buffers_checkpoint, buffers_clean,
       buffers_backend, buffers_backend_fsync
FROM pg_stat_wal, pg_stat_bgwriter"""
SERVER_COUNTER_NAMES = (
    "wal_records wal_fpi wal_bytes wal_buffers_full wal_write wal_sync checkpoints"
    " buffers_checkpoint buffers_clean buffers_backend buffers_backend_fsync"
).split()


def server_counters(cur) -> list[float]:
    cur.execute(SERVER_COUNTERS)
    return [float(value) for value in cur.fetchone()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--explain-batch", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--without-fills", action="store_true")
    parser.add_argument("--without-indexes", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    parser.add_argument(
        "--warmup-rows",
        type=int,
        default=0,
        help="import this many other new contacts first, untimed (a warm cache)",
    )
    args = parser.parse_args()
    if args.without_fills:  # the triggers fill, as before contacts_0009
        upsert_sql.FILL_DONE_ON = upsert_sql.FILL_DONE_OFF

    name = f"{args.base}_cost"
    started = time.perf_counter()
    url = clone(args.base, name)
    cloned = time.perf_counter()
    _apply(url, Plugins.load(app_settings(url, tempfile.mkdtemp())).migration_folders())
    print(
        f"cloned {args.base} in {cloned - started:.0f} s, "
        f"migrated in {time.perf_counter() - cloned:.1f} s"
    )
    parsing_started = time.perf_counter()
    batches = parsed_batches(args.rows, f"cost{os.getpid()}", args.batch_size)
    parsing = time.perf_counter() - parsing_started

    if args.without_indexes:
        from benchmarks.import_bulk_cost import _DEFERRABLE, KEEP

        conn = psycopg2.connect(url)
        with conn, conn.cursor() as cur:
            cur.execute(_DEFERRABLE, (list(KEEP),))
            dropped = [name for name, _ in cur.fetchall()]
            for index in dropped:
                cur.execute(f'DROP INDEX "{index}"')
        conn.close()
        print(f"dropped {len(dropped)} indexes")
    if args.warmup_rows:
        warm_up(url, args.warmup_rows, args.batch_size)
        print(f"warmed up with {args.warmup_rows:,} other new contacts")
    conn = psycopg2.connect(url)
    conn.notices = collections.deque(maxlen=200)  # psycopg2 keeps 50 by default
    seconds: collections.Counter = collections.Counter()
    cpu: collections.Counter = collections.Counter()
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        for setting in args.set:
            key, value = setting.split("=", 1)
            cur.execute("SELECT set_config(%s, %s, false)", (key, value))
    conn.commit()
    rows = sum(batch.rows for batch in batches)
    with conn.cursor() as cur:
        counters_started = server_counters(cur)
    conn.commit()
    cpu_started, wall_started = backend_cpu(pid), time.perf_counter()
    waited_started = backend_runqueue_wait(pid)
    for number, batch in enumerate(batches, 1):
        explain = number == args.explain_batch
        with conn.cursor() as cur:
            if explain:
                cur.execute(
                    "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0;"
                    " SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on;"
                    " SET auto_explain.log_nested_statements = off;"
                    " SET auto_explain.log_level = 'notice'"
                )
                conn.notices.clear()
            asyncio.run(write_batch(CpuTimedTransaction(cur, seconds, cpu, pid), batch))
            if explain:
                cur.execute("SET auto_explain.log_min_duration = -1")
        before = backend_cpu(pid)
        commit_started = time.perf_counter()
        conn.commit()
        seconds["COMMIT"] += time.perf_counter() - commit_started
        cpu["COMMIT"] += backend_cpu(pid) - before
        if explain:
            print(f"--- plans of batch {number} ({batch.rows} rows) ---")
            for notice in conn.notices:
                print(notice.rstrip())
            print("--- end of plans ---")
    writing = time.perf_counter() - wall_started
    writing_cpu = backend_cpu(pid) - cpu_started
    writing_waited = backend_runqueue_wait(pid) - waited_started
    conn.autocommit = True
    with conn.cursor() as cur:
        counters = [b - a for a, b in zip(counters_started, server_counters(cur), strict=True)]
        before, clean_started = backend_cpu(pid), time.perf_counter()
        clean_waited = backend_runqueue_wait(pid)
        cur.execute(CLEAN_GIN)
        pages = cur.fetchone()[0]
        clean = time.perf_counter() - clean_started
        clean_cpu = backend_cpu(pid) - before
        clean_waited = backend_runqueue_wait(pid) - clean_waited
    conn.close()

    def per_row(value: float) -> str:
        return f"{value / rows * 1e6:7.1f} us/row"

    print(f"{rows:,} new rows in {len(batches)} batches; settings: {args.set or 'defaults'}")
    print(f"  parsing (read, normalize, prepare)   {per_row(parsing)}")
    print(
        f"  database: wall {per_row(writing)} ({rows / writing:,.0f} rows/s), "
        f"backend CPU {per_row(writing_cpu)}"
    )
    print(
        f"    waiting for a CPU {per_row(writing_waited)}, blocked (I/O, locks) "
        f"{per_row(writing - writing_cpu - writing_waited)}"
    )
    print(
        "    server counters per row (the whole cluster's): "
        + ", ".join(
            f"{name} {value / rows:.3g}"
            for name, value in zip(SERVER_COUNTER_NAMES, counters, strict=True)
        )
    )
    for statement, spent in seconds.most_common():
        print(f"    {statement:36s} wall {per_row(spent)}   cpu {per_row(cpu[statement])}")
    print(
        f"  GIN pending-list clean-up ({pages} pages): wall {clean:.2f} s, cpu {clean_cpu:.2f} s"
        f", waiting for a CPU {clean_waited:.2f} s ({per_row(clean)} wall, "
        f"{per_row(clean_cpu)} cpu)"
    )
    if not args.keep:
        admin = psycopg2.connect(ADMIN_URL)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
