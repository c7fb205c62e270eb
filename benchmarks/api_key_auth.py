"""What checking an API key against the database on every request costs.

    python benchmarks/api_key_auth.py [--rounds 2000] [--database-name api_key_auth_bench]

API keys are checked against their row on every request (no cache), so a
revoked or expired key, or a deactivated owner, is refused at once by every
process (plugins/auth_api_keys/service.py). This compares, in one process on
one database, the p50 of resolving an API key (one primary-key lookup joined
to its owner, an HMAC) with resolving a JWT access token (a signature check
and one read of the user row, which the auth_jwt plugin already does on every
request). The criterion: an API key costs at most 1.5 x a JWT.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg2  # noqa: E402

from benchmarks.common import with_database  # noqa: E402
from contacts_api.core.migrations import apply_migrations  # noqa: E402
from contacts_api.core.plugins import Plugins  # noqa: E402
from contacts_api.core.resources import open_resources  # noqa: E402
from contacts_api.core.settings import load_settings  # noqa: E402
from contacts_api.plugins.auth_api_keys.service import api_keys_service  # noqa: E402
from contacts_api.plugins.auth_jwt.service import auth_service  # noqa: E402
from contacts_api.plugins.auth_jwt.tokens import ACCESS  # noqa: E402

ADMIN_URL = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


async def _timed(call, rounds: int) -> float:
    for _ in range(50):
        await call()
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def main_async(args) -> int:
    url = with_database(ADMIN_URL, args.database_name)
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{args.database_name}"')
        cur.execute(f'CREATE DATABASE "{args.database_name}"')
    try:
        settings = load_settings(
            environ={
                "DATABASE_URL": url,
                "JWT_SECRET": "b" * 48,
                "CONTACTS_API__STORAGE__LOCAL_PATH": tempfile.mkdtemp(),
                "CONTACTS_API__BROKER__BACKEND": "memory",
            }
        )
        plugins = Plugins.load(settings)
        await apply_migrations(url, plugins.migration_folders())
        async with open_resources(plugins.settings, plugins) as resources:
            users = auth_service(resources)
            user_id = await users.users.create("bench@example.com", "x", "user", {})
            token = users.tokens.issue(user_id, ACCESS).token
            keys = api_keys_service(resources)
            key = (await keys.create(user_id, "bench", ["read"], None))["key"]
            await asyncio.sleep(1.1)  # access tokens count from the next second on
            jwt = await _timed(lambda: users.actor(users.tokens.decode(token, ACCESS)), args.rounds)
            api_key = await _timed(lambda: keys.actor(key), args.rounds)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{args.database_name}" WITH (FORCE)')
        admin.close()
    ok = api_key <= 1.5 * jwt
    print(
        f"actor resolution p50 over {args.rounds} rounds: JWT {jwt:.3f} ms, "
        f"API key {api_key:.3f} ms ({api_key / jwt:.2f}x; criterion <= 1.5x: "
        f"{'PASS' if ok else 'FAIL'})"
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--database-name", default="api_key_auth_bench")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
