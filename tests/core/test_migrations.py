"""Migrations: collected from plugins, applied once even when processes race."""

import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest

from core.migrations import _apply, yoyo_url
from tests.conftest import ADMIN_URL, _with_database, subprocess_env

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
    command = [sys.executable, "-m", "core.cli", "migrate"]
    listed = subprocess.run([*command, "--list"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0 and "contacts_0001_schema" in listed.stdout
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "contacts_0001_schema" in first.stdout
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "applied 0 migration(s)" in again.stdout


def test_yoyo_url_accepts_common_schemes():
    assert yoyo_url("postgres://u@h/d") == "postgresql://u@h/d"
    assert yoyo_url("postgresql+psycopg2://u@h/d") == "postgresql://u@h/d"
    assert yoyo_url("postgresql://u@h/d") == "postgresql://u@h/d"
