"""List queries at scale: the HTTP API against the same SQL run directly.

    python benchmarks/list_queries.py [--contacts 1000000 --companies 100000] [--reuse]
                                      [--rounds 25] [--explain]

Creates its own database (``contacts_bench`` next to ``DATABASE_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``), migrates it, loads it with
``benchmarks/generate.py`` (``--reuse`` keeps an already loaded one), starts the
app on a free port, and for each representative request measures p50/p95
through HTTP and of the very SQL the service runs for it (the filters'
dictionary lookups, then the statement), run on a plain psycopg2 connection.
It also EXPLAINs every statement and reports any sequential scan of contacts or
companies (``--explain`` prints whole plans).

Pass criteria (issue 4): API p50 <= 1.5 x SQL p50 + 5 ms, every API p50 < 50 ms,
and the deep cursor page (20,000 rows in) within 1.5 x of the first page.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import psycopg2  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from aiohttp import web  # noqa: E402

from benchmarks import generate  # noqa: E402
from benchmarks.common import free_port, with_database  # noqa: E402
from contacts_api.core.app import create_app  # noqa: E402
from contacts_api.core.appkeys import FILTERS, SIGNER  # noqa: E402
from contacts_api.core.migrations import _apply  # noqa: E402
from contacts_api.core.plugins import Plugins  # noqa: E402
from contacts_api.core.settings import load_settings  # noqa: E402
from contacts_api.core.sql import compile_sql  # noqa: E402
from contacts_api.plugins.contacts import attributes, dictionaries, repository  # noqa: E402
from contacts_api.plugins.contacts.ordering import CONTACT_ORDERING, parse_ordering  # noqa: E402
from contacts_api.plugins.contacts.pagination import encode_cursor, scope_of  # noqa: E402
from contacts_api.plugins.contacts.service import LIST_PARAMS  # noqa: E402
from contacts_api.plugins.contacts.tables import contacts  # noqa: E402

WRITE_KEY = "bench-write-key-0123456789"
DEEP_ROWS = 20_000
LIST = "/api/v1/contacts/"
# (label, kind, params): kind is list, count or an attribute name
QUERIES = [
    ("first page (default order)", "list", []),
    ("title contains", "list", [("title", "marketing manager")]),
    ("company contains", "list", [("company", "nexgen")]),
    ("country", "list", [("country", "germany")]),
    (
        "seniority + employees range",
        "list",
        [("seniority", "director"), ("employees_range", "51,200")],
    ),
    ("industry", "list", [("industries", "computer software")]),
    ("two-word search", "list", [("search", "garcia sales")]),
    (
        "exclusion",
        "list",
        [
            ("country", "united states"),
            ("exclude_seniorities", "entry,senior"),
            ("exclude_industries", "retail,staffing"),
        ],
    ),
    (
        "technology by employees",
        "list",
        [("technologies", "shopify_plus"), ("ordering", "-employees")],
    ),
    ("title words, view=simple", "list", [("title_words", "vp sales"), ("view", "simple")]),
    ("deep cursor page (20,000 in)", "deep", []),
    ("ordered by -employees", "list", [("ordering", "-employees")]),
    ("-employees, 20,000 in", "deep", [("ordering", "-employees")]),
    ("ordered by title", "list", [("ordering", "title")]),
    ("-last_name, 20,000 in", "deep", [("ordering", "-last_name")]),
    ("count", "count", [("title", "director"), ("country", "france")]),
    ("attribute: titles", "title", [("search", "head of"), ("country", "spain")]),
    ("attribute: companies", "company", [("search", "nexgen")]),
]


def prepare_database(admin_url: str, name: str, args) -> str:
    url = with_database(admin_url, name)
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        exists = cur.fetchone() is not None
        if exists and args.reuse:
            admin.close()
            print(f"reusing database {name}")
            return url
        if exists:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    settings = app_settings(url, tempfile.mkdtemp())
    _apply(url, Plugins.load(settings).migration_folders())
    generate.load(url, args.contacts, args.companies, args.seed)
    return url


def app_settings(url: str, tmp: str):
    return load_settings(
        environ={
            "DATABASE_URL": url,
            "CONTACTS_WRITE_KEY": WRITE_KEY,
            "JWT_SECRET": "b" * 48,
            "CONTACTS_API__SERVER__ACCESS_LOG": "false",
            "CONTACTS_API__BROKER__BACKEND": "memory",
            "CONTACTS_API__STORAGE__LOCAL_PATH": f"{tmp}/files",
            "CONTACTS_API__EMBEDDED__DATA_DIR": f"{tmp}/data",
            "CONTACTS_API__DATABASE__MIGRATE_ON_STARTUP": "false",
        }
    )


class RecordingDb:
    """A stand-in for the service's database helper while preparing filters: runs
    the dictionary lookups on a psycopg2 cursor and records them, so the raw-SQL
    side of the benchmark runs them too."""

    def __init__(self, cur):
        self.cur, self.queries = cur, []

    async def fetch_tuples(self, sql, params=None):
        self.queries.append((sql, params))
        self.cur.execute(sql, params)
        return self.cur.fetchall()


async def statements_for(app, cur, kind: str, params, after=None) -> list:
    """``[(sql, params)]``: what the service runs for this request (the filters'
    dictionary lookups, then the statement)."""
    registry = app[FILTERS].contacts
    query = dict(params)
    db = RecordingDb(cur)
    if kind in ("list", "deep"):
        applied = await registry.parse(params, ignore=LIST_PARAMS).prepared(db)
        ordering = parse_ordering(query.get("ordering"), CONTACT_ORDERING)
        statement = repository.contact_page(
            applied, ordering, limit=26, after=after, view=query.get("view", "full")
        )
    elif kind == "count":
        statement = repository.contact_count(await registry.parse(params).prepared(db))
    else:
        applied = await registry.parse(
            params, ignore=("search", "limit", "offset", "ordering")
        ).prepared(db)
        search = query.get("search")
        if search and kind in attributes.DICTIONARY_ATTRIBUTES:
            search = await dictionaries.match(db, kind, search)
        statement = compile_sql(
            attributes.contact_values(
                kind, applied, search=search, ordering="-count", limit=26, offset=0
            )
        )
    return [*db.queries, statement]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def seq_scans(plan: dict) -> list[str]:
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in (
        "contacts",
        "companies",
    ):
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += seq_scans(child)
    return found


async def main_async(args) -> int:
    admin_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = prepare_database(admin_url, args.database_name, args)
    app = create_app(app_settings(url, tempfile.mkdtemp()))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM contacts")
    print(f"contacts: {cur.fetchone()[0]:,}; rounds: {args.rounds}\n")

    def deep_cursor(params):
        """The cursor after row DEEP_ROWS of the ordering in ``params``."""
        ordering = parse_ordering(dict(params).get("ordering"), CONTACT_ORDERING)
        columns = [
            sa.cast(contacts.c.uuid, sa.Text) if key.column == "uuid" else contacts.c[key.column]
            for key in ordering.keys
        ]
        cur.execute(
            *compile_sql(
                sa.select(*columns)
                .order_by(*ordering.order_by(contacts))
                .offset(DEEP_ROWS - 1)
                .limit(1)
            )
        )
        values = list(cur.fetchone())
        scope = scope_of("contacts", ordering.text, {})
        return encode_cursor(app[SIGNER], scope, True, values), values

    headers = {"X-Contacts-Write-Key": WRITE_KEY}
    plans = []
    for label, kind, params in QUERIES:
        if kind == "deep":
            cursor, after = deep_cursor(params)
            path, query = LIST, [*params, ("cursor", cursor)]
        else:
            path = {"list": LIST, "count": f"{LIST}count/"}.get(kind, f"{LIST}{kind}/")
            query, after = params, None
        statements = await statements_for(app, cur, kind, params, after)
        plans.append((label, f"{base}{path}?{urlencode(query)}", statements))
    timings = {label: ([], []) for label, *_ in plans}
    bodies = {}
    async with aiohttp.ClientSession(headers=headers) as session:
        # round-robin over the queries, so that load from elsewhere hits all alike
        for round_ in range(args.rounds + 3):
            for label, http_url, statements in plans:
                # alternate which side runs first: the first run of a round pays for
                # the pages the other queries evicted from shared_buffers
                for side in ("api", "sql") if round_ % 2 else ("sql", "api"):
                    started = time.perf_counter()
                    if side == "api":
                        async with session.get(http_url) as response:
                            body = await response.read()
                            assert response.status == 200, (label, response.status, body[:300])
                        api = (time.perf_counter() - started) * 1000
                    else:
                        for sql, sql_params in statements:
                            cur.execute(sql, sql_params)
                            cur.fetchall()
                        direct = (time.perf_counter() - started) * 1000
                bodies[label] = body
                if round_ >= 3:
                    timings[label][0].append(api)
                    timings[label][1].append(direct)
    results = []
    for label, _, statements in plans:
        sql, sql_params = statements[-1]
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, sql_params)
        plan = cur.fetchone()[0][0]["Plan"]
        if args.explain:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, sql_params)
            print(f"-- {label}\n" + "\n".join(r[0] for r in cur.fetchall()) + "\n")
        results.append((label, *timings[label], seq_scans(plan), json.loads(bodies[label])))
    await runner.cleanup()
    conn.close()
    return report(results)


def report(results) -> int:
    failures = []
    print(
        f"{'query':32} {'API p50':>8} {'API p95':>8} {'SQL p50':>8} {'SQL p95':>8} "
        f"{'ratio':>6}  seq scans   result"
    )
    p50 = {}
    for label, api_ms, sql_ms, scans, body in results:
        a50, a95 = statistics.median(api_ms), percentile(api_ms, 0.95)
        s50, s95 = statistics.median(sql_ms), percentile(sql_ms, 0.95)
        p50[label] = a50
        ok = a50 <= 1.5 * s50 + 5 and a50 < 50
        if not ok:
            failures.append(label)
        size = (
            f"count={body['count']}"
            if "count" in body and "results" not in body
            else f"{len(body.get('results', []))} rows"
        )
        print(
            f"{label:32} {a50:8.2f} {a95:8.2f} {s50:8.2f} {s95:8.2f} {a50 / s50:6.2f}  "
            f"{','.join(scans) or '-':10}  {size:12} {'PASS' if ok else 'FAIL'}"
        )
    deep_ok = True
    print()
    for first_label, deep_label in (
        ("first page (default order)", "deep cursor page (20,000 in)"),
        ("ordered by -employees", "-employees, 20,000 in"),
    ):
        first, deep = p50[first_label], p50[deep_label]
        ok = deep <= 1.5 * first
        deep_ok = deep_ok and ok
        print(
            f"{deep_label}: {deep:.2f} ms vs its first page {first:.2f} ms: "
            f"{deep / first:.2f}x {'PASS' if ok else 'FAIL'}"
        )
    overall = not failures and deep_ok
    print("criteria: API p50 <= 1.5 x SQL p50 + 5 ms and < 50 ms; deep page <= 1.5 x first")
    print("OVERALL:", "PASS" if overall else f"FAIL ({', '.join(failures) or 'deep page'})")
    return 0 if overall else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--database-name", default="contacts_bench")
    parser.add_argument("--reuse", action="store_true", help="keep a loaded database")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    return asyncio.run(main_async(parser.parse_args()))


# -- request budgets (issue 20): the cost of one budget check per request ---------
# Self-contained on purpose: it needs only Redis (REDIS_URL, default
# redis://127.0.0.1:6379/0), not the loaded database. Run alone with
#     python -c "import benchmarks.list_queries as b; b.print_budget_check_cost()"


async def budget_check_cost(checks: int = 5000) -> dict[str, float]:
    """p50/p99 in ms of ``checks`` budget checks (``core.budgets``, one EVALSHA
    each) against real Redis, and of the in-process fallback."""
    import secrets

    from redis.asyncio import Redis

    from contacts_api.core.budgets import BudgetLimiter
    from contacts_api.core.settings import RateLimitSettings

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    client = Redis.from_url(url, socket_timeout=10)
    prefix = f"bench_budget_{secrets.token_hex(4)}"
    limits = RateLimitSettings(reads_per_minute=10**6)  # never refused: time the check only
    results = {}
    try:
        pings = []
        for _ in range(checks):  # the floor: one bare round trip
            started = time.perf_counter()
            await client.ping()
            pings.append((time.perf_counter() - started) * 1000)
        results["ping_p50_ms"] = percentile(pings, 0.50)
        for name, redis_client in (("redis", client), ("memory", None)):
            limiter = BudgetLimiter(limits, redis_client, prefix)
            await limiter.take("user:warm", "reads")  # loads the script
            timings = []
            for i in range(checks):
                started = time.perf_counter()
                await limiter.take(f"user:{i % 100}", "reads")
                timings.append((time.perf_counter() - started) * 1000)
            results[f"{name}_p50_ms"] = percentile(timings, 0.50)
            results[f"{name}_p99_ms"] = percentile(timings, 0.99)
    finally:
        keys = [key async for key in client.scan_iter(f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    return results


def print_budget_check_cost(checks: int = 5000) -> bool:
    """Print the budget check's cost per request; criterion: Redis p50 < 0.3 ms."""
    cost = asyncio.run(budget_check_cost(checks))
    ok = cost["redis_p50_ms"] < 0.3
    print(
        f"budget check per request ({checks} checks): Redis p50 {cost['redis_p50_ms']:.3f} ms, "
        f"p99 {cost['redis_p99_ms']:.3f} ms (a bare PING: p50 {cost['ping_p50_ms']:.3f} ms); "
        f"in-process p50 {cost['memory_p50_ms']:.4f} ms "
        f"(criterion p50 < 0.3 ms: {'PASS' if ok else 'FAIL'})"
    )
    return ok


if __name__ == "__main__":
    code = main()
    print_budget_check_cost()
    sys.exit(code)
