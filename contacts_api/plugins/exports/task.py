"""The task ``exports.run``: stream the selected contacts, or companies (the
export's ``kind``), to storage as CSV.

PostgreSQL formats the rows (COPY ... TO STDOUT, see ``columns``) and the
bytes flow straight into the storage's streaming upload (S3 multipart), so
memory stays flat at any size. A failure aborts the upload: no partial file.
A redelivered task for a finished export does nothing; one for an export a
live task is running (its heartbeat is fresh) waits, and takes over only if
that heartbeat stops for ``LEASE_S``.
"""

import asyncio
import logging
import uuid
from typing import Any

import psycopg2

from contacts_api.core import metrics
from contacts_api.core.recovery import lost_job_sweep
from contacts_api.core.recovery import restart_unfinished as restart_jobs
from contacts_api.core.resources import Resources
from contacts_api.core.resources.storage import StorageLimitExceeded
from contacts_api.core.sql import compile_sql
from contacts_api.plugins.exports.columns import (
    COMPANY_EXPORT_COLUMNS,
    EXPORT_COLUMNS,
    company_export_select,
    export_select,
)
from contacts_api.plugins.exports.copystream import CopyResult, copy_csv
from contacts_api.plugins.exports.repository import ExportRepository
from contacts_api.plugins.exports.selection import KINDS, selection_condition

__all__ = ["COMPANY_HEADER", "HEADER", "SWEEP", "restart_unfinished", "run_export"]

log = logging.getLogger("contacts_api.exports")
HEADER = (",".join(EXPORT_COLUMNS) + "\n").encode()
COMPANY_HEADER = (",".join(COMPANY_EXPORT_COLUMNS) + "\n").encode()
# Per kind: the SELECT of its rows (given the selection's condition) and its header line.
_LAYOUTS = {
    "contacts": (export_select, HEADER),
    "companies": (company_export_select, COMPANY_HEADER),
}
TASK_NAME = "exports.run"
# A running export's heartbeat is renewed every LEASE_S / 3; after LEASE_S
# without one, its worker is taken for dead and another delivery takes over.
LEASE_S = 60


def _describe(exc: BaseException) -> str:
    """A message for the export's ``error``: useful, never internals or secrets."""
    if isinstance(exc, psycopg2.Error):
        return f"database error: {(exc.pgerror or type(exc).__name__).strip().splitlines()[0]}"
    if isinstance(exc, StorageLimitExceeded):
        return "the file exceeded the storage limit"
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    if code:
        return f"storage error: {code}"
    return "the export failed unexpectedly; see the worker log"


async def _take(repo: ExportRepository, export_id: uuid.UUID) -> dict[str, Any] | None:
    """The export to run, or None when it is finished (or gone). While another
    live task holds it, wait: returning would acknowledge this delivery, and if
    that task died afterwards nobody would finish the export."""
    while True:
        export = await repo.start(export_id, LEASE_S)
        if export is not None:
            return export
        current = await repo.get(export_id)
        if current is None or current["status"] not in ("pending", "processing"):
            return None
        await asyncio.sleep(LEASE_S / 6)


async def _beat(repo: ExportRepository, export_id: uuid.UUID) -> None:
    while True:
        await asyncio.sleep(LEASE_S / 3)
        await repo.heartbeat(export_id)


async def run_export(resources: Resources, *, export_id: str) -> None:
    repo = ExportRepository(resources.db)
    export = await _take(repo, uuid.UUID(export_id))
    if export is None:
        return  # finished by an earlier delivery, or deleted
    result = CopyResult()
    beat = asyncio.create_task(_beat(repo, export["id"]))
    try:
        kind = KINDS[export["kind"]]
        select, header = _LAYOUTS[kind.name]
        condition = await selection_condition(
            resources.plugins, resources.db, export["selection"], kind
        )
        sql, params = compile_sql(select(condition))
        chunks = copy_csv(resources.settings.database.url.reveal(), sql, params, header, result)
        size = await resources.storage.write(
            export["storage_key"], chunks, content_type="text/csv; charset=utf-8"
        )
    except Exception as exc:
        log.exception("export %s failed", export_id)
        metrics.record_job("export", "failed")
        await repo.fail(export["id"], _describe(exc))
        return
    finally:
        beat.cancel()
    await repo.finish(export["id"], result.row_count, size)
    metrics.record_job("export", "completed", result.row_count)
    log.info("export %s: %d rows, %d bytes", export_id, result.row_count, size)


async def _idle_exports(resources: Resources, idle_s: float) -> list[str]:
    return await ExportRepository(resources.db).idle_ids(idle_s)


# Workers on the Redis broker kick again the exports whose task the queue lost.
SWEEP = lost_job_sweep(
    "exports_recovery",
    TASK_NAME,
    "export_id",
    _idle_exports,
    every_s=lambda settings: settings.exports.recover_lost_s,
)


async def restart_unfinished(resources: Resources) -> list[str]:
    """With the in-memory broker: kick the exports a stopped server left unfinished."""
    return await restart_jobs(resources, TASK_NAME, "export_id", _idle_exports)
