"""Benchmark: login latency at the default bcrypt cost, and whether logins stall
the event loop.

Run from the repository root: ``python benchmarks/login.py``. It starts the app
in this process (``create_app`` + ``web.AppRunner`` on a free port) against a
database it creates and drops on the PostgreSQL of ``DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``) and the Redis of
``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``, keys under a unique
prefix, deleted afterwards), registers a user, then measures:

1. 30 sequential logins: p50 and p95 (target: p50 < 300 ms);
2. 20 concurrent logins while ``GET /health`` is polled every 10 ms: the worst
   /health latency during them (target: < 50 ms).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import bcrypt
import psycopg2
import redis
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contacts_api.core.app import create_app  # noqa: E402
from contacts_api.core.settings import load_settings  # noqa: E402

ADMIN_URL = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
SEQUENTIAL, CONCURRENT = 30, 20
LOGIN_P50_TARGET_S, HEALTH_MAX_TARGET_S = 0.300, 0.050
EMAIL, PASSWORD = "bench@example.com", "a benchmark passphrase"


def _admin(sql: str) -> None:
    conn = psycopg2.connect(ADMIN_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


async def _login(session: aiohttp.ClientSession, base: str) -> float:
    started = time.perf_counter()
    async with session.post(
        f"{base}/api/v2/auth/login", json={"email": EMAIL, "password": PASSWORD}
    ) as response:
        await response.read()
        assert response.status == 200, response.status
    return time.perf_counter() - started


async def _health_during(session: aiohttp.ClientSession, base: str, work) -> list[float]:
    latencies: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        while not done.is_set():
            started = time.perf_counter()
            async with session.get(f"{base}/health") as response:
                await response.read()
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.010)

    poller = asyncio.create_task(poll())
    await asyncio.sleep(0.05)  # a few quiet polls first
    await work
    done.set()
    await poller
    return latencies


def _bcrypt_alone_ms(rounds: int) -> float:
    """The floor under a login: the median of 5 bare bcrypt checks at this cost."""
    stored = bcrypt.hashpw(b"x" * 44, bcrypt.gensalt(rounds))
    times = []
    for _ in range(5):
        started = time.perf_counter()
        bcrypt.checkpw(b"x" * 44, stored)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def run(database_url: str, prefix: str, data_dir: str) -> bool:
    settings = load_settings(
        environ={
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "JWT_SECRET": secrets.token_urlsafe(48),
            "CONTACTS_API__REDIS__KEY_PREFIX": prefix,
            "CONTACTS_API__DATABASE__MIGRATE_ON_STARTUP": "true",
            "CONTACTS_API__SERVER__ACCESS_LOG": "false",
            "CONTACTS_API__BROKER__BACKEND": "memory",
            "CONTACTS_API__EMBEDDED__DATA_DIR": data_dir,
            "CONTACTS_API__AUTH__REGISTRATION_OPEN": "true",  # closed by default
        }
    )
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{base}/api/v2/auth/register", json={"email": EMAIL, "password": PASSWORD}
            ) as response:
                assert response.status == 201, await response.text()
            print(
                f"bcrypt cost: {settings.auth.bcrypt_rounds} (default), cpus: {os.cpu_count()}, "
                f"one bcrypt check alone: {_bcrypt_alone_ms(settings.auth.bcrypt_rounds):.0f} ms"
            )
            await _login(session, base)  # warm-up
            times = sorted([await _login(session, base) for _ in range(SEQUENTIAL)])
            p50, p95 = statistics.median(times), statistics.quantiles(times, n=20)[18]
            print(
                f"login, {SEQUENTIAL} sequential: p50 {p50 * 1000:.0f} ms, "
                f"p95 {p95 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
            )

            started = time.perf_counter()
            burst = asyncio.gather(*(_login(session, base) for _ in range(CONCURRENT)))
            latencies = await _health_during(session, base, burst)
            took = time.perf_counter() - started
            print(
                f"{CONCURRENT} concurrent logins: all done in {took:.2f} s; /health polled "
                f"{len(latencies)} times, max {max(latencies) * 1000:.1f} ms, "
                f"p50 {statistics.median(latencies) * 1000:.1f} ms"
            )
    finally:
        await runner.cleanup()
    login_ok, health_ok = p50 < LOGIN_P50_TARGET_S, max(latencies) < HEALTH_MAX_TARGET_S
    print(
        f"{'PASS' if login_ok else 'FAIL'}: login p50 {p50 * 1000:.0f} ms "
        f"(target < {LOGIN_P50_TARGET_S * 1000:.0f} ms)"
    )
    print(
        f"{'PASS' if health_ok else 'FAIL'}: /health max {max(latencies) * 1000:.1f} ms during "
        f"{CONCURRENT} concurrent logins (target < {HEALTH_MAX_TARGET_S * 1000:.0f} ms)"
    )
    return login_ok and health_ok


def main() -> int:
    name = f"contacts_api_bench_login_{secrets.token_hex(4)}"
    prefix = f"bench_login_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            url = urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))
            ok = asyncio.run(run(url, prefix, data_dir))
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
