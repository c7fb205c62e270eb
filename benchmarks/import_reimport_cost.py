"""A re-import's cost in the worker, in process (issue 16): CPU time, not wall clock.

On a loaded 2-core machine the wall-clock rate of ``benchmarks/import.py`` is noise;
the re-import is bound by the worker's Python (the GIL), so its CPU time per row is
the number to compare. This creates its own database, imports a generated Apollo
2026 file (``benchmarks/generate.py``, as ``benchmarks/import.py`` makes it) once,
then re-imports the same file ``--repeat`` times with ``run_import`` on this
process's event loop, as the worker runs it, and prints per re-import: this
process's CPU time per row (``time.process_time``: the event loop's thread and the
reading thread), the CPU time of the database backends (``pg_stat_activity`` pids'
``/proc/<pid>/stat``, when the server runs on this machine) and the wall time.

    python benchmarks/import_reimport_cost.py [--rows 50000] [--repeat 5]
                                              [--batch-size 2000] [--keep-database NAME]
    python benchmarks/import_reimport_cost.py --database NAME [--rows 50000] [--repeat 5]

``--keep-database NAME`` keeps the loaded database; ``--database NAME`` re-imports into
such a database (the same ``--rows`` file) without loading it again: run it with two
checkouts in turn for a same-run A/B (a re-import changes nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import with_database  # noqa: E402

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SEED = 20261126


def _backend_cpu_s(url: str) -> float:
    """CPU seconds (user + system) of the database's backends so far (0 when their
    /proc is not readable: a server on another machine)."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
            pids = [pid for (pid,) in cur.fetchall()]
    finally:
        conn.close()
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (after the name)
    return total / os.sysconf("SC_CLK_TCK")


async def _import(resources, path: Path) -> dict:
    from contacts_api.plugins.imports import repository as repo
    from contacts_api.plugins.imports.tasks import run_import

    job_id = str(uuid.uuid4())
    key = f"imports/{job_id}.csv"

    async def chunks():
        with open(path, "rb") as source:
            while chunk := source.read(256 * 1024):
                yield chunk

    size = await resources.storage.write(key, chunks())
    await repo.create_job(resources.db, job_id, path.name, key, size)
    await run_import(resources, job_id)
    return await repo.get_job(resources.db, job_id)


async def _run(args, url: str, path: Path, work: Path) -> None:
    from contacts_api.core.plugins import Plugins
    from contacts_api.core.resources import open_resources
    from contacts_api.core.settings import load_settings

    environ = {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "CONTACTS_API__STORAGE__LOCAL_PATH": str(work),
        "CONTACTS_API__BROKER__BACKEND": "memory",
        "CONTACTS_API__IMPORTS__BATCH_SIZE": str(args.batch_size),
    }
    plugins = Plugins.load(load_settings(environ=environ))
    async with open_resources(plugins.settings, plugins) as resources:
        if not args.database:
            started = time.perf_counter()
            job = await _import(resources, path)
            print(
                f"first import: {time.perf_counter() - started:.1f} s wall, created"
                f" {job['created_count']:,}, updated {job['updated_count']:,}"
            )
        cpu, wall = [], []
        for _ in range(args.repeat):
            backend = _backend_cpu_s(url)
            started_cpu, started = time.process_time(), time.perf_counter()
            job = await _import(resources, path)
            spent_cpu = time.process_time() - started_cpu
            spent = time.perf_counter() - started
            backend = _backend_cpu_s(url) - backend
            rows = job["created_count"] + job["updated_count"] + job["error_count"]
            cpu.append(spent_cpu / rows * 1e6)
            wall.append(spent)
            print(
                f"re-import: worker CPU {spent_cpu / rows * 1e6:6.1f} us/row,"
                f" backends CPU {backend / rows * 1e6:6.1f} us/row,"
                f" wall {spent:6.1f} s ({rows / spent:,.0f} rows/s);"
                f" created {job['created_count']:,}, updated {job['updated_count']:,}"
            )
        print(f"median worker CPU {statistics.median(cpu):.1f} us/row over {args.repeat}")


def main() -> None:
    if os.environ.get("SWITCH"):
        sys.setswitchinterval(float(os.environ["SWITCH"]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--keep-database", help="keep the loaded database under this name")
    parser.add_argument("--database", help="re-import into this loaded database (kept)")
    args = parser.parse_args()
    from benchmarks.generate import write_apollo_csv
    from contacts_api.core.migrations import _apply
    from contacts_api.core.plugins import Plugins
    from contacts_api.core.settings import load_settings

    path = Path(tempfile.gettempdir()) / f"contacts-import-bench-{args.rows}.csv"
    if not path.exists():
        write_apollo_csv(path, args.rows, max(10, args.rows // 10), SEED)
    name = args.database or args.keep_database or f"contacts_api_reimport_{secrets.token_hex(4)}"
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    if not args.database:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    url = with_database(ADMIN_URL, name)
    try:
        environ = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": "x" * 64}
        _apply(url, Plugins.load(load_settings(environ=environ)).migration_folders())
        with tempfile.TemporaryDirectory(prefix="contacts-reimport-") as work:
            asyncio.run(_run(args, url, path, Path(work)))
    finally:
        if not (args.keep_database or args.database):
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
