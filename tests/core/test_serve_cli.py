"""``contacts-api serve`` as operators see it: "listening on" only once it
listens, one clear line (no traceback) for a busy port or a failed migration,
one INFO line per migration."""

import socket
import subprocess
import sys

import psycopg2

from tests.conftest import subprocess_env
from tests.core.test_migrations import scratch_database  # noqa: F401 (fixture)


def _run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contacts_api.core.cli", *args],
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_busy_port_ends_with_one_clear_line(migrated_database_url):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _run(
            "serve",
            "--port",
            str(port),
            DATABASE_URL=migrated_database_url,
            REDIS_URL="",
            JWT_SECRET="j" * 40,
        )
    assert done.returncode == 1
    assert "listening on" not in done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"contacts-api: cannot listen on http://127.0.0.1:{port}: address already in use"
    )


def test_a_failed_migration_ends_with_one_clear_line(scratch_database):  # noqa: F811
    connection = psycopg2.connect(scratch_database)
    connection.autocommit = True
    with connection.cursor() as cursor:  # what contacts_0001_schema creates, already there
        cursor.execute("CREATE TABLE contacts (id int)")
    connection.close()
    done = _run(
        "serve",
        "--port",
        "0",
        DATABASE_URL=scratch_database,
        REDIS_URL="",
        JWT_SECRET="j" * 40,
        CONTACTS_API__DATABASE__MIGRATE_ON_STARTUP="true",
    )
    assert done.returncode == 1
    assert "listening on" not in done.stdout
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("contacts-api: migration contacts_0001_schema failed: ")
    assert 'relation "contacts" already exists' in last


def test_migrate_logs_one_line_per_migration(scratch_database):  # noqa: F811
    done = _run("migrate", DATABASE_URL=scratch_database, REDIS_URL="")
    assert done.returncode == 0, done.stderr
    assert "applying step" not in done.stderr
    applied = [line for line in done.stderr.splitlines() if "applied migration" in line]
    assert len(applied) == done.stdout.count(",") + 1 >= 10
    assert all(" INFO contacts_api.migrations: applied migration " in line for line in applied)


def test_blocking_contacts_on_a_fresh_data_directory_refuses_before_starting(tmp_path):
    """It used to print "listening on", then fail with yoyo's raw BadMigration."""
    data_dir = tmp_path / "fresh"
    done = _run(
        "serve",
        "--data-dir",
        str(data_dir),
        DATABASE_URL="",
        REDIS_URL="",
        CONTACTS_API__PLUGINS__BLOCKED="contacts",
    )
    assert done.returncode == 2
    assert "listening on" not in done.stdout and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "contacts-api: plugin apollo requires plugin contacts, which is blocked "
        "(plugins.blocked): block apollo too, or load contacts"
    )
    assert not (data_dir / "pgdata").exists()  # nothing was started
