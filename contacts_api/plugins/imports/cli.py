"""``contacts-api import FILE.csv [--wait]``: upload through the route's own service
function, print the job id, and with ``--wait`` follow the job with a progress bar.

With the in-memory broker (no Redis) the task runs in this process, so the command
always waits for the job to end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from contacts_api.core.cli import Command
from contacts_api.core.errors import ApiError

POLL_S = 0.5
CHUNK = 1 << 20


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with open(path, "rb") as source:
        while chunk := await asyncio.to_thread(source.read, CHUNK):
            yield chunk


async def wait_for_job(resources: Any, job_id: str, *, progress: bool) -> dict[str, Any]:
    """Poll the job until it ends; show processed_rows with a tqdm bar when asked."""
    from tqdm import tqdm

    from contacts_api.plugins.imports import repository as repo
    from contacts_api.plugins.imports.service import FINAL

    bar = tqdm(unit=" rows", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    try:
        while True:
            job = await repo.get_job(resources.db, job_id)
            bar.update(job["processed_rows"] - bar.n)
            if job["status"] in FINAL:
                if job["total_rows"] is not None:
                    bar.total = job["total_rows"]
                    bar.refresh()
                return job
            await asyncio.sleep(POLL_S)
    finally:
        bar.close()


async def _run(args: argparse.Namespace, settings: Any, plugins: Any) -> int:
    from contacts_api.core.embedded import prepare_embedded
    from contacts_api.core.migrations import apply_migrations
    from contacts_api.core.resources import open_resources
    from contacts_api.plugins.imports.service import start_import

    path = Path(args.file)
    if not path.is_file():
        print(f"contacts-api import: no such file: {path}", file=sys.stderr)
        return 2
    # Read before prepare_embedded: it fills the database URL, which turns "auto" off.
    migrate = settings.migrate_on_startup
    settings = await asyncio.to_thread(prepare_embedded, settings)
    if migrate:
        await apply_migrations(settings.database.url.reveal(), plugins.migration_folders())
    in_process = not settings.uses_redis_broker
    async with open_resources(settings, plugins, role="web") as resources:
        try:
            job = await start_import(resources, path.name, _file_chunks(path))
        except ApiError as error:
            print(f"contacts-api import: {error.detail}", file=sys.stderr)
            return 1
        print(job["id"], flush=True)
        if not (args.wait or in_process):
            return 0
        job = await wait_for_job(resources, str(job["id"]), progress=args.wait)
    print(
        f"{job['status']}: {job['processed_rows']} rows, {job['created_count']} created, "
        f"{job['updated_count']} updated, {job['error_count']} errors"
        + (f"; {job['error']}" if job["error"] else ""),
        flush=True,
    )
    for warning in job["warnings"]:
        print(f"warning: {warning}", flush=True)
    return 0 if job["status"] == "completed" else 1


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the CSV file (our columns or an Apollo export)")
    parser.add_argument(
        "--wait",
        action="store_true",
        help="show a progress bar until the job ends, then its counts",
    )


def import_command() -> Command:
    return Command(
        name="import",
        help="import a CSV file of contacts in the background",
        configure=_configure,
        run=_run,
    )
