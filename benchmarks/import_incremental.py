"""The everyday import: a file of new contacts into a database that already holds many.

``python benchmarks/import.py --incremental-base 1000000`` runs this step (see
:func:`run`): it loads a base of N contacts quickly, without the importer (COPY of
``benchmarks/generate.py``'s first million contacts, then copies of them made in SQL
with their indexes dropped), keeps that database as a template (``--base-database``,
reused by the next run when it holds N contacts), and for each measured import
clones it (``CREATE DATABASE ... TEMPLATE``), migrates the clone (so a new migration
is applied to a populated database, timed), starts ``contacts-api serve`` and a
worker, and uploads ``--incremental-rows`` (20,000) NEW contacts ``--incremental-runs``
times (different contacts each time) through HTTP. It prints rows/s and microseconds
per row of each upload and their median.

The new contacts are ``benchmarks/generate.py``'s first rows of the same seed (so the
same 100,000 companies, unchanged: no company update, no refresh of their contacts)
with their emails (and the last names of those without an email) tagged: every row
creates a contact.
"""

from __future__ import annotations

import asyncio
import csv
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

from benchmarks.common import with_database

UNIT = 1_000_000  # contacts generated in Python; more are SQL copies of these
COMPANIES = 100_000


def _exists(admin, name: str) -> bool:
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return cur.fetchone() is not None


def _count(url: str) -> int:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM contacts")
            return cur.fetchone()[0]
    finally:
        conn.close()


def multiply_contacts(url: str, total: int) -> None:
    """Grow ``contacts`` to ``total`` rows with copies of its rows (new uuid, email
    prefixed ``c<k>~``), with the secondary indexes dropped and built again after."""
    conn = psycopg2.connect(url)
    started = time.perf_counter()
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM contacts")
        unit = cur.fetchone()[0]
        cur.execute("""SELECT indexname, indexdef FROM pg_indexes
                       WHERE tablename = 'contacts' AND indexname NOT IN
                       (SELECT conname FROM pg_constraint)""")
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SET session_replication_role = replica")  # no triggers: copies are right
        # one statement: its snapshot does not see the rows it inserts
        cur.execute(
            """
            INSERT INTO contacts (first_name, last_name, email, title, seniority,
                departments, email_status, mobile_phone, city, state, country,
                linkedin_url, company_uuid, created_at, updated_at, company_name,
                company_employees, company_annual_revenue, company_total_funding,
                title_id, country_id)
            SELECT first_name, last_name, 'c' || k || '~' || email, title, seniority,
                departments, email_status, mobile_phone, city, state, country,
                linkedin_url, company_uuid, created_at, updated_at, company_name,
                company_employees, company_annual_revenue, company_total_funding,
                title_id, country_id
            FROM generate_series(1, %(copies)s) AS k, contacts
            LIMIT %(limit)s""",
            {"copies": -(-total // unit) - 1, "limit": total - unit},
        )
        cur.execute("SET session_replication_role = origin")
        copied = time.perf_counter()
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")
        for _, definition in indexes:
            cur.execute(definition)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("ANALYZE contacts")
    conn.close()
    print(
        f"copied contacts up to {total:,} in {copied - started:.0f} s, "
        f"{len(indexes)} indexes and ANALYZE in {time.perf_counter() - copied:.0f} s",
        flush=True,
    )


def ensure_base(
    admin,
    admin_url: str,
    name: str,
    contacts: int,
    migrate,
    seed: int,
    template: str | None,
    in_place: bool = False,
) -> str:
    """The template database ``name`` holding ``contacts`` contacts (made when absent,
    from a copy of the database ``template`` of UNIT contacts when given)."""
    from benchmarks import generate

    url = with_database(admin_url, name)
    if _exists(admin, name):
        # in place, the base grows by each run's rows: any count near N will do
        if _count(url) == contacts or (in_place and _count(url) >= contacts):
            print(f"reusing base database {name} ({contacts:,} contacts)", flush=True)
            return url
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    with admin.cursor() as cur:
        if template:  # a base of UNIT contacts already loaded: start from a copy of it
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            cur.execute(f'CREATE DATABASE "{name}"')
    if not template:
        migrate(url)
        generate.load(url, min(contacts, UNIT), COMPANIES, seed)
    if contacts > UNIT:
        multiply_contacts(url, contacts)
    return url


def write_new_contacts(path: Path, rows: int, tag: str, seed: int) -> None:
    """``rows`` contacts that are not in the base: generate.py's first rows (same
    seed, same companies) with the emails, or the last names of those without one,
    tagged with ``tag``."""
    from benchmarks.generate import write_apollo_csv

    source = path.with_suffix(".source.csv")
    write_apollo_csv(source, rows, COMPANIES, seed)
    with (
        open(source, encoding="utf-8-sig", newline="") as reader_file,
        open(path, "w", encoding="utf-8", newline="") as writer_file,
    ):
        reader, writer = csv.reader(reader_file), csv.writer(writer_file)
        header = next(reader)
        email, last = header.index("Email"), header.index("Last Name")
        writer_file.write("\ufeff")
        writer.writerow(header)
        for row in reader:
            if row[email]:
                row[email] = f"{tag}.{row[email]}"
            else:
                row[last] = f"{row[last]} {tag}"
            writer.writerow(row)
    source.unlink()


def run(args, helpers) -> None:
    """The incremental step of ``benchmarks/import.py`` (``helpers``: that module, for
    its process and upload helpers)."""
    from contacts_api.core.migrations import _apply
    from contacts_api.core.plugins import Plugins
    from contacts_api.core.settings import load_settings

    admin_url = helpers.ADMIN_URL
    base_name = args.base_database or f"contacts_api_bench_base_{args.incremental_base}"
    work = Path(tempfile.mkdtemp(prefix="contacts-import-incremental-"))
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    env_common = helpers.bench_environ(work, args.batch_size)

    def migrate(url: str) -> None:
        _apply(
            url,
            Plugins.load(
                load_settings(environ={**env_common, "DATABASE_URL": url})
            ).migration_folders(),
        )

    name = f"contacts_api_bench_inc_{secrets.token_hex(4)}"
    server = worker = None
    results: list[tuple[float, dict]] = []
    try:
        started = time.perf_counter()
        ensure_base(
            admin,
            admin_url,
            base_name,
            args.incremental_base,
            migrate,
            helpers.SEED,
            args.base_template,
            args.in_place,
        )
        print(f"base ready in {time.perf_counter() - started:.0f} s", flush=True)
        if not args.incremental_runs:
            return  # only make the base
        files = []
        for run_index in range(args.incremental_runs):
            path = work / f"new-{run_index}.csv"
            write_new_contacts(
                path, args.incremental_rows, f"new{run_index}x{secrets.token_hex(3)}", helpers.SEED
            )
            files.append(path)
        started = time.perf_counter()
        if args.in_place:  # import into the base itself (saves the copy of a big base)
            name = base_name
        else:
            with admin.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base_name}"')
        cloned = time.perf_counter()
        url = with_database(admin_url, name)
        migrate(url)  # the migrations the base does not have yet, on 1M+ contacts
        print(
            f"cloned the base in {cloned - started:.0f} s, "
            f"migrated the clone in {time.perf_counter() - cloned:.1f} s",
            flush=True,
        )
        env = {**env_common, "DATABASE_URL": url}
        port = helpers.free_port()
        server = helpers.start(["serve", "--port", str(port)], env, work / "serve.log")
        worker = helpers.start(["worker", "--queue", "imports"], env, work / "worker.log")
        helpers.wait_for(
            lambda: b"worker resources open" in (work / "worker.log").read_bytes(),
            60,
            "the worker",
        )
        helpers.wait_for(lambda: helpers._healthy(port), 60, "the server")
        base = f"http://127.0.0.1:{port}"
        shown_phases: list[str] = []
        for path in files:
            seconds, job = asyncio.run(helpers.upload_and_wait(base, path))
            results.append((seconds, job))
            rate = args.incremental_rows / seconds
            print(
                f"  {args.incremental_rows:,} new contacts: {seconds:6.2f} s "
                f"{rate:8,.0f} rows/s {seconds / args.incremental_rows * 1e6:8.0f} us/row  "
                f"(created {job['created_count']:,}, updated {job['updated_count']:,}, "
                f"errors {job['error_count']:,}, status {job['status']})",
                flush=True,
            )
            phases = helpers.worker_phases(work / "worker.log")
            for line in phases[len(shown_phases) :]:
                print(f"    worker: {line}", flush=True)
            shown_phases = phases
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        with admin.cursor() as cur:
            if not args.in_place:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if args.drop_base:
                cur.execute(f'DROP DATABASE IF EXISTS "{base_name}" WITH (FORCE)')
        admin.close()
        shutil.rmtree(work, ignore_errors=True)
    if results:
        median = statistics.median(seconds for seconds, _ in results)
        rate = args.incremental_rows / median
        print(
            f"incremental import into {args.incremental_base:,} contacts: median "
            f"{median:.2f} s, {rate:,.0f} rows/s, {median / args.incremental_rows * 1e6:.0f} "
            f"us/row over {len(results)} runs (target >= 5,000 rows/s: "
            f"{'ok' if rate >= 5000 else 'MISSED'}); cores: {os.cpu_count()}"
        )
