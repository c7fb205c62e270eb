"""What new rows would cost in a small "recent" table instead of in ``contacts``.

    python benchmarks/recent_table_cost.py --database NAME [--rows 20000] [--rounds 3]

A design for the incremental import (issue 16): new contacts go to a small table
with the same indexes, whose indexes stay small and hot, and are moved into
``contacts`` later in bulk. This prices the premise on a loaded database, in
rolled-back transactions (the database is left as it was, apart from dead tuples):

- ``contacts``: insert ``--rows`` new contacts (copies of stored ones with a tagged
  email and a new time-ordered uuid, every column already filled, triggers off) into
  ``contacts`` with its indexes;
- ``recent, same indexes``: the same rows into an empty table made ``LIKE contacts
  INCLUDING ALL`` (every index of contacts, built on no rows);
- ``recent, no index``: into the same empty table without its indexes (the heap
  and WAL alone).

Per row: the backend's CPU (``/proc/<pid>/stat``, steady on a loaded machine), the
wall time, and the buffers read/dirtied and WAL of ``EXPLAIN (ANALYZE, BUFFERS,
WAL)``; the median of ``--rounds``, the variants alternated within each round. The
GIN pending lists are merged in each run (``gin_clean_pending_list``), as an import
does when it ends. The server must run on this machine (the CPU is read in /proc).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import with_database  # noqa: E402
from benchmarks.index_budget import backend_cpu  # noqa: E402

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

SOURCE = """
CREATE UNLOGGED TABLE recent_cost_rows AS
SELECT * FROM contacts TABLESAMPLE SYSTEM (5) LIMIT %s;
UPDATE recent_cost_rows SET uuid = contacts_uuid_v7(), created_at = now(), updated_at = now(),
    email = 'recent.' || coalesce(email, md5(random()::text) || '@example.org')
"""

CLEAN = """
SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
WHERE am.amname = 'gin' AND i.indrelid = %s::regclass
"""

# drops the indexes of recent_cost of one access method (but a constraint's)
_DROP = """
DO $$ DECLARE index_name text; BEGIN
FOR index_name IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am am ON am.oid = c.relam
    WHERE i.indrelid = 'recent_cost'::regclass AND am.amname = '%s'
      AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = i.indexrelid)
LOOP EXECUTE format('DROP INDEX %%I', index_name); END LOOP; END $$"""

# label -> (statements run first, untimed; the table inserted into)
VARIANTS = {
    "contacts": ([], "contacts"),
    "recent, same indexes": (
        ["CREATE TABLE recent_cost (LIKE contacts INCLUDING ALL)"],
        "recent_cost",
    ),
    "recent, btrees only": (
        ["CREATE TABLE recent_cost (LIKE contacts INCLUDING ALL)", _DROP % "gin"],
        "recent_cost",
    ),
    "recent, GIN only": (
        ["CREATE TABLE recent_cost (LIKE contacts INCLUDING ALL)", _DROP % "btree"],
        "recent_cost",
    ),
    "recent, no index": (
        ["CREATE TABLE recent_cost (LIKE contacts INCLUDING DEFAULTS INCLUDING GENERATED)"],
        "recent_cost",
    ),
}


# the stored columns (a generated one, like search_key, is computed on insert)
COLUMNS = """
SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
WHERE attrelid = 'contacts'::regclass AND attnum > 0 AND NOT attisdropped
  AND attgenerated = ''
"""


def timed(conn, pid: int, columns: str, setup: list[str], table: str) -> dict[str, float]:
    """CPU and wall seconds, blocks and WAL of inserting the rows into ``table``
    (and merging its GIN pending lists); rolled back."""
    with conn.cursor() as cur:
        # triggers off: the rows carry every filled column already, and a trigger
        # is not part of what an index costs
        cur.execute("SET LOCAL session_replication_role = replica")
        for statement in setup:
            cur.execute(statement)
        started, cpu = time.perf_counter(), backend_cpu(pid)
        cur.execute(
            f"EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) "
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM recent_cost_rows"
        )
        plan = cur.fetchone()[0][0]["Plan"]
        cur.execute(CLEAN, (table,))
        result = {
            "cpu": backend_cpu(pid) - cpu,
            "seconds": time.perf_counter() - started,
            "read": plan.get("Shared Read Blocks", 0),
            "dirtied": plan.get("Shared Dirtied Blocks", 0),
            "wal_bytes": plan.get("WAL Bytes", 0),
        }
    conn.rollback()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    conn = psycopg2.connect(with_database(ADMIN_URL, args.database))
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid(), count(*) FROM contacts")
        pid, total = cur.fetchone()
        cur.execute("DROP TABLE IF EXISTS recent_cost_rows")
        cur.execute(SOURCE, (args.rows,))
        cur.execute(COLUMNS)
        columns = cur.fetchone()[0]
    conn.commit()
    print(f"contacts: {total:,}; {args.rows:,} rows per run, {args.rounds} rounds", flush=True)
    measured: dict[str, list[dict[str, float]]] = {label: [] for label in VARIANTS}
    for round_ in range(args.rounds):
        labels = list(VARIANTS) if round_ % 2 == 0 else list(reversed(VARIANTS))
        for label in labels:
            measured[label].append(timed(conn, pid, columns, *VARIANTS[label]))
    with conn.cursor() as cur:
        cur.execute("DROP TABLE recent_cost_rows")
    conn.commit()
    conn.close()
    print(f"{'run':24} {'cpu us':>7} {'wall us':>8} {'blk read':>9} {'blk dirt':>9} {'WAL B':>7}")
    for label, runs in measured.items():

        def median(metric: str, runs=runs) -> float:
            return statistics.median(run[metric] for run in runs) / args.rows

        print(
            f"{label:24} {median('cpu') * 1e6:7.0f} {median('seconds') * 1e6:8.0f} "
            f"{median('read'):9.2f} {median('dirtied'):9.2f} {median('wal_bytes'):7.0f}"
        )


if __name__ == "__main__":
    main()
