"""Schema migrations with yoyo, collected from every plugin's folders.

Applying takes yoyo's lock, so several processes starting together (API
replicas, workers) apply each migration once; the others wait, then find
nothing to do. yoyo is synchronous: it runs in a thread.

Each migration applied logs one INFO line (yoyo's own step lines are kept
at WARNING); one that fails raises ``MigrationError`` naming it.
"""

import asyncio
import logging
import time
from pathlib import Path

from yoyo import get_backend, read_migrations

__all__ = ["MigrationError", "apply_migrations", "pending_migrations", "yoyo_url"]

log = logging.getLogger("contacts_api.migrations")
# yoyo logs every step of every migration at INFO: 122 lines on a first start.
logging.getLogger("yoyo").setLevel(logging.WARNING)
LOCK_TIMEOUT_S = 120


class MigrationError(Exception):
    """A migration could not be applied; the message names it and the cause."""


def yoyo_url(database_url: str) -> str:
    """yoyo accepts ``postgresql://`` but not driver-qualified schemes."""
    for prefix in ("postgresql+psycopg2://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url[len(prefix) :]
    return database_url


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _apply(database_url: str, folders: list[Path]) -> list[str]:
    if not folders:
        return []
    migrations = read_migrations(*(str(folder) for folder in folders))
    try:
        backend = get_backend(yoyo_url(database_url))
    except Exception as exc:
        reason = _first_line(exc)
        raise MigrationError(f"cannot connect to the database to migrate it: {reason}") from exc
    try:
        with backend.lock(timeout=LOCK_TIMEOUT_S):
            todo = backend.to_apply(migrations)
            for migration in todo:
                started = time.monotonic()
                try:
                    backend.apply_one(migration)
                except Exception as exc:
                    reason = _first_line(exc)
                    raise MigrationError(f"migration {migration.id} failed: {reason}") from exc
                took = time.monotonic() - started
                log.info("applied migration %s (%.1f s)", migration.id, took)
            return [m.id for m in todo]
    finally:
        backend.connection.close()


def _pending(database_url: str, folders: list[Path]) -> list[str]:
    if not folders:
        return []
    backend = get_backend(yoyo_url(database_url))
    try:
        return [m.id for m in backend.to_apply(read_migrations(*map(str, folders)))]
    finally:
        backend.connection.close()


async def apply_migrations(database_url: str, folders: list[Path]) -> list[str]:
    """Apply what is pending; return the ids applied."""
    return await asyncio.to_thread(_apply, database_url, folders)


async def pending_migrations(database_url: str, folders: list[Path]) -> list[str]:
    return await asyncio.to_thread(_pending, database_url, folders)
