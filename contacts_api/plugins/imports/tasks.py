"""The task ``imports.run``: read a job's file from storage and write it in batches.

Crash safety: each batch is one transaction holding the companies, contacts, metadata,
the batch's row errors and the job's counters and resume point, fenced on the job's
lease. A worker killed mid-file leaves the job at its last committed batch; the
redelivered message (or, in embedded mode, the startup re-kick) resumes from there.
Batches are written ``imports.writers`` at a time (``pipeline``), committing in file
order, so the resume point stays a prefix of the file.
A delivery that finds another worker's live lease waits until that lease is released
or expires, or the job ends, so that one message always outlives a dying holder.
A stopping worker (SIGTERM) finishes the batch it is writing, releases the lease and
hands the task back to the queue (``TaskInterrupted``): another worker resumes at once.

A large job becomes a bulk load after its first ``bulk_probe_rows`` rows (``bulk``): the
secondary indexes of contacts are dropped while it writes and built again before it
completes; the batches themselves are the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from typing import Any

import psycopg2.errors

from contacts_api.core import metrics
from contacts_api.core.resources.database import CONFLICTS, is_transient
from contacts_api.core.tasks import TaskInterrupted
from contacts_api.plugins.contacts.service import clean_pending_lists, invalidate_lists
from contacts_api.plugins.imports import bulk
from contacts_api.plugins.imports import repository as repo
from contacts_api.plugins.imports.parsing import (
    BatchReader,
    bridge_chunks,
    import_gc_threshold,
    parse_processes,
)
from contacts_api.plugins.imports.phases import Phases
from contacts_api.plugins.imports.pipeline import (
    ORDER_LOCK,
    ORDER_LOCK_CLASS,
    EarlierPending,
    Flight,
    WritePipeline,
)
from contacts_api.plugins.imports.reading import CsvFileError
from contacts_api.plugins.imports.switching import import_switch_interval
from contacts_api.plugins.imports.upsert import write_errors, write_rows

log = logging.getLogger("contacts_api.imports")

PROGRESS_EVERY_S = 1.0
PROGRESS_EVERY_ROWS = 200
# A batch whose connection fails (the server restarting, a failover, a dropped
# connection) is written again, for this long at most after the first failure: the
# batch is one transaction, so a retry never writes a row twice. Past the lease, the
# job may have passed to another worker; the retry's fence then stops this one.
TRANSIENT_RETRY_S = 300.0


class LeaseLost(Exception):
    """Another worker took the job over: stop without writing anything more."""


class _AlreadyCommitted(Exception):
    """A batch written again after a failed commit whose answer was lost: that commit
    took place (its transaction here rolls back)."""


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


async def _acquire(resources: Any, job_id: str, owner: str, lease_s: float) -> dict | None:
    """Take the job's lease, waiting while another live worker holds it (a stopping
    worker hands the task back instead of waiting)."""
    db = resources.db
    while True:
        job = await repo.take_lease(db, job_id, owner, lease_s)
        if job is not None:
            return job
        current = await repo.get_job(db, job_id)
        if current is None or current["status"] in ("completed", "failed"):
            return None
        if resources.tasks.stopping.is_set():
            raise TaskInterrupted()
        await asyncio.sleep(min(max(lease_s / 10, 0.2), 1.0))


async def run_import(resources: Any, job_id: str) -> None:
    """Task ``imports.run``: run (or resume) the import job ``job_id``."""
    lease_s = resources.settings.imports.lease_s
    owner = _owner()
    job = await _acquire(resources, job_id, owner, lease_s)
    if job is None:
        return
    log.info("import %s: started by %s from row %s", job_id, owner, job["resume_row"])
    try:
        await _Run(resources, job, owner).run()
    except LeaseLost:
        log.warning("import %s: lease lost to another worker; stopping", job_id)
    except TaskInterrupted:
        await repo.release_lease(resources.db, job_id, owner)  # the next worker takes it
        log.info("import %s: stopped for the worker's shutdown; handed back", job_id)
        raise
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):  # let the next delivery take over at once
            await asyncio.shield(repo.release_lease(resources.db, job_id, owner))
        raise
    except Exception as error:
        log.exception("import %s failed", job_id)
        metrics.record_job("import", "failed")
        with contextlib.suppress(Exception):  # the indexes come back without this job
            await bulk.leave(resources.db, job_id)
        await repo.finish_job(
            resources.db,
            job_id,
            owner,
            status="failed",
            warnings=[],
            error=f"The import stopped on an unexpected error: {describe(error)}",
        )
        with contextlib.suppress(Exception):  # unless another bulk load holds them
            settings = resources.settings
            await bulk.restore(
                resources.db,
                settings.database.url.reveal(),
                settings.imports,
            )


def describe(error: BaseException) -> str:
    """An error's class and first line, for the job's ``error`` (the log has the rest)."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text if len(text) <= 500 else text[:499] + "…"


class _Run:
    """One run of a job by the worker holding its lease."""

    def __init__(self, resources: Any, job: dict, owner: str):
        self.resources = resources
        self.db = resources.db
        self.settings = resources.settings.imports
        self.job = job
        self.job_id = str(job["id"])
        self.owner = owner
        self.resume_row = job["resume_row"]
        self.committed = job["created_count"] + job["updated_count"] + job["error_count"]
        self.in_flight = 0  # rows of the batches being written
        self.pipeline = WritePipeline(self.settings.writers, self.job_id, self._write)
        self.total_rows = 0
        self.bulk_decided = False  # whether this run has chosen between bulk and batch
        self.bulk_active = False  # whether this run writes as a bulk load
        self.dsn = resources.settings.database.url.reveal()
        self.phases = Phases()

    async def run(self) -> None:
        # fewer collections while batches hold rows alive; the loop's round trips not
        # held back 5 ms each by the parsing thread's hold on the GIL (switching.py)
        with import_gc_threshold(), import_switch_interval():
            await self._run()

    async def _run(self) -> None:
        started = time.monotonic()
        chunks = self.resources.storage.read(self.job["storage_key"])
        reader: BatchReader | None = None
        pending: asyncio.Future | None = None
        ticker = asyncio.create_task(self._tick())
        try:
            sync_chunks = bridge_chunks(chunks, asyncio.get_running_loop())
            try:
                reader = await asyncio.to_thread(
                    BatchReader, sync_chunks, self.resume_row, self.settings.batch_size
                )
            except CsvFileError as error:
                await self._finish("failed", [], error=f"The file cannot be imported: {error}")
                return
            total, exact = reader.estimate_rows(self.job["file_size"])
            self.total_rows = total
            if total - self.resume_row >= self.settings.parse_min_rows:
                processes = parse_processes(self.settings.parse_processes)
                if processes:
                    await asyncio.to_thread(reader.use_processes, processes)
            if await bulk.is_bulk_load(self.db, self.job_id):  # resumed mid-load
                self.bulk_decided = self.bulk_active = True
                await bulk.begin(self.db, self.dsn, self.job_id, self.settings.bulk_keep_indexes)
            elif total - self.resume_row >= self.settings.bulk_min_rows > 0:
                with self.phases.timed("choose_bulk"):
                    await self._bulk_into_empty_table()
            await repo.set_total_rows(self.db, self.job_id, self.owner, total, not exact)
            pending = asyncio.ensure_future(asyncio.to_thread(reader.next_batch, self.resume_row))
            while True:
                try:
                    with self.phases.timed("wait_parse"):
                        batch = await pending
                except CsvFileError as error:
                    await self.pipeline.drain()  # the batches read before it count
                    await self._finish(
                        "failed",
                        reader.warnings,
                        error=f"The file cannot be read past this point: {error}",
                    )
                    return
                if batch is None:
                    break
                if self.resources.tasks.stopping.is_set():
                    # The worker is stopping: between two batches is a transaction
                    # boundary; the next worker resumes after the last commit.
                    await self.pipeline.drain()
                    raise TaskInterrupted()
                # Parse the next batch in a thread while this one is written.
                pending = asyncio.ensure_future(asyncio.to_thread(reader.next_batch, batch.end_row))
                self.in_flight += batch.rows
                with self.phases.timed("write_bulk" if self.bulk_active else "write"):
                    await self.pipeline.submit(batch)
                if not self.bulk_decided and self.committed >= self.settings.bulk_probe_rows:
                    with self.phases.timed("choose_bulk"):
                        await self._choose_bulk()
            with self.phases.timed("write_bulk" if self.bulk_active else "write"):
                await self.pipeline.drain()
            # Merge the trigram indexes' pending lists the import filled (cheaper in
            # bulk than row by row; searches would scan them until then). Before the
            # job completes: its rows/s count it, and a caller waiting for the job
            # finds the indexes clean.
            with self.phases.timed("clean_pending_lists"):
                await clean_pending_lists(self.db)
            job = await self._finish("completed", reader.warnings, total_rows=self.committed)
            log.info("import %s phases: %s", self.job_id, self.phases.summary())
            log.info("import %s writers: %s", self.job_id, self.pipeline.summary())
            elapsed = time.monotonic() - started
            log.info(
                "import %s: %s rows in %.1f s (%.0f rows/s); created %s, updated %s, errors %s",
                self.job_id,
                self.committed,
                elapsed,
                self.committed / max(elapsed, 1e-6),
                job and job["created_count"],
                job and job["updated_count"],
                job and job["error_count"],
            )
        finally:
            ticker.cancel()
            await self.pipeline.abort()  # after a failure: the batches still in flight
            if pending is not None and not pending.done():
                with contextlib.suppress(BaseException):
                    await pending  # the parsing thread pulls chunks: let it stop first
            if reader is not None:
                await asyncio.to_thread(reader.close)
            await chunks.aclose()

    async def _write(self, flight: Flight) -> None:
        """Commit the flight's batch (pipeline.py), writing it again after a lost
        deadlock, a broken connection or an earlier batch's rollback."""
        batch = flight.batch
        assert batch is not None
        conflicts, failing_since = 0, None
        while True:
            try:
                await self._write_once(flight, retried=failing_since is not None)
                break
            except _AlreadyCommitted:
                break
            except EarlierPending:
                pass
            except CONFLICTS:  # concurrent imports (or batches) touching the same rows
                conflicts += 1
                if conflicts == 4:
                    raise
                await asyncio.sleep(0.05 * conflicts)
            except (psycopg2.Error, OSError) as error:
                if not is_transient(error):
                    raise
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since > TRANSIENT_RETRY_S:
                    raise
                log.warning(
                    "import %s: the database is unavailable (%s); writing the batch "
                    "after row %s again",
                    self.job_id,
                    str(error).strip().splitlines()[0]
                    if str(error).strip()
                    else type(error).__name__,
                    batch.start_row,
                )
                await asyncio.sleep(min(5.0, 0.2 * 2 ** min(int(now - failing_since), 5)))
            await flight.after_earlier()  # written again alone
        self.resume_row = max(self.resume_row, batch.end_row)
        self.committed += batch.rows
        self.in_flight -= batch.rows
        with self.phases.timed("invalidate_lists"):
            await invalidate_lists(self.resources)  # cached list pages are stale now

    async def _write_once(self, flight: Flight, retried: bool) -> None:
        async with self.db.transaction() as tx:
            try:
                await self._write_in(tx, flight, retried)
            except BaseException:
                # Set before the rollback: a later batch waiting for this transaction's
                # end (ORDER_LOCK) then always finds it.
                flight.rewritten = True
                raise

    async def _write_in(self, tx: Any, flight: Flight, retried: bool) -> None:
        """The flight's batch in transaction ``tx`` (pipeline.py's steps)."""
        batch = flight.batch
        assert batch is not None
        beside = flight.pending_earlier()  # the earlier batches this attempt runs beside
        await tx.execute(ORDER_LOCK, (ORDER_LOCK_CLASS, flight.lock_key))
        parallel = self.pipeline.writers > 1
        written = await write_rows(tx, batch, flight.on_companies if parallel else None)
        if written.rewritten:
            flight.rewritten = True  # before this commit, which later batches wait for
        for earlier in flight.pending_earlier():  # commits in file order
            await tx.execute(ORDER_LOCK, (ORDER_LOCK_CLASS, earlier.lock_key))
        resume_row = await repo.lock_for_batch(tx, self.job_id, self.owner)
        if resume_row is None:
            raise LeaseLost()
        if resume_row != batch.start_row:
            if retried and resume_row == batch.end_row:
                raise _AlreadyCommitted()  # only the failed commit's answer was lost
            if resume_row < batch.start_row and flight.pending_earlier():
                raise EarlierPending()
            raise LeaseLost()
        if any(earlier.rewritten for earlier in beside):
            raise EarlierPending()  # it ran on what that batch first announced
        if written.refused:
            first = written.refused[0]
            log.warning(
                "import %s: the database refused %d row(s) of the batch after row %s (row %s: %s)",
                self.job_id,
                len(written.refused),
                batch.start_row,
                first[0],
                first[1],
            )
        await write_errors(tx, self.job_id, batch.errors + written.refused)
        await repo.commit_batch(
            tx,
            self.job_id,
            self.owner,
            self.settings.lease_s,
            resume_row=batch.end_row,
            rows=batch.rows,
            created=written.created,
            updated=written.updated,
            errors=len(batch.errors) + len(written.refused),
        )

    async def _bulk_into_empty_table(self) -> None:
        """A large file into an empty contacts table (a first load) is a bulk load from
        its first row: every row can only create, so there is nothing to probe, and
        the probe's rows would pay for every index."""
        if not await bulk.table_is_empty(self.db):
            return
        log.info("import %s: large, into an empty table; loading in bulk", self.job_id)
        self.bulk_decided = self.bulk_active = True
        await bulk.begin(
            self.db, self.dsn, self.job_id, self.settings.bulk_keep_indexes, plainly=True
        )

    async def _choose_bulk(self) -> None:
        """After the probe rows: go on as a bulk load when the rest is large enough."""
        self.bulk_decided = True
        job = await repo.get_job(self.db, self.job_id)
        if job is None or self.settings.bulk_min_rows <= 0:
            return
        written = job["created_count"] + job["updated_count"]
        table = await bulk.table_rows(self.db)
        if bulk.should_bulk(
            written=written,
            created=job["created_count"],
            remaining=max(self.total_rows - self.committed, 0),
            table=table,
            min_rows=self.settings.bulk_min_rows,
            fraction=self.settings.bulk_fraction,
        ):
            plainly = table <= self.settings.bulk_plain_rebuild_max_rows
            log.info(
                "import %s: large for the table; loading in bulk (rebuild %s)",
                self.job_id,
                "plainly" if plainly else "concurrently",
            )
            self.bulk_active = True
            await self.pipeline.drain()  # the batches in flight go in with the indexes
            await bulk.begin(
                self.db,
                self.dsn,
                self.job_id,
                self.settings.bulk_keep_indexes,
                plainly=plainly,
            )

    async def _finish(self, status: str, warnings: list[str], **fields: Any) -> dict | None:
        # The job's load is over: build the deferred indexes again before it ends (a
        # crash meanwhile leaves the job to resume, which comes back here).
        await bulk.leave(self.db, self.job_id)
        rebuilt_from = time.monotonic()
        with self.phases.timed("rebuild"):
            rebuilt = await bulk.restore(self.db, self.dsn, self.settings)
        if rebuilt:
            log.info(
                "import %s: built %d deferred index(es) again in %.1f s",
                self.job_id,
                rebuilt,
                time.monotonic() - rebuilt_from,
            )
        with self.phases.timed("finish_job"):
            job = await repo.finish_job(
                self.db, self.job_id, self.owner, status=status, warnings=warnings, **fields
            )
        if job is None:
            raise LeaseLost()
        metrics.record_job("import", status, self.committed)
        with contextlib.suppress(Exception):  # the file is not needed any more
            await self.resources.storage.delete(self.job["storage_key"])
        return job

    async def _tick(self) -> None:
        """Renew the lease (every lease_s / 3) and show progress (at least 200 rows and
        one second apart) with one cheap UPDATE."""
        shown = self.committed
        renewed = time.monotonic()
        renew_every = max(self.settings.lease_s / 3, 0.2)
        while True:
            await asyncio.sleep(min(PROGRESS_EVERY_S, renew_every))
            processed = self.committed + self.in_flight
            now = time.monotonic()
            if processed - shown < PROGRESS_EVERY_ROWS and now - renewed < renew_every:
                continue
            try:
                held = await repo.heartbeat(
                    self.db, self.job_id, self.owner, self.settings.lease_s, processed
                )
            except Exception:  # a transient failure; the batch commits renew it too
                log.warning("import %s: heartbeat failed", self.job_id, exc_info=True)
                continue
            if not held:  # taken over: the next batch's fence stops this run
                return
            shown, renewed = processed, now
