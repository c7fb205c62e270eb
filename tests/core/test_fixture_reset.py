"""The per-test database reset of ``settings_factory`` (tests/conftest.py
``_truncate_all``) truncates only the tables a test changed. Whatever the
change, the database must end exactly as a TRUNCATE of every table with
RESTART IDENTITY leaves it: empty heap files, the planner's "never analyzed"
statistics, fresh sequences; the migrations' bookkeeping kept."""

import psycopg2

from tests.conftest import _truncate_all, changed_tables

# One kind of change per table, each invisible to a plain row count but one,
# so a reset that only looked for rows would leave the others behind.
CHANGES = {
    "users": "INSERT INTO users (email, password_hash) VALUES ('ada@example.com', 'x')",
    # a rolled-back insert leaves no row but a dead tuple in a page of its own
    "import_deferred_indexes": (
        "BEGIN; INSERT INTO import_deferred_indexes (table_name, index_name, definition)"
        " VALUES ('t', 'i', 'd'); ROLLBACK"
    ),
    # an analyzed empty table has reltuples 0, not TRUNCATE's -1: plans differ
    "exports": "ANALYZE exports",
    # a serial value spent without a row (as by a failed insert)
    "contact_field_values": (
        "SELECT nextval(pg_get_serial_sequence('contact_field_values', 'id'))"
    ),
}

PRISTINE = r"""
SELECT c.relname, c.relpages, c.reltuples, pg_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
  AND c.relname NOT LIKE '\_yoyo%' AND c.relname NOT LIKE 'yoyo%'
ORDER BY 1
"""


def _connect(settings):
    conn = psycopg2.connect(settings.database.url.reveal())
    conn.autocommit = True
    return conn


def test_the_reset_finds_every_kind_of_change_and_undoes_it(settings):
    url = settings.database.url.reveal()  # the fixture has just reset it
    conn = _connect(settings)
    try:
        with conn.cursor() as cur:
            assert changed_tables(cur) == []
            for statement in CHANGES.values():
                cur.execute(statement)
            assert changed_tables(cur) == sorted(CHANGES)
            _truncate_all(url)
            assert changed_tables(cur) == []
            cur.execute(PRISTINE)
            tables = cur.fetchall()
            assert {name for name, *_ in tables} >= set(CHANGES)
            for name, pages, tuples, size in tables:
                assert (pages, tuples, size) == (0, -1, 0), name
                cur.execute(f'SELECT count(*) FROM "{name}"')
                assert cur.fetchone()[0] == 0, name
            cur.execute("SELECT sequencename, last_value FROM pg_sequences")
            assert all(last is None for _, last in cur.fetchall())
            cur.execute("SELECT nextval(pg_get_serial_sequence('contact_field_values', 'id'))")
            assert cur.fetchone()[0] == 1
            cur.execute("SELECT count(*) FROM _yoyo_migration")
            assert cur.fetchone()[0] > 0  # the migrations' bookkeeping is kept
    finally:
        conn.close()
