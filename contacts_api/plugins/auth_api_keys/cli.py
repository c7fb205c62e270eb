"""``contacts-api api-keys create EMAIL --scopes read,write [--name NAME]``:
an API key for automation on a fresh install (prints the key once).

Works in embedded mode like ``contacts-api users create``: the embedded
PostgreSQL is started (and migrated, when ``migrate_on_startup``) first, and
the key hashes use the same kept secret as the server.
"""

import argparse
import asyncio
import sys

import sqlalchemy as sa

from contacts_api.core.cli import Command
from contacts_api.core.embedded import prepare_embedded
from contacts_api.core.errors import ApiError
from contacts_api.core.migrations import apply_migrations
from contacts_api.core.plugins import Plugins
from contacts_api.core.resources import open_resources
from contacts_api.core.settings import Settings
from contacts_api.plugins.auth_api_keys.routes import parse_new_key
from contacts_api.plugins.auth_api_keys.service import api_keys_service
from contacts_api.plugins.auth_api_keys.tables import users

__all__ = ["api_keys_command"]


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="api_keys_command", required=True)
    create = sub.add_parser("create", help="create an API key for a user and print it once")
    create.add_argument("email")
    create.add_argument(
        "--scopes", required=True, help="comma-separated: read,write,import,export,admin"
    )
    create.add_argument("--name", default="created by contacts-api api-keys create")
    create.add_argument("--expires-at", help="RFC 3339 time, e.g. 2027-01-01T00:00:00Z")


def _fail(message: str) -> int:
    print(f"contacts-api: {message}", file=sys.stderr)
    return 1


async def _main(args: argparse.Namespace, settings: Settings, migrate: bool) -> int:
    plugins = Plugins.load(settings)
    if migrate:
        await apply_migrations(settings.database.url.reveal(), plugins.migration_folders())
    async with open_resources(settings, plugins) as resources:
        user_id = await resources.db.fetch_val(
            sa.select(users.c.id).where(sa.func.lower(users.c.email) == args.email.lower())
        )
        if user_id is None:
            return _fail(f"no user with the email {args.email}")
        try:
            body = {"name": args.name, "scopes": [s.strip() for s in args.scopes.split(",")]}
            if args.expires_at:
                body["expires_at"] = args.expires_at
            name, scopes, expires_at = parse_new_key(body)
            created = await api_keys_service(resources).create(
                str(user_id), name, scopes, expires_at
            )
        except ApiError as error:
            problems = getattr(error, "errors", None) or []
            return _fail("; ".join(f"{p['loc'][-1]} {p['msg']}" for p in problems) or error.detail)
    print(f"created API key {created['id']} for {args.email} with scopes {','.join(scopes)}")
    print(created["key"])
    return 0


def _run(args: argparse.Namespace, settings: Settings, plugins: Plugins) -> int:
    # Decided before prepare_embedded, as `users create` does ("auto" means yes there).
    migrate = settings.migrate_on_startup
    return asyncio.run(_main(args, prepare_embedded(settings), migrate))


def api_keys_command() -> Command:
    return Command(
        name="api-keys", help="create API keys for users", configure=_configure, run=_run
    )
