"""What a plugin's own tests need: the app with given plugins on a fresh database.

::

    from contacts_api.testing import app_client

    async def test_hello():
        async with app_client([("hello", my_plugin)]) as client:
            response = await client.post("/api/v1/hello", headers=client.write_key_headers)
            assert response.status == 201

(The write key is a v1 credential only: a v2 route answers 401 to it.)

``app_client`` creates a database named ``contacts_api_test_<random>`` through
an admin connection (``TEST_DATABASE_URL``, else ``DATABASE_URL``, else the
local PostgreSQL), applies the migrations of every enabled plugin (yours
included), starts the app on a real socket and yields an aiohttp
``TestClient``. The database is dropped afterwards. Redis is used when
``REDIS_URL`` (or ``redis_url=``) is given; otherwise the cache, rate limits and
tasks stay in the process.
"""

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from aiohttp.test_utils import TestClient, TestServer

__all__ = ["PluginTestClient", "app_client", "test_settings"]

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class PluginTestClient(TestClient):
    """An aiohttp ``TestClient`` that also knows the app's v1 write key."""

    write_key: str = ""

    @property
    def write_key_headers(self) -> dict[str, str]:
        return {"X-Contacts-Write-Key": self.write_key}


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _admin(url: str, statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(url, connect_timeout=10)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def test_settings(
    database_url: str, data_dir: Path, *, redis_url: str = "", env: Mapping[str, str] | None = None
):
    """Settings for a test app: this database, files under ``data_dir``,
    tasks in the process, a random write key and JWT secret; ``env`` overrides
    (any ``CONTACTS_API__SECTION__KEY`` or well-known variable)."""
    from contacts_api.core.settings import load_settings

    environ = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CONTACTS_WRITE_KEY": secrets.token_urlsafe(24),
        "JWT_SECRET": secrets.token_urlsafe(32),
        "CONTACTS_API__REDIS__KEY_PREFIX": f"ctest_{secrets.token_hex(4)}",
        "CONTACTS_API__STORAGE__LOCAL_PATH": str(data_dir / "files"),
        "CONTACTS_API__EMBEDDED__DATA_DIR": str(data_dir / "data"),
        "CONTACTS_API__BROKER__BACKEND": "memory",
        "CONTACTS_API__DATABASE__POOL_MAX_SIZE": "10",
        **(env or {}),
    }
    return load_settings(environ=environ)


test_settings.__test__ = False  # not a pytest test, despite its name


@asynccontextmanager
async def app_client(
    plugins: Iterable[tuple[str, object]] = (),
    *,
    admin_url: str | None = None,
    redis_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[PluginTestClient]:
    """The app with the built-in plugins and ``plugins`` (``(name, module)``
    pairs), on a fresh migrated database, as a started test client."""
    from contacts_api.core.app import create_app
    from contacts_api.core.migrations import apply_migrations
    from contacts_api.core.plugins import Plugins

    admin_url = (
        admin_url
        or os.environ.get("TEST_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_ADMIN_URL
    )
    if redis_url is None:
        redis_url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or ""
    name = f"contacts_api_test_{secrets.token_hex(4)}"
    plugins = list(plugins)
    await asyncio.to_thread(_admin, admin_url, f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="contacts-api-test-") as tmp:
            settings = test_settings(
                _with_database(admin_url, name), Path(tmp), redis_url=redis_url, env=env
            )
            loaded = Plugins.load(settings, extra=plugins)
            await apply_migrations(settings.database.url.reveal(), loaded.migration_folders())
            client = PluginTestClient(TestServer(create_app(settings, plugins=loaded)))
            client.write_key = settings.auth.write_key.reveal()
            await client.start_server()
            try:
                yield client
            finally:
                await client.close()
    finally:
        await asyncio.to_thread(_admin, admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
