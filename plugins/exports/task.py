"""The task ``exports.run``: stream the selected contacts to storage as CSV.

PostgreSQL formats the rows (COPY ... TO STDOUT, see ``columns``) and the
bytes flow straight into the storage's streaming upload (S3 multipart), so
memory stays flat at any size. A failure aborts the upload: no partial file.
A redelivered task for a finished export does nothing.
"""

import logging
import uuid

import psycopg2

from core.resources import Resources
from core.resources.storage import StorageLimitExceeded
from core.sql import compile_sql
from plugins.exports.columns import EXPORT_COLUMNS, export_select
from plugins.exports.copystream import CopyResult, copy_csv
from plugins.exports.repository import ExportRepository
from plugins.exports.selection import selection_condition

__all__ = ["HEADER", "run_export"]

log = logging.getLogger("contacts_api.exports")
HEADER = (",".join(EXPORT_COLUMNS) + "\n").encode()


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


async def run_export(resources: Resources, *, export_id: str) -> None:
    repo = ExportRepository(resources.db)
    export = await repo.start(uuid.UUID(export_id))
    if export is None:
        return  # finished by an earlier delivery, or deleted
    result = CopyResult()
    try:
        condition = selection_condition(resources.plugins, export["selection"])
        sql, params = compile_sql(export_select(condition))
        chunks = copy_csv(resources.settings.database.url.reveal(), sql, params, HEADER, result)
        size = await resources.storage.write(export["storage_key"], chunks,
                                             content_type="text/csv; charset=utf-8")
    except Exception as exc:
        log.exception("export %s failed", export_id)
        await repo.fail(export["id"], _describe(exc))
        return
    await repo.finish(export["id"], result.row_count, size)
    log.info("export %s: %d rows, %d bytes", export_id, result.row_count, size)
