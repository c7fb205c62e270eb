"""Deleting old exports with their files: ``contacts-api exports purge``."""

import argparse
import datetime as dt

from contacts_api.core.cli import Command
from contacts_api.core.embedded import prepare_embedded
from contacts_api.core.plugins import Plugins
from contacts_api.core.resources import Resources, open_resources
from contacts_api.core.settings import Settings
from contacts_api.plugins.exports.repository import ExportRepository

__all__ = ["PURGE_COMMAND", "purge_exports"]


async def purge_exports(resources: Resources, older_than: dt.timedelta) -> int:
    """Delete exports created before now - ``older_than`` and their files; the
    file goes first, so a crash never leaves a file without its row."""
    repo = ExportRepository(resources.db)
    cutoff = dt.datetime.now(dt.UTC) - older_than
    old = await repo.older_than(cutoff)
    for export in old:
        await resources.storage.delete(export["storage_key"])
        await repo.delete(export["id"])
    return len(old)


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="exports_command", required=True)
    purge = sub.add_parser("purge", help="delete old exports and their files")
    purge.add_argument(
        "--older-than-days", type=float, help="default: exports.max_age_days from the settings"
    )


async def _run(args: argparse.Namespace, settings: Settings, plugins: Plugins) -> int:
    settings = prepare_embedded(settings)
    days = args.older_than_days
    days = settings.exports.max_age_days if days is None else days
    async with open_resources(settings, Plugins.load(settings), role="worker") as resources:
        deleted = await purge_exports(resources, dt.timedelta(days=days))
    print(f"deleted {deleted} export(s) older than {days:g} day(s)")
    return 0


PURGE_COMMAND = Command(name="exports", help="manage CSV exports", configure=_configure, run=_run)
