"""Startup time of the API with every built-in plugin, against a running PostgreSQL.

Measures, over several runs, (1) a new ``contacts-api serve`` process from
spawn to its first ``/health`` answer, imports included, and (2) in-process
``create_app()`` plus the startup of every resource (pool, Redis, storage,
broker). Target (issue 2): under 2 s.

    python benchmarks/startup.py [--runs 5]

Uses DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres) in a
database it creates and drops, and REDIS_URL (default redis://127.0.0.1:6379/0).
"""

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import free_port, with_database  # noqa: E402

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TARGET_S = 2.0


def process_startup(env: dict[str, str]) -> float:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "contacts_api.core.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                return time.perf_counter() - started
            except OSError:
                if process.poll() is not None or time.perf_counter() - started > 30:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.01)
    finally:
        process.terminate()
        process.wait(30)


async def in_process_startup(env: dict[str, str]) -> float:
    from aiohttp import web

    from contacts_api.core.app import create_app
    from contacts_api.core.settings import load_settings

    started = time.perf_counter()
    runner = web.AppRunner(create_app(load_settings(environ=env)), access_log=None)
    await runner.setup()
    took = time.perf_counter() - started
    await runner.cleanup()
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    name = f"contacts_api_bench_startup_{secrets.token_hex(3)}"
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = with_database(ADMIN_URL, name)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "JWT_SECRET": secrets.token_urlsafe(48),  # the auth_jwt plugin needs one
        "CONTACTS_API__SERVER__ACCESS_LOG": "false",
        "PYTHONPATH": str(ROOT),
        "CONTACTS_API__DATABASE__MIGRATE_ON_STARTUP": "true",
    }
    try:
        process_startup(env)  # first run applies the migrations; not measured
        env["CONTACTS_API__DATABASE__MIGRATE_ON_STARTUP"] = "false"
        spawned = [process_startup(env) for _ in range(args.runs)]
        in_process = [asyncio.run(in_process_startup(env)) for _ in range(args.runs)]
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    from contacts_api.core.plugins import BUILTIN_PLUGINS

    print(f"built-in plugins: {', '.join(BUILTIN_PLUGINS)}")
    print(
        f"new process to first /health: median {statistics.median(spawned):.3f} s "
        f"(min {min(spawned):.3f}, max {max(spawned):.3f}, {args.runs} runs)"
    )
    print(f"create_app + resources startup: median {statistics.median(in_process):.3f} s")
    verdict = "PASS" if statistics.median(spawned) < TARGET_S else "FAIL"
    print(f"target: < {TARGET_S} s from spawn to serving: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
