"""SQL of import jobs: creation, pages, the lease protocol and per-batch progress.

The lease: a job is run by the worker whose ``lease_owner`` it holds until
``lease_expires_at``; the holder renews it while it works, and every batch commit is
fenced on it (``lock_for_batch``), so a worker that lost its lease can write nothing.
"""

from __future__ import annotations

import json
from typing import Any

JOB_FIELDS = """id, status, file_name, storage_key, file_size, total_rows,
    total_rows_estimated, processed_rows,
    created_count, updated_count, error_count, error, warnings, resume_row, lease_owner,
    lease_expires_at, attempts, created_at, started_at, finished_at"""

_CREATE = f"""
INSERT INTO import_jobs (id, file_name, storage_key, file_size) VALUES (%s, %s, %s, %s)
RETURNING {JOB_FIELDS}"""
_GET = f"SELECT {JOB_FIELDS} FROM import_jobs WHERE id = %s"
_LIST = f"""SELECT {JOB_FIELDS} FROM import_jobs
    ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s"""
# The keyset page after a job (import_jobs_created_idx): newest first.
_LIST_AFTER = f"""SELECT {JOB_FIELDS} FROM import_jobs WHERE (created_at, id) < (%s, %s)
    ORDER BY created_at DESC, id DESC LIMIT %s"""
_ERRORS = """SELECT row_number, message, "row" FROM import_errors WHERE job_id = %s
    ORDER BY row_number LIMIT %s OFFSET %s"""

# Take the job unless a live lease is held by another worker; reset the visible progress
# to the last committed batch (what the resumed run starts from).
_TAKE = f"""
UPDATE import_jobs SET lease_owner = %(owner)s,
    lease_expires_at = now() + make_interval(secs => %(lease_s)s),
    status = 'processing', started_at = COALESCE(started_at, now()), attempts = attempts + 1,
    processed_rows = created_count + updated_count + error_count
WHERE id = %(id)s AND status IN ('pending', 'processing')
    AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < now())
RETURNING {JOB_FIELDS}"""
_HEARTBEAT = """
UPDATE import_jobs SET lease_expires_at = now() + make_interval(secs => %(lease_s)s),
    processed_rows = GREATEST(processed_rows, %(processed)s)
WHERE id = %(id)s AND lease_owner = %(owner)s AND status = 'processing'"""
_RELEASE = """UPDATE import_jobs SET lease_owner = NULL, lease_expires_at = NULL
    WHERE id = %s AND lease_owner = %s"""
_LOCK_FOR_BATCH = """SELECT resume_row FROM import_jobs
    WHERE id = %s AND lease_owner = %s AND status = 'processing' FOR UPDATE"""
_COMMIT_BATCH = """
UPDATE import_jobs SET resume_row = %(resume_row)s,
    created_count = created_count + %(created)s, updated_count = updated_count + %(updated)s,
    error_count = error_count + %(errors)s,
    processed_rows = GREATEST(processed_rows,
                              created_count + updated_count + error_count + %(rows)s),
    lease_expires_at = now() + make_interval(secs => %(lease_s)s)
WHERE id = %(id)s AND lease_owner = %(owner)s"""
_FINISH = f"""
UPDATE import_jobs SET status = %(status)s, error = %(error)s, warnings = %(warnings)s::jsonb,
    total_rows = COALESCE(%(total_rows)s, total_rows),
    total_rows_estimated = total_rows_estimated AND %(total_rows)s IS NULL,
    processed_rows = created_count + updated_count + error_count,
    finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
WHERE id = %(id)s AND lease_owner = %(owner)s
RETURNING {JOB_FIELDS}"""
_TOTAL = """UPDATE import_jobs SET total_rows = %(total)s, total_rows_estimated = %(estimated)s
    WHERE id = %(id)s AND lease_owner = %(owner)s"""
# Stalled for ``idle_s`` at least: since the lease expired, else since the job started
# or was created (a released lease, a job never taken).
_IDLE = """SELECT id FROM import_jobs WHERE status IN ('pending', 'processing')
    AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < now())
    AND coalesce(lease_expires_at, started_at, created_at)
        < now() - make_interval(secs => %s)
    ORDER BY created_at"""


async def create_job(
    db: Any, job_id: str, file_name: str, storage_key: str, file_size: int
) -> dict[str, Any]:
    return await db.fetch_one(_CREATE, (job_id, file_name, storage_key, file_size))


async def delete_job(db: Any, job_id: str) -> None:
    await db.execute("DELETE FROM import_jobs WHERE id = %s", (job_id,))


async def get_job(db: Any, job_id: str) -> dict[str, Any] | None:
    return await db.fetch_one(_GET, (job_id,))


async def list_jobs(
    db: Any, limit: int, offset: int = 0, after: tuple[Any, Any] | None = None
) -> list[dict[str, Any]]:
    """Jobs newest first: ``after`` a (created_at, id) key (a cursor), else from
    ``offset``."""
    if after is not None:
        return await db.fetch_all(_LIST_AFTER, (*after, limit))
    return await db.fetch_all(_LIST, (limit, offset))


async def list_errors(db: Any, job_id: str, limit: int, offset: int) -> list[dict[str, Any]]:
    return await db.fetch_all(_ERRORS, (job_id, limit, offset))


async def take_lease(db: Any, job_id: str, owner: str, lease_s: float) -> dict[str, Any] | None:
    """The job, now leased to ``owner``; None when final, missing or leased to another."""
    return await db.fetch_one(_TAKE, {"id": job_id, "owner": owner, "lease_s": lease_s})


async def heartbeat(db: Any, job_id: str, owner: str, lease_s: float, processed: int) -> bool:
    """Renew the lease and show progress; False when the lease was lost."""
    params = {"id": job_id, "owner": owner, "lease_s": lease_s, "processed": processed}
    return await db.execute(_HEARTBEAT, params) == 1


async def release_lease(db: Any, job_id: str, owner: str) -> None:
    await db.execute(_RELEASE, (job_id, owner))


async def lock_for_batch(tx: Any, job_id: str, owner: str) -> int | None:
    """In the batch's transaction: lock the job row if ``owner`` still holds the lease;
    return the committed resume point (None: the lease is lost)."""
    return await tx.fetch_val(_LOCK_FOR_BATCH, (job_id, owner))


async def commit_batch(
    tx: Any,
    job_id: str,
    owner: str,
    lease_s: float,
    *,
    resume_row: int,
    rows: int,
    created: int,
    updated: int,
    errors: int,
) -> None:
    await tx.execute(
        _COMMIT_BATCH,
        {
            "id": job_id,
            "owner": owner,
            "lease_s": lease_s,
            "resume_row": resume_row,
            "rows": rows,
            "created": created,
            "updated": updated,
            "errors": errors,
        },
    )


async def finish_job(
    db: Any,
    job_id: str,
    owner: str,
    *,
    status: str,
    warnings: list[str],
    total_rows: int | None = None,
    error: str | None = None,
) -> dict[str, Any] | None:
    return await db.fetch_one(
        _FINISH,
        {
            "id": job_id,
            "owner": owner,
            "status": status,
            "error": error,
            "warnings": json.dumps(warnings),
            "total_rows": total_rows,
        },
    )


async def set_total_rows(db: Any, job_id: str, owner: str, total: int, estimated: bool) -> None:
    """The file's row count (``estimated``: from its size) as soon as the run opens it."""
    params = {"id": job_id, "owner": owner, "total": total, "estimated": estimated}
    await db.execute(_TOTAL, params)


async def idle_job_ids(db: Any, idle_s: float) -> list[str]:
    """Unfinished jobs nobody has held a live lease on for ``idle_s`` seconds."""
    return [str(row["id"]) for row in await db.fetch_all(_IDLE, (idle_s,))]
