"""Shared resources: the SQL helper on real PostgreSQL, transactions, the caches."""

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from contacts_api.core.plugins import Plugins
from contacts_api.core.resources import open_resources
from contacts_api.core.resources.cache import MemoryCache
from contacts_api.core.sql import Prepared, compile_sql

things = sa.table(
    "sql_probe",
    sa.column("id", sa.Integer),
    sa.column("doc", JSONB),
    sa.column("tags", sa.ARRAY(sa.Text)),
)


@pytest.fixture
async def resources(settings):
    async with open_resources(settings, Plugins.load(settings), role="web") as opened:
        await opened.db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS sql_probe (id int PRIMARY KEY, doc jsonb, tags text[])"
        )
        await opened.db.execute("DROP TABLE IF EXISTS sql_probe_real")
        await opened.db.execute("CREATE TABLE sql_probe_real (id int PRIMARY KEY, doc jsonb)")
        yield opened
        await opened.db.execute("DROP TABLE IF EXISTS sql_probe_real")


async def test_compiled_statements_adapt_jsonb_arrays_and_in_lists(resources):
    db = resources.db
    real = sa.table("sql_probe_real", sa.column("id", sa.Integer), sa.column("doc", JSONB))
    await db.execute(sa.insert(real).values(id=1, doc={"a": [1, 2], "é": "ü"}))
    await db.execute(sa.insert(real).values(id=2, doc={"b": None}))
    rows = await db.fetch_all(
        sa.select(real.c.id, real.c.doc).where(real.c.id.in_([1, 2, 3])).order_by(real.c.id)
    )
    assert rows == [{"id": 1, "doc": {"a": [1, 2], "é": "ü"}}, {"id": 2, "doc": {"b": None}}]
    sql, params = compile_sql(sa.select(real.c.id).where(real.c.id.in_([5, 6])))
    assert "IN (%(id_1_1)s, %(id_1_2)s)" in sql and params == {"id_1_1": 5, "id_1_2": 6}


async def test_prepared_statement_compiles_once_and_runs_many(resources):
    real = sa.table("sql_probe_real", sa.column("id", sa.Integer), sa.column("doc", JSONB))
    insert = Prepared(
        sa.insert(real).values(id=sa.bindparam("id"), doc=sa.bindparam("doc", type_=JSONB))
    )
    for index in range(3):
        await resources.db.execute(insert.sql, insert.params(id=index, doc={"n": index}))
    assert await resources.db.fetch_val("SELECT sum((doc->>'n')::int) FROM sql_probe_real") == 3


async def test_transaction_rolls_back_on_error(resources):
    with pytest.raises(RuntimeError):
        async with resources.db.transaction() as tx:
            await tx.execute("INSERT INTO sql_probe_real (id) VALUES (10)")
            raise RuntimeError("abort")
    assert await resources.db.fetch_val("SELECT count(*) FROM sql_probe_real") == 0
    async with resources.db.transaction() as tx:
        await tx.execute("INSERT INTO sql_probe_real (id) VALUES (11)")
        assert await tx.fetch_val("SELECT count(*) FROM sql_probe_real") == 1
    assert await resources.db.fetch_one("SELECT id FROM sql_probe_real") == {"id": 11}


async def test_in_transaction_runs_a_deadlocked_write_again_from_the_start(resources):
    import psycopg2.errors

    attempts = []

    async def work(tx):
        attempts.append(len(attempts) + 1)
        await tx.execute("INSERT INTO sql_probe_real (id) VALUES (%(id)s)", {"id": len(attempts)})
        if len(attempts) < 3:
            raise psycopg2.errors.DeadlockDetected()
        return "written"

    assert await resources.db.in_transaction(work) == "written"
    assert attempts == [1, 2, 3]  # the first two rolled back whole
    assert await resources.db.fetch_all("SELECT id FROM sql_probe_real") == [{"id": 3}]
    attempts.clear()
    with pytest.raises(psycopg2.errors.DeadlockDetected):
        await resources.db.in_transaction(work, attempts=2)
    assert await resources.db.fetch_val("SELECT count(*) FROM sql_probe_real") == 1


@pytest.mark.parametrize("where", ["body", "commit"])
async def test_a_dropped_connection_fails_its_transaction_cleanly(resources, where, monkeypatch):
    """The server ends the session mid-transaction (a restart, a failover): the
    transaction raises a psycopg2 error, nothing stays half-open to warn later
    (warnings are errors here), and the pool serves healthy connections after."""
    import gc
    import sys

    import psycopg2

    with pytest.raises(psycopg2.Error) as caught:
        async with resources.db.transaction() as tx:
            await tx.execute("INSERT INTO sql_probe_real (id) VALUES (20)")
            if where == "body":
                await tx.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            else:
                await resources.db.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE state = 'idle in transaction' AND datname = current_database()"
                )
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    del caught, tx  # the traceback holds the transaction's frames
    gc.collect()  # an aiopg Transaction left open warned here, failing a later test
    assert [str(u.exc_value) for u in unraisable] == []
    assert await resources.db.fetch_val("SELECT count(*) FROM sql_probe_real") == 0


async def test_statement_timeout_applies_to_request_queries(settings_factory):
    import psycopg2.extensions

    settings = settings_factory(CONTACTS_API__DATABASE__STATEMENT_TIMEOUT_MS="100")
    async with open_resources(settings, Plugins.load(settings), role="web") as res:
        with pytest.raises(psycopg2.extensions.QueryCanceledError):
            await res.db.execute("SELECT pg_sleep(2)")
    async with open_resources(settings, Plugins.load(settings), role="worker") as res:
        await res.db.execute("SELECT pg_sleep(0.2)")  # workers run long tasks


@pytest.mark.parametrize("with_redis", [True, False])
async def test_cache_get_set_delete_incr_and_ttl(settings_factory, with_redis):
    settings = settings_factory() if with_redis else settings_factory(REDIS_URL="")
    async with open_resources(settings, Plugins.load(settings), role="web") as res:
        cache = res.cache
        assert type(cache).__name__ == ("RedisCache" if with_redis else "MemoryCache")
        assert await cache.get("k") is None
        await cache.set("k", {"rows": [1, "two"]})
        assert await cache.get("k") == {"rows": [1, "two"]}
        await cache.delete("k")
        assert await cache.get("k") is None
        assert [await cache.incr("gen") for _ in range(3)] == [1, 2, 3]
        await cache.set("short", "v", ttl_s=1)
        await asyncio.sleep(1.2)
        assert await cache.get("short") is None


async def test_memory_cache_is_bounded():
    cache = MemoryCache(default_ttl_s=60, max_entries=3)
    for index in range(5):
        await cache.set(f"k{index}", index)
    assert [await cache.get(f"k{i}") for i in range(5)] == [None, None, 2, 3, 4]
