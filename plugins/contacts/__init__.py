"""The contacts plugin: people and the companies they work at.

Registers the ``contacts``/``companies`` tables and their migrations
(``migrations/contacts``).
"""

from pathlib import Path

from core.hookspecs import hookimpl
from plugins.contacts.tables import ALL_TABLES

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "contacts"


@hookimpl
def register_migrations():
    return [MIGRATIONS]


@hookimpl
def register_tables():
    return list(ALL_TABLES)
