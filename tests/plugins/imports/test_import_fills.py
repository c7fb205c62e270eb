"""The import fills the columns the BEFORE triggers of contacts fill for other writers
(the copy of the company's name and sizes, the dictionary ids of title and country),
with those triggers skipped (migration contacts_0009, ``upsert_sql.FILL_DONE_ON``).

Checked here: the rows are the ones the triggers give (the same import with the
triggers on, on hypothesis-generated colliding files, imported over earlier files so
that rows are updated too, and with two imports at once); plain SQL and the API's
writes still get the triggers (the setting does not outlive the import's statements);
a company renamed by an import, or by plain SQL after it, refreshes its contacts' copy.
"""

from __future__ import annotations

import asyncio
import threading
import time

import psycopg2
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts_api.plugins.imports import upsert_sql
from tests.plugins.imports.conftest import query
from tests.plugins.imports.test_import_model import (
    Importer,
    empty,
    files,
    import_file,
    to_csv,
)

# Contacts whose filled columns differ from what the triggers compute from the stored
# companies and dictionary (or whose title/country has no dictionary entry).
NOT_FILLED = """
SELECT c.email, c.first_name, c.last_name, c.title, c.country, c.company_name,
    c.title_id, c.country_id, co.name AS stored_company_name
FROM contacts c
LEFT JOIN companies co ON co.uuid = c.company_uuid
LEFT JOIN contact_field_values t ON t.field = 'title' AND t.value = c.title
LEFT JOIN contact_field_values n ON n.field = 'country' AND n.value = c.country
WHERE (c.company_name, c.company_employees, c.company_annual_revenue,
       c.company_total_funding, c.title_id, c.country_id)
      IS DISTINCT FROM (co.name, co.employees_count, co.annual_revenue,
                        co.total_funding, t.id, n.id)
   OR (c.title IS NOT NULL AND t.id IS NULL) OR (c.country IS NOT NULL AND n.id IS NULL)
"""
# Every contact with its filled columns, the ids as the values they stand for (the ids
# themselves depend on the order values were added).
FILLED_ROWS = """
SELECT c.email, c.first_name, c.last_name, c.title, c.country, co.domain, co.name,
    c.company_name, c.company_employees, c.company_annual_revenue, c.company_total_funding,
    t.value AS title_value, n.value AS country_value
FROM contacts c
LEFT JOIN companies co ON co.uuid = c.company_uuid
LEFT JOIN contact_field_values t ON t.id = c.title_id
LEFT JOIN contact_field_values n ON n.id = c.country_id
"""
COUNTRIES = ["", "France", "Norway", "france"]


def with_countries(draw_rows: list[dict[str, str]], countries: list[str]) -> list[dict]:
    return [
        {**row, "country": countries[index % len(countries)]} for index, row in enumerate(draw_rows)
    ]


def to_csv_with_country(rows: list[dict[str, str]]) -> bytes:
    lines = to_csv([{k: v for k, v in row.items() if k != "country"} for row in rows])
    text = lines.decode().splitlines()
    out = [text[0] + ",country"]
    for line, row in zip(text[1:], rows, strict=True):
        out.append(f"{line},{row['country']}")
    return ("\n".join(out) + "\n").encode()


def filled_rows(settings) -> list[tuple]:
    return sorted((tuple(row.values()) for row in query(settings, FILLED_ROWS)), key=repr)


def not_filled(settings) -> list[dict]:
    return query(settings, NOT_FILLED)


@pytest.fixture(params=[3, 50], ids=lambda size: f"batch_size={size}")
def importer(request, settings_factory):
    settings = settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE=str(request.param))
    importer = Importer(settings)
    yield importer
    importer.close()


def _import_all(importer: Importer, contents: list[bytes]) -> None:
    for content in contents:
        job = importer.loop.run_until_complete(import_file(importer.resources, content))
        assert (job["status"], job["error"]) == ("completed", None), job


countries = st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=4)


def test_the_import_fills_what_the_triggers_fill(importer, monkeypatch):
    """Files imported one after the other (the later ones update the earlier ones'
    contacts and companies): the same rows as with the triggers on, and every filled
    column equal to what the triggers compute."""

    @hypothesis_settings(
        deadline=None, database=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(st.lists(st.tuples(files(consistent=False), countries), min_size=1, max_size=3))
    def check(drawn):
        contents = [to_csv_with_country(with_countries(rows, c)) for rows, c in drawn]
        empty(importer.settings)
        with monkeypatch.context() as patch:  # the trigger path: the setting stays off
            patch.setattr(upsert_sql, "FILL_DONE_ON", upsert_sql.FILL_DONE_OFF)
            _import_all(importer, contents)
        by_triggers = filled_rows(importer.settings)
        assert not_filled(importer.settings) == []

        empty(importer.settings)
        _import_all(importer, contents)
        assert not_filled(importer.settings) == []
        assert filled_rows(importer.settings) == by_triggers

    check()


def test_two_imports_at_once_fill_what_the_triggers_fill(settings_factory):
    """Colliding files imported concurrently (shared companies, emails and new
    dictionary values), with plain writes to contacts beside them."""
    settings = settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE="4")
    importer = Importer(settings)
    try:

        @hypothesis_settings(
            deadline=None,
            database=None,
            max_examples=25,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(files(consistent=False), files(consistent=False), countries, countries)
        def check(first, second, first_countries, second_countries):
            empty(settings)
            query(settings, "DELETE FROM contact_field_values")
            contents = [
                to_csv_with_country(with_countries(first, first_countries)),
                to_csv_with_country(with_countries(second, second_countries)),
            ]

            async def plain_writes():
                for n in range(5):
                    await importer.resources.db.execute(
                        "INSERT INTO contacts (email, title, country) VALUES (%s, %s, %s)",
                        (f"plain{n}@w.org", ["CEO", "Boss", None][n % 3], "France"),
                    )
                    await asyncio.sleep(0)

            async def both():
                jobs = await asyncio.gather(
                    *(import_file(importer.resources, content) for content in contents),
                    plain_writes(),
                )
                return jobs[:2]

            for job in importer.loop.run_until_complete(both()):
                assert (job["status"], job["error"]) == ("completed", None), job
            assert not_filled(settings) == []
            assert query(settings, REFUSED) == []

        check()
    finally:
        importer.close()


# Rows the database refused: a concurrent import's key must never make one of them.
REFUSED = "SELECT row_number, message FROM import_errors WHERE message LIKE '%refused%'"


def _someone_waits_for_a_lock(settings) -> bool:
    return bool(
        query(
            settings,
            "SELECT 1 FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
    )


def _until_someone_waits(settings, done) -> None:
    """Return once a session waits for a lock, ``done()`` holds, or 10 s passed."""
    deadline = time.monotonic() + 10
    while not done() and not _someone_waits_for_a_lock(settings) and time.monotonic() < deadline:
        time.sleep(0.05)


def _while_uncommitted(importer: Importer, sql: str, content: bytes) -> dict:
    """Run ``sql`` in a transaction left open, import ``content`` meanwhile, and commit
    ``sql`` once the import waits for it (or has finished without waiting); return
    the finished job."""
    settings = importer.settings
    other = psycopg2.connect(settings.database.url.reveal())
    try:
        with other.cursor() as cur:
            cur.execute(sql)

        async def run() -> dict:
            task = asyncio.ensure_future(import_file(importer.resources, content))
            await asyncio.to_thread(_until_someone_waits, settings, task.done)
            other.commit()
            return await task

        return importer.loop.run_until_complete(run())
    finally:
        other.close()


@pytest.fixture
def one_importer(settings_factory):
    importer = Importer(settings_factory())
    yield importer
    importer.close()


def test_found_a_contact_imported_while_another_import_renames_its_company(one_importer):
    """Shrunk from the two-imports property: one import renamed zed.io while the
    other wrote ann@x.com at zed.io, which kept the old name (None) for good: its
    statement read the company before the rename committed, and the rename's refresh
    of the copies could not see the uncommitted contact."""
    settings = one_importer.settings
    query(settings, "INSERT INTO companies (domain) VALUES ('zed.io')")
    job = _while_uncommitted(
        one_importer,
        "UPDATE companies SET name = 'Acme' WHERE domain = 'zed.io'",
        b"email,website\nann@x.com,http://www.Zed.io/\n",
    )
    assert (job["status"], job["error"], job["created_count"]) == ("completed", None, 1)
    assert not_filled(settings) == []
    assert query(settings, "SELECT company_name FROM contacts") == [{"company_name": "Acme"}]


def test_a_contact_inserted_while_its_company_is_renamed_gets_the_new_name(settings):
    """The same race through the trigger (any writer but the import)."""
    query(settings, "INSERT INTO companies (domain) VALUES ('zed.io')")
    renaming = psycopg2.connect(settings.database.url.reveal())
    writer = psycopg2.connect(settings.database.url.reveal())
    try:
        with renaming.cursor() as cur:
            cur.execute("UPDATE companies SET name = 'Acme' WHERE domain = 'zed.io'")
        with writer.cursor() as cur:
            inserting = threading.Thread(
                target=cur.execute,
                args=(
                    "INSERT INTO contacts (email, company_uuid)"
                    " SELECT 'ann@x.com', uuid FROM companies WHERE domain = 'zed.io'",
                ),
            )
            inserting.start()
            _until_someone_waits(settings, lambda: not inserting.is_alive())
            renaming.commit()
            inserting.join(10)
        writer.commit()
    finally:
        renaming.close()
        writer.close()
    assert query(settings, "SELECT company_name FROM contacts") == [{"company_name": "Acme"}]


def test_found_a_one_row_batch_meeting_a_concurrent_insert_of_its_domain(one_importer):
    """Shrunk from the two-imports property: a batch whose only valid row named
    zed.io, a company another import inserted after this batch looked for it, was
    refused ("duplicate key value violates unique constraint companies_domain_key")
    instead of written again: a one-row batch was never retried."""
    settings = one_importer.settings
    job = _while_uncommitted(
        one_importer,
        "INSERT INTO companies (domain, name) VALUES ('zed.io', 'Acme')",
        b"email,website\nann@x.com,zed.io\n",
    )
    assert (job["status"], job["error"], job["error_count"]) == ("completed", None, 0)
    assert query(settings, REFUSED) == []
    assert query(settings, "SELECT email, company_name FROM contacts") == [
        {"email": "ann@x.com", "company_name": "Acme"}
    ]
    assert query(settings, "SELECT count(*) AS n FROM companies") == [{"n": 1}]


def test_plain_sql_and_api_writes_after_an_import_still_fill(settings_factory):
    """The import's setting ends with its statements: the pool's one connection, used
    by the import and then by plain writes, runs the triggers again."""
    settings = settings_factory(CONTACTS_API__DATABASE__POOL_MAX_SIZE="1")
    importer = Importer(settings)
    try:
        content = b"email,title,company,website,employees\nann@x.com,CEO,Acme,acme.com,10\n"
        job = importer.loop.run_until_complete(import_file(importer.resources, content))
        assert job["status"] == "completed", job

        async def plain():
            db = importer.resources.db
            assert await db.fetch_val(
                "SELECT current_setting('contacts.fill_done', true) IS DISTINCT FROM 'on'"
            )
            await db.execute(
                "INSERT INTO contacts (email, title, country, company_uuid)"
                " SELECT 'bob@y.org', 'Founder', 'Chile', uuid FROM companies"
            )
            await db.execute("UPDATE contacts SET title = 'Chief' WHERE email = 'ann@x.com'")

        importer.loop.run_until_complete(plain())
        assert not_filled(settings) == []
        rows = query(
            settings,
            "SELECT email, company_name, company_employees, title_id IS NOT NULL AS has_title"
            " FROM contacts ORDER BY email",
        )
        assert [tuple(row.values()) for row in rows] == [
            ("ann@x.com", "Acme", 10, True),
            ("bob@y.org", "Acme", 10, True),
        ]
        values = query(settings, "SELECT field, value FROM contact_field_values ORDER BY 1, 2")
        assert [(v["field"], v["value"]) for v in values] == [
            ("country", "Chile"),
            ("title", "CEO"),
            ("title", "Chief"),
            ("title", "Founder"),
        ]
    finally:
        importer.close()


def test_a_company_renamed_by_an_import_or_after_it_refreshes_its_contacts(settings_factory):
    """The second file renames Acme (same website) and changes its size without naming
    the first file's contacts: their copy follows, inside the import (whose statements
    skip the BEFORE triggers) and after it by plain SQL."""
    settings = settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE="2")
    importer = Importer(settings)
    try:
        _import_all(
            importer,
            [
                b"email,company,website,employees\n"
                b"ann@x.com,Acme,acme.com,10\nbob@y.org,Acme,acme.com,\n"
                b"cy@z.net,Zed,zed.io,5\n",
                b"email,company,website,employees\ndee@w.org,Acme Corp,acme.com,250\n",
            ],
        )
        copies = query(
            settings, "SELECT email, company_name, company_employees FROM contacts ORDER BY email"
        )
        assert [tuple(row.values()) for row in copies] == [
            ("ann@x.com", "Acme Corp", 250),
            ("bob@y.org", "Acme Corp", 250),
            ("cy@z.net", "Zed", 5),
            ("dee@w.org", "Acme Corp", 250),
        ]
        query(settings, "UPDATE companies SET name = 'Acme Inc' WHERE domain = 'acme.com'")
        names = query(settings, "SELECT company_name FROM contacts ORDER BY email")
        assert [row["company_name"] for row in names] == ["Acme Inc", "Acme Inc", "Zed", "Acme Inc"]
        # A rename in a transaction that skips the BEFORE triggers (as the import's
        # statements do) still refreshes the copy: the AFTER trigger writes it itself.
        query(
            settings,
            "BEGIN; SET LOCAL contacts.fill_done = 'on';"
            " UPDATE companies SET name = 'Acme Ltd', employees_count = 7"
            " WHERE domain = 'acme.com'; COMMIT",
        )
        copies = query(settings, "SELECT company_name, company_employees FROM contacts")
        assert sorted(tuple(row.values()) for row in copies) == [
            ("Acme Ltd", 7),
            ("Acme Ltd", 7),
            ("Acme Ltd", 7),
            ("Zed", 5),
        ]
        assert not_filled(settings) == []
    finally:
        importer.close()


class _Transaction:
    """The transaction interface ``write_batch`` uses, on a psycopg2 cursor."""

    def __init__(self, cursor):
        self.cursor = cursor

    async def fetch_tuples(self, sql, params=None):
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()

    async def fetch_val(self, sql, params=None):
        self.cursor.execute(sql, params)
        return self.cursor.fetchone()[0]

    async def execute(self, sql, params=None):
        self.cursor.execute(sql, params)


def test_the_import_s_statements_call_no_trigger_function(settings_factory):
    """The point of the change: a batch of new and updated contacts calls neither
    BEFORE trigger function (counted by the transaction's function statistics), and a
    plain UPDATE afterwards in the same transaction calls both."""
    import psycopg2

    from contacts_api.plugins.imports.parsing import BatchReader
    from contacts_api.plugins.imports.upsert import write_batch

    settings = settings_factory()
    query(
        settings,
        "INSERT INTO contacts (email, title) VALUES ('ann@x.com', 'CEO');"
        " INSERT INTO companies (name, domain) VALUES ('Zed', 'zed.io')",
    )
    content = (
        b"email,first_name,last_name,title,country,company,website\n"
        b"ann@x.com,Ann,,CTO,France,Acme,acme.com\nbob@y.org,Bob,,CEO,,Zed,zed.io\n"
        b",Cy,One,Boss,Chile,Zed,\n"
    )
    reader = BatchReader(iter([content]), 0, 100)
    batch = reader.next_batch(0)
    reader.close()
    conn = psycopg2.connect(settings.database.url.reveal())
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL track_functions = 'pl'")
            written = asyncio.run(write_batch(_Transaction(cur), batch))
            assert (written.created, written.updated) == (2, 1)
            calls = """SELECT
                coalesce(sum(calls) FILTER (WHERE funcname = 'contacts_fill_company'), 0),
                coalesce(sum(calls) FILTER (WHERE funcname = 'contacts_fill_value_ids'), 0)
                FROM pg_stat_xact_user_functions"""
            cur.execute(calls)
            assert cur.fetchone() == (0, 0)
            cur.execute("UPDATE contacts SET title = 'Chief' WHERE email = 'bob@y.org'")
            cur.execute(calls)
            assert cur.fetchone() == (1, 1)
        conn.commit()
    finally:
        conn.close()
    assert not_filled(settings) == []
