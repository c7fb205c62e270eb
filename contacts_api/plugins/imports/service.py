"""Import rules shared by the route, the CLI and the startup hook: store an upload and
start its job, read jobs and their errors, re-kick stalled jobs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import PurePath
from typing import Any
from urllib.parse import unquote

from contacts_api.core.errors import BadRequest, PayloadTooLarge
from contacts_api.core.recovery import restart_unfinished
from contacts_api.core.requests import rfc3339
from contacts_api.core.resources.storage import StorageLimitExceeded
from contacts_api.plugins.imports import repository as repo

log = logging.getLogger("contacts_api.imports")

TASK_NAME = "imports.run"
QUEUE = "imports"
FINAL = ("completed", "failed")
# An upload is refused at once when it is empty or blank; only its first bytes are held.
_HEAD_BYTES = 64 * 1024


def safe_file_name(name: str | None) -> str:
    """The upload's base name, without directories or control characters (some
    clients, aiohttp's among them, percent-encode it)."""
    base = PurePath(unquote(name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable()).strip()[:255]
    return base or "upload.csv"


async def _refuse_blank(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Pass the chunks on, but raise BadRequest before the first one when the whole
    upload is empty or only whitespace (checked within its first 64 KiB)."""
    iterator = aiter(chunks)
    head: list[bytes] = []
    size = 0
    async for chunk in iterator:
        if chunk:
            head.append(chunk)
            size += len(chunk)
            if size >= _HEAD_BYTES:
                break
    if size < _HEAD_BYTES and not b"".join(head).strip():
        raise BadRequest("The uploaded file is empty.")
    for chunk in head:
        yield chunk
    async for chunk in iterator:
        yield chunk


async def start_import(
    resources: Any, file_name: str | None, chunks: AsyncIterable[bytes]
) -> dict[str, Any]:
    """Stream the upload to storage, create its job (pending) and kick ``imports.run``.

    400 for an empty file and 413 over ``imports.max_upload_bytes``: nothing is stored
    and no job is created then.
    """
    job_id = str(uuid.uuid4())
    key = f"imports/{job_id}.csv"
    try:
        size = await resources.storage.write(
            key,
            _refuse_blank(chunks),
            max_bytes=resources.settings.imports.max_upload_bytes,
            content_type="text/csv",
        )
    except StorageLimitExceeded:
        limit = resources.settings.imports.max_upload_bytes
        raise PayloadTooLarge(f"The file is larger than the {limit:,}-byte limit.") from None
    try:
        job = await repo.create_job(resources.db, job_id, safe_file_name(file_name), key, size)
        await resources.tasks.kick(TASK_NAME, job_id=job_id)
    except BaseException:
        await repo.delete_job(resources.db, job_id)
        await resources.storage.delete(key)
        raise
    return job


async def resume_stalled(resources: Any) -> list[str]:
    """Re-kick unfinished jobs whose worker is gone (no live lease). For the in-memory
    broker, whose messages die with the process; Redis redelivers by itself."""
    from contacts_api.plugins.imports.recovery import idle_jobs

    return await restart_unfinished(resources, TASK_NAME, "job_id", idle_jobs)


def serialize_job(job: dict[str, Any]) -> dict[str, Any]:
    """The Job resource of docs/api.md (plus ``file_size``)."""
    return {
        "id": str(job["id"]),
        "status": job["status"],
        "file_name": job["file_name"],
        "file_size": job["file_size"],
        "total_rows": job["total_rows"],
        "total_rows_estimated": job["total_rows_estimated"],
        "processed_rows": job["processed_rows"],
        "created_count": job["created_count"],
        "updated_count": job["updated_count"],
        "error_count": job["error_count"],
        "error": job["error"],
        "warnings": job["warnings"],
        "created_at": rfc3339(job["created_at"]),
        "started_at": rfc3339(job["started_at"]),
        "finished_at": rfc3339(job["finished_at"]),
    }


def serialize_error(error: dict[str, Any]) -> dict[str, Any]:
    return {"row_number": error["row_number"], "message": error["message"], "row": error["row"]}
