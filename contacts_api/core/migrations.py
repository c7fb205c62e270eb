"""Schema migrations with yoyo, collected from every plugin's folders.

Applying takes yoyo's lock, so several processes starting together (API
replicas, workers) apply each migration once; the others wait, then find
nothing to do. yoyo is synchronous: it runs in a thread.
"""

import asyncio
import logging
from pathlib import Path

from yoyo import get_backend, read_migrations

__all__ = ["apply_migrations", "pending_migrations", "yoyo_url"]

log = logging.getLogger("contacts_api.migrations")
LOCK_TIMEOUT_S = 120


def yoyo_url(database_url: str) -> str:
    """yoyo accepts ``postgresql://`` but not driver-qualified schemes."""
    for prefix in ("postgresql+psycopg2://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url[len(prefix) :]
    return database_url


def _apply(database_url: str, folders: list[Path]) -> list[str]:
    if not folders:
        return []
    migrations = read_migrations(*(str(folder) for folder in folders))
    backend = get_backend(yoyo_url(database_url))
    try:
        with backend.lock(timeout=LOCK_TIMEOUT_S):
            todo = backend.to_apply(migrations)
            backend.apply_migrations(todo)
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
    applied = await asyncio.to_thread(_apply, database_url, folders)
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))
    return applied


async def pending_migrations(database_url: str, folders: list[Path]) -> list[str]:
    return await asyncio.to_thread(_pending, database_url, folders)
