"""Migrations: collected from plugins, applied once even when processes race."""

import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest
from yoyo import get_backend, read_migrations

import contacts_api
from contacts_api.core.migrations import _apply, yoyo_url
from contacts_api.core.plugins import Plugins
from tests.conftest import ADMIN_URL, _with_database, make_settings, subprocess_env

SLOW_MIGRATION = """
-- A migration that takes a while, so concurrent appliers overlap.
CREATE TABLE race_probe (id int PRIMARY KEY);
SELECT pg_sleep(1);
INSERT INTO race_probe VALUES (1);
"""


@pytest.fixture
def scratch_database():
    name = f"contacts_api_scratch_{secrets.token_hex(4)}"
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(ADMIN_URL, name)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_concurrent_appliers_apply_each_migration_once(scratch_database, tmp_path):
    folder = tmp_path / "race"
    folder.mkdir()
    (folder / "race_0001_probe.sql").write_text(SLOW_MIGRATION)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: _apply(scratch_database, [folder]), range(3)))
    assert sorted(len(r) for r in results) == [0, 0, 1]  # one applied, two found it done
    conn = psycopg2.connect(scratch_database)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM race_probe")
        assert cur.fetchone()[0] == 1
    conn.close()


def test_migrate_command_applies_every_plugin_folder(scratch_database):
    env = subprocess_env(DATABASE_URL=scratch_database)
    command = [sys.executable, "-m", "contacts_api.core.cli", "migrate"]
    listed = subprocess.run(
        [*command, "--list"], env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0 and "contacts_0001_schema" in listed.stdout
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "contacts_0001_schema" in first.stdout
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "applied 0 migration(s)" in again.stdout


def test_yoyo_url_accepts_common_schemes():
    assert yoyo_url("postgres://u@h/d") == "postgresql://u@h/d"
    assert yoyo_url("postgresql+psycopg2://u@h/d") == "postgresql://u@h/d"
    assert yoyo_url("postgresql://u@h/d") == "postgresql://u@h/d"


# the dictionary, and what builds on it (0010 replaces triggers 0007 creates, 0011 a
# function 0010's triggers call, 0012 references its ids, 0014 alters 0012's table)
DICTIONARY_MIGRATIONS = (
    "contacts_0007_value_dictionaries",
    "contacts_0009_lowered_dictionary",
    "contacts_0010_import_fills",
    "contacts_0011_company_copy_locks",
    "contacts_0012_stored_terms",
    "contacts_0014_stored_terms_use",
    # their indexes hold title_id and country_id
    "contacts_0018_search_key_in_created_at_index",
    "contacts_0019_country_created_at_index",
)


def _migrate_all_but(database: str, tmp_path, redis_url: str, later: tuple[str, ...]) -> list:
    """Apply every migration but ``later`` (to fill the database as it was before
    them); the migration folders, to apply the rest."""
    folders = Plugins.load(make_settings(database, redis_url, tmp_path)).migration_folders()
    backend = get_backend(yoyo_url(database))
    with backend.lock():
        backend.apply_migrations(
            backend.to_apply(
                read_migrations(*map(str, folders)).filter(lambda m: m.id not in later)
            )
        )
    backend.connection.close()
    return folders


def test_value_dictionary_migration_backfills_existing_contacts(
    scratch_database, tmp_path, redis_url
):
    """contacts_0007 on a database that already holds contacts: every title and
    country gets its id, and the company-copy trigger it pauses works again."""
    folders = _migrate_all_but(scratch_database, tmp_path, redis_url, DICTIONARY_MIGRATIONS)
    conn = psycopg2.connect(scratch_database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO companies (name) VALUES ('Acme') RETURNING uuid")
        company = cur.fetchone()[0]
        cur.execute("""INSERT INTO contacts (email, title, country) VALUES
                       ('a@x.io', 'CEO', 'France'), ('b@x.io', 'CEO', NULL),
                       ('c@x.io', NULL, 'Spain'), ('d@x.io', 'Head of Sales', 'France')""")
    assert _apply(scratch_database, folders) == list(DICTIONARY_MIGRATIONS)
    with conn.cursor() as cur:
        cur.execute("""SELECT c.email, t.value, k.value FROM contacts c
                       LEFT JOIN contact_field_values t ON t.id = c.title_id
                       LEFT JOIN contact_field_values k ON k.id = c.country_id
                       ORDER BY c.email""")
        assert cur.fetchall() == [
            ("a@x.io", "CEO", "France"),
            ("b@x.io", "CEO", None),
            ("c@x.io", None, "Spain"),
            ("d@x.io", "Head of Sales", "France"),
        ]
        cur.execute("SELECT count(*) FROM contact_field_values")
        assert cur.fetchone()[0] == 4
        cur.execute(
            "INSERT INTO contacts (email, title, company_uuid) VALUES "
            "('e@x.io', 'CEO', %s) RETURNING company_name, title_id",
            (company,),
        )
        name, title_id = cur.fetchone()
        cur.execute("SELECT title_id FROM contacts WHERE email = 'a@x.io'")
        assert (name, title_id) == ("Acme", cur.fetchone()[0])
    conn.close()


# 0008 and 0009, and every contacts migration after them (applied before them, a
# later one would find what they change gone: contacts_0021 drops an index 0008 alters)
LATER_CONTACTS_MIGRATIONS = tuple(
    sorted(
        path.stem
        for path in (Path(contacts_api.__file__).parent / "migrations" / "contacts").glob("*.sql")
        if path.stem >= "contacts_0008"
    )
)


def test_index_budget_migration_on_a_populated_database(scratch_database, tmp_path, redis_url):
    """contacts_0008 and 0009 (and those after them) on a database that already
    holds contacts: stored rows and their uuids stay, searches find the same rows,
    new rows get time-ordered uuids (UUIDv7 layout), the trigram indexes their
    larger pending list, and the dictionary its lower-cased values (old and new)."""
    folders = _migrate_all_but(scratch_database, tmp_path, redis_url, LATER_CONTACTS_MIGRATIONS)
    conn = psycopg2.connect(scratch_database)
    conn.autocommit = True
    search = """SELECT email FROM contacts WHERE search_key ILIKE '%%head of%%'
                AND mobile_phone ILIKE '%%555%%' ORDER BY email"""
    with conn.cursor() as cur:
        cur.execute("INSERT INTO companies (name) VALUES ('Acme')")
        cur.execute("""INSERT INTO contacts (email, title, mobile_phone) VALUES
                       ('a@x.io', 'Head of Sales', '+1 555 0100'), ('b@x.io', 'CEO', NULL),
                       ('c@x.io', 'Head of Data', '+1 555 0101')""")
        cur.execute("SELECT email, uuid FROM contacts ORDER BY email")
        stored = cur.fetchall()
        cur.execute(search)
        found = cur.fetchall()
    assert _apply(scratch_database, folders) == list(LATER_CONTACTS_MIGRATIONS)
    with conn.cursor() as cur:
        cur.execute("SELECT email, uuid FROM contacts ORDER BY email")
        assert cur.fetchall() == stored
        cur.execute("SET enable_seqscan = off")
        cur.execute(search)
        assert cur.fetchall() == found == [("a@x.io",), ("c@x.io",)]
        cur.execute("""SELECT c.relname, c.reloptions FROM pg_index i
                       JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
                       WHERE am.amname = 'gin' AND i.indrelid = 'contacts'::regclass""")
        options = dict(cur.fetchall())
        assert len(options) == 5
        assert all("gin_pending_list_limit=32768" in o for o in options.values()), options
        cur.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
        assert cur.fetchone()[0] == 0
        # new uuids: version 7, increasing with time (milliseconds), unique
        uuids = []
        for n in range(3):
            cur.execute(
                "INSERT INTO contacts (email) VALUES (%s) RETURNING uuid::text", (f"n{n}@x.io",)
            )
            uuids.append(cur.fetchone()[0])
            cur.execute("SELECT pg_sleep(0.002)")
        cur.execute("INSERT INTO companies (name) VALUES ('Beta') RETURNING uuid::text")
        company = cur.fetchone()[0]
        cur.execute("INSERT INTO contacts (email, title) VALUES ('d@x.io', 'HEAD OF ÉTUDES')")
        cur.execute("SELECT value, value_lower FROM contact_field_values ORDER BY value")
        assert cur.fetchall() == [
            ("CEO", "ceo"),
            ("HEAD OF ÉTUDES", "head of études"),
            ("Head of Data", "head of data"),
            ("Head of Sales", "head of sales"),
        ]
    conn.close()
    assert all(u[14] == "7" and u[19] in "89ab" for u in [*uuids, company]), uuids
    assert uuids == sorted(uuids) and len(set(uuids)) == 3


LOWERED_SEARCH_KEY = ("contacts_0015_lowered_search_key", "contacts_0016_vacuum_after_rewrite")


def test_lowered_search_key_migration_on_a_populated_database(
    scratch_database, tmp_path, redis_url
):
    """contacts_0015 and 0016 on a database that already holds contacts: rows and
    uuids stay, the key holds the lower-cased fields (and new rows' keys too), the
    trigram index keeps its pending list, the histogram its 1,000 entries, and the
    rewritten table is vacuumed (index-only scans need its visibility map)."""
    folders = _migrate_all_but(scratch_database, tmp_path, redis_url, LOWERED_SEARCH_KEY)
    conn = psycopg2.connect(scratch_database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO companies (name) VALUES ('ÉCOLE Straße') RETURNING uuid")
        company = cur.fetchone()[0]
        cur.execute(
            """INSERT INTO contacts (email, first_name, title, company_uuid)
               SELECT 'p' || n || '@x.io', 'Ann', 'Head OF Sales', %s
               FROM generate_series(1, 200) AS n""",
            (company,),
        )
        cur.execute("SELECT email, uuid FROM contacts ORDER BY email")
        stored = cur.fetchall()
    assert _apply(scratch_database, folders) == list(LOWERED_SEARCH_KEY)
    with conn.cursor() as cur:
        cur.execute("SELECT email, uuid FROM contacts ORDER BY email")
        assert cur.fetchall() == stored
        cur.execute("SELECT DISTINCT search_key FROM contacts WHERE email = 'p1@x.io'")
        assert cur.fetchall() == [("ann\x1fp1@x.io\x1fhead of sales\x1fécole straße",)]
        cur.execute("INSERT INTO contacts (email, city) VALUES ('new@x.io', 'MÜNCHEN')")
        cur.execute("SELECT search_key FROM contacts WHERE email = 'new@x.io'")
        assert cur.fetchone()[0] == "new@x.io\x1fmünchen"
        cur.execute("""SELECT c.reloptions, a.attstattarget FROM pg_class c, pg_attribute a
                       WHERE c.relname = 'contacts_search_key_trgm'
                       AND a.attrelid = 'contacts'::regclass AND a.attname = 'search_key'""")
        options, target = cur.fetchone()
        assert "gin_pending_list_limit=32768" in options and target == 1000
        cur.execute("SELECT relallvisible > 0 FROM pg_class WHERE relname = 'contacts'")
        assert cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
        assert cur.fetchone()[0] == 0
    conn.close()


def test_composed_text_migration_composes_what_is_stored(scratch_database, tmp_path, redis_url):
    """contacts_0023 on rows written decomposed (NFD) before writes composed text:
    every text and text-list column comes out composed, the copies on contacts and
    the generated keys follow, and composed rows are left as they were."""
    later = ("contacts_0023_composed_text",)
    folders = _migrate_all_but(scratch_database, tmp_path, redis_url, later)
    conn = psycopg2.connect(scratch_database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO companies (name, industries, keywords, technologies) VALUES "
            "(%s, %s, '{}', '{}'), ('Plain', '{plain}', '{}', '{}') RETURNING uuid",
            ("Re\u0301sume\u0301 Labs", ["sante\u0301", "it"]),
        )
        company = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO contacts (email, first_name, title, company_uuid) VALUES "
            "('a@x.io', %s, %s, %s), ('b@x.io', 'Ann', 'CEO', NULL)",
            ("Jose\u0301", "Direc\u0327tor", company),
        )
        cur.execute(
            "INSERT INTO contact_metadata (contact_uuid, stage) SELECT uuid, %s FROM "
            "contacts WHERE email = 'a@x.io'",
            ("e\u0301tape",),
        )
        cur.execute("SELECT uuid, updated_at FROM contacts WHERE email = 'b@x.io'")
        untouched = cur.fetchone()
    assert _apply(scratch_database, folders) == list(later)
    with conn.cursor() as cur:
        cur.execute("SELECT name, industries FROM companies ORDER BY name")
        assert cur.fetchall() == [("Plain", ["plain"]), ("Résumé Labs", ["santé", "it"])]
        cur.execute(
            "SELECT first_name, title, company_name, company_name_key, search_key LIKE %s"
            " FROM contacts WHERE email = 'a@x.io'",
            ("%résumé%",),
        )
        assert cur.fetchone() == ("José", "Direçtor", "Résumé Labs", "résumé labs", True)
        cur.execute("SELECT stage FROM contact_metadata")
        assert cur.fetchone()[0] == "étape"
        cur.execute("SELECT uuid, updated_at FROM contacts WHERE email = 'b@x.io'")
        assert cur.fetchone() == untouched
    conn.close()
