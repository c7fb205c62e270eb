"""Where an import's time goes: CSV parsing against each SQL statement of the writer.

    python benchmarks/import_cost.py [--rows 100000] [--batch-size 2000]
                                     [--drop-index NAME ...] [--without-company-copy]
                                     [--reimport]

``benchmarks/import.py`` measures the whole path (HTTP upload, worker, database)
against COPY; this script explains its number. It creates the database
``import_cost`` next to ``DATABASE_URL``, migrates it, generates the same Apollo-layout
file as ``import.py``, then runs the import's own code in one process, one step after
the other (no overlap): ``BatchReader`` (reading, normalizing, preparing the array
literals) and ``write_batch`` (the set-based statements, each timed), one
transaction per batch. It prints seconds and microseconds per row for the parsing
and for every statement.

``--drop-index`` (repeatable) and ``--without-company-copy`` (drops the trigger
that copies company fields onto contacts) remove parts of the contacts schema before
the run, to price them: the difference to a run without them is what that index or
trigger costs every imported row.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import with_database  # noqa: E402
from benchmarks.list_queries import app_settings  # noqa: E402
from contacts_api.core.migrations import _apply  # noqa: E402
from contacts_api.core.plugins import Plugins  # noqa: E402
from contacts_api.plugins.imports import upsert_sql  # noqa: E402
from contacts_api.plugins.imports.parsing import (  # noqa: E402
    BatchReader,
    import_gc_threshold,
)
from contacts_api.plugins.imports.upsert import write_batch  # noqa: E402

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = "import_cost"
# statement text -> its name in upsert_sql, for the report
STATEMENTS = {
    value: name
    for name, value in vars(upsert_sql).items()
    if name.isupper() and isinstance(value, str) and "SELECT" in value
}


class TimedTransaction:
    """The transaction interface ``write_batch`` uses, on a psycopg2 cursor, timing
    each statement."""

    def __init__(self, cursor: Any, seconds: collections.Counter):
        self.cursor = cursor
        self.seconds = seconds

    def _run(self, sql: str, params: Any) -> None:
        started = time.perf_counter()
        self.cursor.execute(sql, params)
        self.seconds[STATEMENTS.get(sql, sql.strip()[:40])] += time.perf_counter() - started

    async def fetch_tuples(self, sql: str, params: Any) -> list[tuple]:
        self._run(sql, params)
        return self.cursor.fetchall()

    async def fetch_val(self, sql: str, params: Any) -> Any:
        self._run(sql, params)
        return self.cursor.fetchone()[0]

    async def execute(self, sql: str, params: Any) -> None:
        self._run(sql, params)


def prepare_database(args: argparse.Namespace) -> str:
    url = with_database(ADMIN_URL, DATABASE)
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{DATABASE}"')
    admin.close()
    _apply(url, Plugins.load(app_settings(url, tempfile.mkdtemp())).migration_folders())
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        for index in args.drop_index:
            cur.execute(f'DROP INDEX "{index}"')
        if args.without_company_copy:
            cur.execute("DROP TRIGGER contacts_fill_company ON contacts")
    conn.close()
    return url


def file_chunks(path: Path):
    with open(path, "rb") as source:
        while chunk := source.read(1 << 16):
            yield chunk


async def import_once(
    conn: Any,
    path: Path,
    batch_size: int,
    seconds: collections.Counter,
    python: collections.Counter,
) -> float:
    """Parse and write the whole file; return the parsing seconds. ``seconds``: each
    statement's; ``python``: the batch writer's own work between its statements."""
    reader = BatchReader(file_chunks(path), 0, batch_size)
    parsing, end_row = 0.0, 0
    while True:
        started = time.perf_counter()
        batch = reader.next_batch(end_row)
        parsing += time.perf_counter() - started
        if batch is None:
            return parsing
        end_row = batch.end_row
        with conn.cursor() as cur:
            started = time.perf_counter()
            before = sum(seconds.values())
            await write_batch(TimedTransaction(cur, seconds), batch)
            statements = sum(seconds.values()) - before
            python["writer (Python between statements)"] += (
                time.perf_counter() - started - statements
            )
            started = time.perf_counter()
            conn.commit()
            seconds["COMMIT"] += time.perf_counter() - started


class GcClock:
    """The seconds the cyclic garbage collector ran, per generation (``gc.callbacks``),
    while the block runs."""

    def __init__(self) -> None:
        self.seconds: collections.Counter = collections.Counter()
        self._started = 0.0

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds[f"garbage collector, generation {info['generation']}"] += (
                time.perf_counter() - self._started
            )

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def report(
    label: str,
    rows: int,
    parsing: float,
    seconds: collections.Counter,
    python: collections.Counter,
) -> None:
    writing = sum(seconds.values())
    print(f"{label}: {rows:,} rows")
    print(
        f"  {'parsing (read, normalize, prepare)':40s} {parsing:7.2f} s "
        f"{parsing / rows * 1e6:7.1f} us/row  ({rows / parsing:,.0f} rows/s)"
    )
    print(
        f"  {'database, all statements':40s} {writing:7.2f} s "
        f"{writing / rows * 1e6:7.1f} us/row  ({rows / writing:,.0f} rows/s)"
    )
    for name, spent in seconds.most_common():
        print(f"    {name:38s} {spent:7.2f} s {spent / rows * 1e6:7.1f} us/row")
    for name, spent in python.most_common():
        print(f"  {name:40s} {spent:7.2f} s {spent / rows * 1e6:7.1f} us/row")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--drop-index", action="append", default=[], metavar="NAME")
    parser.add_argument("--without-company-copy", action="store_true")
    parser.add_argument(
        "--reimport",
        action="store_true",
        help="then import the same file again (every row an update)",
    )
    args = parser.parse_args()
    generate = importlib.import_module("benchmarks.import").generate

    url = prepare_database(args)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        generate(path, args.rows)
        conn = psycopg2.connect(url)
        try:
            for label in ("fresh import", "re-import")[: 2 if args.reimport else 1]:
                seconds: collections.Counter = collections.Counter()
                python: collections.Counter = collections.Counter()
                with import_gc_threshold(), GcClock() as collector:
                    parsing = asyncio.run(import_once(conn, path, args.batch_size, seconds, python))
                python.update(collector.seconds)  # inside the parsing and writer times
                report(label, args.rows, parsing, seconds, python)
        finally:
            conn.close()
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
    admin.close()


if __name__ == "__main__":
    main()
