"""What the bulk path saves: the database's CPU per imported row, per schema variant.

    python benchmarks/import_bulk_cost.py [--rows 20000] [--repeat 2]
                                          [--database-name i16bulk_cost]

The machine these run on is shared and loaded, so wall time swings by 2x between two
runs of the same thing; the CPU time the PostgreSQL backend spends (``/proc/<pid>/stat``
of ``pg_backend_pid()``; the database must run on this machine) is steady. For each
variant, the script migrates a fresh database, imports the generated Apollo-layout
file of ``benchmarks/import.py`` through the import's own code (``import_cost``'s
one-process loop: read, normalize, write each batch) and prints the backend's CPU and
the Python process's CPU per row:

- ``full schema``: every index and trigger of contacts;
- ``indexes deferred``: without the indexes a bulk load drops (``plugins/imports/
  bulk.py``, the ``bulk_keep_indexes`` default), then the cost of building them again
  over the loaded rows, plainly and ``CONCURRENTLY``;
- ``triggers dropped``: without ``contacts_fill_company`` and ``contacts_fill_value_ids``
  (the per-row BEFORE triggers), to price them;
- ``both``.

A bulk load pays when "indexes deferred" + its rebuild is below "full schema".
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

TICK = os.sysconf("SC_CLK_TCK")
KEEP = ("contacts_company_uuid_idx", "imports_contacts_without_email_idx")
_DEFERRABLE = """
SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = 'contacts'::regclass AND NOT x.indisunique AND NOT x.indisprimary
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
    AND i.relname <> ALL(%s) ORDER BY 1"""


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def deferrable() -> list[tuple[str, str]]:
    url = import_cost.prepare_database(
        argparse.Namespace(drop_index=[], without_company_copy=False)
    )
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(_DEFERRABLE, (list(KEEP),))
            return cur.fetchall()
    finally:
        conn.close()


def run(label: str, rows: int, path: Path, indexes, drop_indexes: bool, drop_triggers: bool):
    names = [name for name, _ in indexes] if drop_indexes else []
    url = import_cost.prepare_database(
        argparse.Namespace(drop_index=names, without_company_copy=drop_triggers)
    )
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            if drop_triggers:
                cur.execute("DROP TRIGGER contacts_fill_value_ids ON contacts")
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        conn.commit()
        cpu, wall, python = backend_cpu(pid), time.perf_counter(), time.process_time()
        asyncio.run(import_cost.import_once(conn, path, 2000, collections.Counter()))
        cpu = backend_cpu(pid) - cpu
        wall = time.perf_counter() - wall
        python = time.process_time() - python
        print(
            f"{label:26s} database {cpu / rows * 1e6:5.0f} us/row   python "
            f"{python / rows * 1e6:4.0f} us/row   (wall {wall / rows * 1e6:5.0f} us/row)",
            flush=True,
        )
        if not drop_indexes or drop_triggers:
            return
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '256MB'")
            for how in ("CREATE INDEX ", "CREATE INDEX CONCURRENTLY "):
                cpu, wall = backend_cpu(pid), time.perf_counter()
                for _, definition in indexes:
                    cur.execute(definition.replace("CREATE INDEX ", how, 1))
                cpu = backend_cpu(pid) - cpu
                wall = time.perf_counter() - wall
                print(
                    f"{'':26s} + rebuild {how.split()[-1].lower():12s} {cpu / rows * 1e6:5.0f}"
                    f" us/row   (wall {wall / rows * 1e6:5.0f} us/row)",
                    flush=True,
                )
                for name, _ in indexes:
                    cur.execute(f'DROP INDEX "{name}"')
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database-name", default="import_bulk_cost")
    args = parser.parse_args()
    import_cost.DATABASE = args.database_name
    generate = importlib.import_module("benchmarks.import").generate
    indexes = deferrable()
    print(f"{len(indexes)} deferrable indexes; {args.rows:,} rows; cores: {os.cpu_count()}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "contacts.csv"
            generate(path, args.rows)
            for _ in range(args.repeat):
                run("full schema", args.rows, path, indexes, False, False)
                run("indexes deferred", args.rows, path, indexes, True, False)
                run("triggers dropped", args.rows, path, indexes, False, True)
                run("both", args.rows, path, indexes, True, True)
    finally:
        admin = psycopg2.connect(import_cost.ADMIN_URL)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{args.database_name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
