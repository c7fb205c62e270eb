"""The GIN pending lists (contacts_0008_index_budget.sql) and their clean-up
(``plugins.contacts.maintenance``), on real PostgreSQL: new rows wait in the pending
list, searches find them there, and ``clean_pending_lists`` (which the CSV import
calls when a job ends) merges the list into the index."""

import contextlib
import logging

import psycopg2
import pytest

from contacts_api.core.plugins import Plugins
from contacts_api.core.resources import open_resources
from contacts_api.plugins.contacts.service import clean_pending_lists

GIN_INDEXES = (
    "contacts_search_key_trgm",
    "contacts_title_trgm",
    "contacts_company_name_key_trgm",
    "contacts_mobile_phone_trgm",
    "contacts_departments_trgm",
)


@contextlib.contextmanager
def connection(settings):
    conn = psycopg2.connect(settings.database.url.reveal())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


@pytest.fixture
async def resources(settings):
    # Autovacuum (and autoanalyze) merge pending lists too: keep it away while a
    # test looks at them.
    with connection(settings) as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        cur.execute("ALTER TABLE contacts SET (autovacuum_enabled = false)")
    try:
        async with open_resources(settings, Plugins.load(settings), role="worker") as opened:
            yield opened
    finally:
        with connection(settings) as cur:
            cur.execute("ALTER TABLE contacts RESET (autovacuum_enabled)")


def pending_pages(cur, index: str) -> int:
    cur.execute("SELECT pending_pages FROM pgstatginindex(%s::regclass)", (index,))
    return cur.fetchone()[0]


def insert_contacts(cur, n: int) -> None:
    cur.execute(
        """INSERT INTO contacts (email, first_name, last_name, title, mobile_phone,
                                 departments)
           SELECT 'p' || i || '@pending.example', 'Zorblax' || i, 'Quintavalle',
                  'Head of Pending Lists', '+1 555 01' || i, ARRAY['engineering']
           FROM generate_series(1, %s) AS i""",
        (n,),
    )


def test_gin_indexes_defer_their_inserts_to_a_large_pending_list(settings):
    with connection(settings) as cur:
        cur.execute(
            """SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_am am ON am.oid = c.relam
               JOIN pg_index i ON i.indexrelid = c.oid
               WHERE am.amname = 'gin' AND i.indrelid = 'contacts'::regclass"""
        )
        options = dict(cur.fetchall())
    assert set(options) == set(GIN_INDEXES)
    for index, reloptions in options.items():
        assert "fastupdate=on" in reloptions, index
        assert any(o.startswith("gin_pending_list_limit=") for o in reloptions), index


async def test_clean_pending_lists_merges_what_inserts_left_pending(resources, settings):
    with connection(settings) as cur:
        insert_contacts(cur, 500)
        before = {index: pending_pages(cur, index) for index in GIN_INDEXES}
        assert all(pages > 0 for pages in before.values()), before
        # searches find rows still in the pending list (through the index)
        cur.execute("SET enable_seqscan = off")
        cur.execute("SELECT count(*) FROM contacts WHERE search_key ILIKE '%%zorblax1%%'")
        assert cur.fetchone()[0] == 111  # zorblax1, 10-19, 100-199

    merged = await clean_pending_lists(resources.db)

    assert {index: merged[index] for index in GIN_INDEXES} == before
    with connection(settings) as cur:
        assert all(pending_pages(cur, index) == 0 for index in GIN_INDEXES)
        cur.execute("SET enable_seqscan = off")
        cur.execute("SELECT count(*) FROM contacts WHERE search_key ILIKE '%%zorblax1%%'")
        assert cur.fetchone()[0] == 111
        cur.execute("SELECT count(*) FROM contacts WHERE mobile_phone ILIKE '%%555 01499%%'")
        assert cur.fetchone()[0] == 1
    # nothing left: a second call merges nothing
    again = await clean_pending_lists(resources.db)
    assert all(again[index] == 0 for index in GIN_INDEXES)


async def test_clean_pending_lists_logs_a_refusal_instead_of_raising(resources, caplog):
    with caplog.at_level(logging.WARNING, logger="contacts_api.contacts"):
        assert await clean_pending_lists(resources.db, tables=("no_such_table",)) == {}
    assert "could not merge the GIN pending lists of no_such_table" in caplog.text


async def test_a_finished_import_leaves_no_pending_list(resources, settings):
    """The import task merges the pending lists before its job completes."""
    import uuid

    from contacts_api.plugins.imports import repository as repo
    from contacts_api.plugins.imports.tasks import run_import

    lines = ["first_name,last_name,email,title,city,mobile_phone"]
    lines += [
        f"Ann{i},Pending,ann{i}@import.example,Head of Data,Lyon,+33 6 12 {i:04d}"
        for i in range(300)
    ]
    content = ("\n".join(lines) + "\n").encode()
    job_id = str(uuid.uuid4())
    key = f"imports/{job_id}.csv"

    async def chunks():
        yield content

    size = await resources.storage.write(key, chunks())
    await repo.create_job(resources.db, job_id, "pending.csv", key, size)
    await run_import(resources, job_id)

    job = await repo.get_job(resources.db, job_id)
    assert (job["status"], job["created_count"]) == ("completed", 300)
    with connection(settings) as cur:
        assert {index: pending_pages(cur, index) for index in GIN_INDEXES} == dict.fromkeys(
            GIN_INDEXES, 0
        )
        cur.execute("SET enable_seqscan = off")
        cur.execute("SELECT count(*) FROM contacts WHERE search_key ILIKE '%%ann29%%'")
        assert cur.fetchone()[0] == 11  # ann29, ann290-299
