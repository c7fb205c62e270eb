"""Test fixtures: a real PostgreSQL database per test run, real Redis, local or
S3-protocol storage. Services come from ``TEST_DATABASE_URL``/``DATABASE_URL``
(an admin connection used to create the run's database) and
``TEST_REDIS_URL``/``REDIS_URL``, defaulting to this machine's services. A
missing service fails the run; nothing is skipped."""

import os
import secrets
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import redis as redis_sync

from contacts_api.core.app import create_app
from contacts_api.core.migrations import _apply
from contacts_api.core.plugins import PluginError, Plugins
from contacts_api.core.settings import Settings, SettingsError, load_settings

# the suite on two processes, the wall-clock tests alone (tests/alone.py)
pytest_plugins = ["tests.alone"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PLUGIN_DIR = ROOT / "examples" / "contacts_api_example"
ADMIN_URL = (
    os.environ.get("TEST_DATABASE_URL")
    or os.environ.get("DATABASE_URL")
    or "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = (
    os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
)
WRITE_KEY = "test-write-key-0123456789"
JWT_SECRET = "test-jwt-secret-" + "x" * 32


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for this test run, dropped afterwards."""
    name = f"contacts_api_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg2.connect(ADMIN_URL, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.exit(f"PostgreSQL is not reachable at {ADMIN_URL}: {exc}", returncode=3)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(ADMIN_URL, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis_sync.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis_sync.RedisError as exc:
        pytest.exit(f"Redis is not reachable at {REDIS_URL}: {exc}", returncode=3)
    return REDIS_URL


def make_settings(database_url: str, redis_url: str, tmp: Path, **env: str) -> Settings:
    """Test settings: the run's database, Redis under a unique key prefix,
    local storage in ``tmp``, in-memory broker unless overridden; with the
    sections of the plugins these settings load (``settings.imports``)."""
    environ = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CONTACTS_WRITE_KEY": WRITE_KEY,
        "JWT_SECRET": JWT_SECRET,
        "CONTACTS_API__REDIS__KEY_PREFIX": f"ctest_{secrets.token_hex(4)}",
        "CONTACTS_API__STORAGE__LOCAL_PATH": str(tmp / "files"),
        "CONTACTS_API__EMBEDDED__DATA_DIR": str(tmp / "data"),
        "CONTACTS_API__BROKER__BACKEND": "memory",
        "CONTACTS_API__DATABASE__POOL_MAX_SIZE": "10",
        **env,
    }
    settings = load_settings(environ=environ)
    try:
        return Plugins.load(settings).settings
    except (PluginError, SettingsError):
        return settings  # a refused configuration: the test's create_app says why


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> Iterator[str]:
    """A real S3-protocol endpoint over HTTP: moto in server mode, for this run."""
    import socket
    import subprocess
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.exit("moto S3 server did not start", returncode=3)
            time.sleep(0.1)
    yield endpoint
    process.terminate()
    process.wait(10)
    log.close()


def s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    """Settings environment for S3 storage on ``endpoint`` (the bucket must exist)."""
    return {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing",
        "CONTACTS_API__STORAGE__S3_ADDRESSING_STYLE": "path",
    }


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A new, empty bucket on the moto server."""
    import boto3

    bucket = f"test-{secrets.token_hex(6)}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(scope="session")
def migrated_database_url(database_url: str, redis_url: str, tmp_path_factory) -> str:
    """The run's database with every built-in plugin's migrations applied."""
    settings = make_settings(database_url, redis_url, tmp_path_factory.mktemp("migrate"))
    _apply(database_url, Plugins.load(settings).migration_folders())
    return database_url


# The tables a test may have changed: written to since their last TRUNCATE (a
# TRUNCATE leaves the heap file empty; any insert, even a rolled-back one, gives
# it a page), analyzed (TRUNCATE leaves relpages 0 and reltuples -1, which the
# planner reads), or owning a sequence that has been advanced (a failed insert
# can spend a serial value without writing a row). Every other table is
# already exactly as a TRUNCATE ... RESTART IDENTITY would leave it.
_CHANGED_TABLES = r"""
SELECT format('%I', c.relname)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND c.relname NOT LIKE '\_yoyo%' AND c.relname NOT LIKE 'yoyo%'
  AND (
    pg_relation_size(c.oid) > 0 OR c.relpages <> 0 OR c.reltuples <> -1
    OR EXISTS (
      SELECT 1
      FROM pg_depend d
      JOIN pg_class seq ON seq.oid = d.objid AND seq.relkind = 'S'
      JOIN pg_sequences s
        ON s.schemaname = n.nspname AND s.sequencename = seq.relname
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
        AND d.refobjid = c.oid AND d.deptype IN ('a', 'i')
        AND s.last_value IS NOT NULL
    )
  )
ORDER BY 1
"""


def _truncate_all(database_url: str) -> None:
    """Empty the database's tables (not the migrations' bookkeeping), as a
    ``TRUNCATE <every table> RESTART IDENTITY CASCADE`` would, but truncating
    only the tables a test changed: a TRUNCATE makes new files for a table and
    each of its indexes, and doing that for all of them cost ~0.1-0.9 s per test
    while most tests touch a few tables or none
    (tests/core/test_fixture_reset.py checks the state is the same)."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        tables = changed_tables(cur)
        if tables:
            cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    conn.close()


def changed_tables(cur) -> list[str]:
    """The (quoted) names of the tables ``_truncate_all`` would truncate now."""
    cur.execute(_CHANGED_TABLES)
    return [name for (name,) in cur.fetchall()]


def _drop_redis_prefix(redis_url: str, prefix: str) -> None:
    client = redis_sync.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def settings_factory(migrated_database_url: str, redis_url: str, tmp_path: Path):
    """``settings_factory(**env)``: fresh test settings; the database is emptied
    once per test and Redis keys under each prefix are dropped afterwards."""
    _truncate_all(migrated_database_url)
    prefixes: list[str] = []

    def factory(**env: str) -> Settings:
        settings = make_settings(migrated_database_url, redis_url, tmp_path, **env)
        prefixes.append(settings.redis.key_prefix)
        return settings

    yield factory
    for prefix in prefixes:
        _drop_redis_prefix(redis_url, prefix)


@pytest.fixture
def settings(settings_factory) -> Settings:
    return settings_factory()


@pytest.fixture
def make_client(aiohttp_client) -> Callable:
    """``await make_client(settings, extra_plugins=[...])``: a test client on a
    real server socket, the app built by ``create_app``."""

    async def factory(settings: Settings, **kwargs):
        return await aiohttp_client(create_app(settings, **kwargs))

    return factory


@pytest.fixture
async def client(make_client, settings) -> AsyncIterator:
    yield await make_client(settings)


def write_dist_info(site: Path, name: str, version: str, entry_points: dict[str, str]) -> None:
    """Make ``site`` hold an installed distribution's metadata, exactly what pip
    writes, so ``importlib.metadata.entry_points()`` finds its entry points."""
    dist = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = ["[contacts_api]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def example_plugin_installed(tmp_path: Path, monkeypatch) -> Path:
    """Install the README's example plugin through its entry point for this test.
    Returns the site directory (add it to PYTHONPATH for subprocesses)."""
    site = tmp_path / "site"
    write_dist_info(site, "contacts-api-example", "0.1.0", {"example": "contacts_api_example"})
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN_DIR))
    monkeypatch.syspath_prepend(str(site))
    yield site
    sys.modules.pop("contacts_api_example", None)


def subprocess_env(*paths: Path, **env: str) -> dict[str, str]:
    """Environment for a child ``contacts-api`` process with extra import paths."""
    merged = dict(os.environ)
    merged["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in paths), str(ROOT)])
    merged.update(env)
    return merged
