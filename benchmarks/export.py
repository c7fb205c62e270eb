"""CSV export throughput: the full path against PostgreSQL's own COPY.

In one run, on the same rows:

1. the full path: ``POST /api/v2/exports/contacts/export`` (or, with
   ``--companies``, ``POST /api/v2/exports/companies/export``) on the API, the
   task on a real ``contacts-api worker`` process (Redis broker), the CSV
   streamed to an S3 server (moto in server mode, over HTTP);
2. the reference: ``COPY (SELECT <the same export columns and joins>) TO STDOUT``
   read by a client that discards the bytes.

Prints rows/s for both, the ratio (target: at least 50% of the COPY rate) and
the worker's peak RSS sampled every 50 ms (target: under 300 MB).

    python benchmarks/export.py [--contacts 1000000] [--company-count 100000]
    python benchmarks/export.py --companies   # 100k companies (and 300k contacts)

DATABASE_URL (admin, default postgresql://postgres@127.0.0.1:5432/postgres) and
REDIS_URL (default redis://127.0.0.1:6379/0); it creates and drops its database.
"""

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import free_port, with_database  # noqa: E402

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# Deterministic synthetic rows, generated inside PostgreSQL (fast at 1M rows).
GENERATE = """
INSERT INTO companies (name, domain, employees_count, industries, keywords, technologies,
                       annual_revenue, city, country)
SELECT 'Company ' || i, 'company' || i || '.example', (1 + (i * 7919) %% 5000),
       ARRAY['industry ' || (i %% 140)], ARRAY['kw' || (i %% 300), 'kw' || (i %% 17)],
       ARRAY['tech' || (i %% 90)], (i::bigint * 104729) %% 100000000, 'City ' || (i %% 900),
       (ARRAY['United States', 'Germany', 'France', 'United Kingdom'])[1 + i %% 4]
FROM generate_series(1, %(companies)s) AS i;
INSERT INTO company_metadata (company_uuid, website, phone_number)
SELECT uuid, 'https://www.' || domain, '+1 555 ' || lpad((employees_count)::text, 4, '0')
FROM companies;
CREATE TEMP TABLE company_ids AS
SELECT uuid, row_number() OVER (ORDER BY uuid) AS n FROM companies;
INSERT INTO contacts (first_name, last_name, email, title, seniority, departments,
                      email_status, mobile_phone, city, state, country, linkedin_url,
                      company_uuid)
SELECT 'First' || i, 'Last' || (i %% 50000),
       CASE WHEN i %% 20 = 0 THEN NULL ELSE 'person' || i || '@example.com' END,
       (ARRAY['CEO', 'CTO', 'Sales Manager', 'Software Engineer', 'VP Marketing'])[1 + i %% 5]
           || ' ' || (i %% 1000),
       (ARRAY['c_suite', 'vp', 'manager', 'senior', 'entry'])[1 + i %% 5],
       ARRAY['engineering', 'sales'], 'verified', '+1 555 ' || (i %% 10000),
       'City ' || (i %% 700), 'State ' || (i %% 50), 'United States',
       'https://www.linkedin.com/in/p' || i, c.uuid
FROM generate_series(1, %(contacts)s) AS i
JOIN company_ids AS c ON c.n = 1 + (i * 31) %% %(companies)s;
INSERT INTO contact_metadata (contact_uuid, work_direct_phone, stage)
SELECT uuid, '+1 555 0100', 'Lead' FROM contacts WHERE random() < 0.5;
ANALYZE;
"""


def start_moto() -> tuple[subprocess.Popen, str]:
    import urllib.request

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
            return process, endpoint
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto did not start")


class PeakRss:
    """Samples a process's resident memory until stopped."""

    def __init__(self, pid: int):
        self.process, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


class Discard:
    def __init__(self):
        self.size = 0

    def write(self, data) -> int:
        self.size += len(data)
        return len(data)


def copy_reference(url: str, kind: str) -> tuple[int, float, int]:
    import sqlalchemy as sa

    from contacts_api.core.sql import compile_sql
    from contacts_api.plugins.exports.columns import company_export_select, export_select

    select = company_export_select if kind == "companies" else export_select
    sql, params = compile_sql(select(sa.text(KINDS[kind][2])))
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            literal = cur.mogrify(sql, params).decode()
            sink = Discard()
            started = time.perf_counter()
            cur.copy_expert(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)", sink)
            return cur.rowcount, time.perf_counter() - started, sink.size
    finally:
        conn.close()


# What each kind exports (every row), through the API and for the COPY reference.
KINDS = {
    "contacts": (
        "/api/v2/exports/contacts/export",
        {"filters": {"created_at_after": ["2000-01-01"]}},
        "contacts.created_at >= '2000-01-01'",
    ),
    "companies": (
        "/api/v2/exports/companies/export",
        {"filters": {"employees_range": ["0,1000000"]}},
        "companies.employees_count BETWEEN 0 AND 1000000",
    ),
}


async def full_path(env: dict[str, str], worker_pid: int, kind: str) -> tuple[int, float, int]:
    from aiohttp import ClientSession, web

    from contacts_api.core.app import create_app
    from contacts_api.core.auth import Actor
    from contacts_api.core.hookspecs import hookimpl
    from contacts_api.core.settings import load_settings

    class BenchActor:  # the benchmark measures exports, not logins
        @hookimpl
        def actor_from_request(self, request, resources):
            return Actor(id="bench", kind="bench")

    app = create_app(load_settings(environ=env), extra_plugins=[("bench_actor", BenchActor())])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    rss = PeakRss(worker_pid)
    try:
        async with ClientSession(f"http://127.0.0.1:{port}") as http:
            started = time.perf_counter()
            route, body, _ = KINDS[kind]
            response = await http.post(route, json=body)
            export = await response.json()
            while export["status"] in ("pending", "processing"):
                await asyncio.sleep(0.2)
                export = await (await http.get(f"/api/v2/exports/{export['id']}")).json()
            took = time.perf_counter() - started
    finally:
        peak = rss.stop()
        await runner.cleanup()
    if export["status"] != "completed":
        raise RuntimeError(f"export failed: {export['error']}")
    return export["row_count"], took, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--contacts", type=int, help="contacts generated (1M; 300k with --companies)"
    )
    parser.add_argument("--company-count", type=int, default=100_000, help="companies generated")
    parser.add_argument(
        "--companies",
        action="store_true",
        help="export the companies (one row each, with contacts_count) instead of the contacts",
    )
    args = parser.parse_args()
    kind = "companies" if args.companies else "contacts"
    if args.contacts is None:
        args.contacts = 300_000 if args.companies else 1_000_000

    import boto3

    from contacts_api.core.migrations import _apply
    from contacts_api.core.plugins import Plugins
    from contacts_api.core.settings import load_settings

    name = f"contacts_api_bench_export_{secrets.token_hex(3)}"
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = with_database(ADMIN_URL, name)
    moto, endpoint = start_moto()
    worker = None
    try:
        env = {
            "DATABASE_URL": url,
            "REDIS_URL": REDIS_URL,
            "S3_BUCKET": "bench-exports",
            "S3_ENDPOINT_URL": endpoint,
            "S3_ACCESS_KEY_ID": "bench",
            "S3_SECRET_ACCESS_KEY": "bench",
            "CONTACTS_API__BROKER__BACKEND": "redis",
            "CONTACTS_API__REDIS__KEY_PREFIX": f"bench_{secrets.token_hex(3)}",
            "CONTACTS_API__STORAGE__S3_ADDRESSING_STYLE": "path",
            "CONTACTS_API__SERVER__ACCESS_LOG": "false",
            "SIGNING_SECRET": "b" * 40,
            "JWT_SECRET": "j" * 48,
        }
        settings = load_settings(environ=env)
        _apply(url, Plugins.load(settings).migration_folders())
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).create_bucket(Bucket="bench-exports")
        started = time.perf_counter()
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute(GENERATE, {"contacts": args.contacts, "companies": args.company_count})
        print(
            f"generated {args.contacts:,} contacts, {args.company_count:,} companies "
            f"in {time.perf_counter() - started:.1f} s"
        )

        worker = subprocess.Popen(
            [sys.executable, "-m", "contacts_api.core.cli", "worker", "--queue", "exports"],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(3)  # let the worker connect before the task is queued

        rows, seconds, peak = asyncio.run(full_path(env, worker.pid, kind))
        copy_rows, copy_seconds, copy_bytes = copy_reference(url, kind)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        moto.terminate()
        moto.wait(10)
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    rate, copy_rate = rows / seconds, copy_rows / copy_seconds
    ratio = rate / copy_rate
    print(f"exported: {kind}")
    print(f"full path (API -> worker -> S3): {rows:,} rows in {seconds:.1f} s = {rate:,.0f} rows/s")
    print(
        f"COPY (SELECT ...) TO STDOUT:     {copy_rows:,} rows in {copy_seconds:.1f} s = "
        f"{copy_rate:,.0f} rows/s ({copy_bytes / 1e6:,.0f} MB)"
    )
    print(
        f"ratio: {ratio:.0%} of the COPY rate (target >= 50%): {'PASS' if ratio >= 0.5 else 'FAIL'}"
    )
    print(
        f"worker peak RSS: {peak / 2**20:.0f} MB (target < 300 MB): "
        f"{'PASS' if peak < 300 * 2**20 else 'FAIL'}"
    )
    return 0 if ratio >= 0.5 and peak < 300 * 2**20 else 1


if __name__ == "__main__":
    sys.exit(main())
