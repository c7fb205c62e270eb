"""Crash safety: a worker killed with SIGKILL mid-file, a second delivery while a live
lease is held, jobs left behind by a crashed process in embedded mode, progress."""

import asyncio
import signal
import time
import uuid
from urllib.parse import urlsplit

import psycopg2
import psycopg2.errors

from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.resources.database import is_transient
from contacts_api.plugins.imports import repository as repo
from contacts_api.plugins.imports.tasks import run_import
from tests.helpers import TcpProxy, url_via
from tests.plugins.imports.conftest import (
    WRITE,
    assert_completed_with,
    count,
    generate_csv,
    query,
    start_job,
    upload,
    wait_job,
)
from tests.plugins.imports.workers import start_import_worker, stop_worker


def _start_worker(settings, log_path):
    return start_import_worker(settings, log_path, CONTACTS_API__BROKER__REDELIVERY_IDLE_S="1")


_stop = stop_worker


async def test_a_killed_worker_s_job_resumes_with_exact_counts(
    import_client, settings_factory, tmp_path
):
    settings = settings_factory(
        CONTACTS_API__BROKER__BACKEND="redis",
        CONTACTS_API__BROKER__REDELIVERY_IDLE_S="1",
        CONTACTS_API__IMPORTS__LEASE_S="2",
        CONTACTS_API__IMPORTS__BATCH_SIZE="100",
    )
    content, expected = generate_csv(6000, bad_every=97, duplicate_every=13)
    client = await import_client(settings)
    first = _start_worker(settings, tmp_path / "first.log")
    second = None
    try:
        job_id = await start_job(client, content)
        deadline = time.monotonic() + 30
        while True:  # kill it mid-file: some batches committed, most not
            job = query(
                settings,
                "SELECT processed_rows, resume_row FROM import_jobs WHERE id = %s",
                (job_id,),
            )[0]
            if 0 < job["resume_row"] < 3000:
                break
            assert job["resume_row"] < 3000 and time.monotonic() < deadline, job
            await asyncio.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        stopped = query(settings, "SELECT * FROM import_jobs WHERE id = %s", (job_id,))[0]
        assert stopped["status"] == "processing"
        assert 0 < stopped["created_count"] + stopped["updated_count"] + stopped["error_count"]
        assert stopped["resume_row"] < 6000

        second = _start_worker(settings, tmp_path / "second.log")
        done = await wait_job(client, job_id, timeout=60)
        assert_completed_with(done, expected)
        assert done["total_rows"] == done["processed_rows"] == 6000
        assert count(settings, "contacts") == expected["created"]
        assert count(settings, "import_errors") == expected["errors"]
        assert count(settings, "companies") == 50
        duplicated = query(
            settings, "SELECT email FROM contacts GROUP BY email HAVING count(*) > 1"
        )
        assert duplicated == []
        resumed = query(settings, "SELECT attempts FROM import_jobs WHERE id = %s", (job_id,))
        assert resumed[0]["attempts"] == 2
        log = (tmp_path / "second.log").read_text()
        resumed_from = int(
            log.split(f"import {job_id}: started by ")[1].split(" from row ")[1].split()[0]
        )
        assert resumed_from == stopped["resume_row"] > 0  # resumed, not restarted
    finally:
        _stop(first)
        _stop(second)


async def _stored_job(resources, content: bytes) -> str:
    job_id = str(uuid.uuid4())
    key = f"imports/{job_id}.csv"

    async def chunks():
        yield content

    size = await resources.storage.write(key, chunks())
    await repo.create_job(resources.db, job_id, "x.csv", key, size)
    return job_id


async def test_a_second_delivery_waits_for_a_live_lease_then_takes_over_when_it_expires(
    import_client, settings_factory
):
    settings = settings_factory(CONTACTS_API__IMPORTS__LEASE_S="30")
    client = await import_client(settings)
    resources = client.app[RESOURCES]
    content, expected = generate_csv(300)
    job_id = await _stored_job(resources, content)
    query(
        settings,
        "UPDATE import_jobs SET status = 'processing', lease_owner = 'other', "
        "lease_expires_at = now() + interval '1.5 seconds' WHERE id = %s "
        "RETURNING id",
        (job_id,),
    )
    run = asyncio.create_task(run_import(resources, job_id))
    await asyncio.sleep(1)
    assert not run.done()
    job = await repo.get_job(resources.db, job_id)
    assert (job["lease_owner"], job["processed_rows"]) == ("other", 0)  # not run twice
    await asyncio.wait_for(run, 30)  # the other worker died: its lease expired
    job = await repo.get_job(resources.db, job_id)
    assert (job["status"], job["created_count"]) == ("completed", expected["created"])


async def test_a_second_delivery_returns_when_the_lease_holder_finishes(
    import_client, settings_factory
):
    settings = settings_factory(CONTACTS_API__IMPORTS__LEASE_S="30")
    client = await import_client(settings)
    resources = client.app[RESOURCES]
    job_id = await _stored_job(resources, generate_csv(10)[0])
    query(
        settings,
        "UPDATE import_jobs SET status = 'processing', lease_owner = 'other', "
        "lease_expires_at = now() + interval '30 seconds' WHERE id = %s "
        "RETURNING id",
        (job_id,),
    )
    run = asyncio.create_task(run_import(resources, job_id))
    await asyncio.sleep(0.5)
    query(
        settings,
        "UPDATE import_jobs SET status = 'completed', lease_owner = NULL "
        "WHERE id = %s RETURNING id",
        (job_id,),
    )
    await asyncio.wait_for(run, 30)
    assert count(settings, "contacts") == 0  # the holder's work is not redone


async def test_two_concurrent_deliveries_run_the_job_once(import_client, settings_factory):
    settings = settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE="50")
    client = await import_client(settings)
    resources = client.app[RESOURCES]
    content, expected = generate_csv(1500, bad_every=50, duplicate_every=7)
    job_id = await _stored_job(resources, content)
    await asyncio.wait_for(
        asyncio.gather(run_import(resources, job_id), run_import(resources, job_id)), 60
    )
    job = await repo.get_job(resources.db, job_id)
    assert job["attempts"] == 1
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (
        expected["created"],
        expected["updated"],
        expected["errors"],
    )
    assert count(settings, "contacts") == expected["created"]


async def test_embedded_mode_restarts_jobs_a_crashed_process_left(import_client, settings_factory):
    settings = settings_factory(CONTACTS_API__BROKER__BACKEND="memory")
    client = await import_client(settings)
    content, expected = generate_csv(500)
    job_id = await _stored_job(client.app[RESOURCES], content)
    query(
        settings,
        "UPDATE import_jobs SET status = 'processing', lease_owner = 'dead', "
        "lease_expires_at = now() - interval '1 second' WHERE id = %s "
        "RETURNING id",
        (job_id,),
    )
    restarted = await import_client(settings)  # a new process starting up
    job = await wait_job(restarted, job_id, timeout=30)
    assert (job["status"], job["created_count"]) == ("completed", expected["created"])


async def test_progress_moves_while_the_job_runs(import_client, settings_factory):
    settings = settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE="100")
    client = await import_client(settings)
    content, _ = generate_csv(4000)
    response = await upload(client, content)
    job_id = (await response.json())["id"]
    seen = set()
    while True:
        job = await (await client.get(f"/api/v1/contacts/import/{job_id}", headers=WRITE)).json()
        seen.add(job["processed_rows"])
        if job["status"] == "completed":
            break
        await asyncio.sleep(0.01)
    assert len({n for n in seen if 0 < n < 4000}) >= 3, sorted(seen)


async def test_a_batch_is_written_again_when_the_database_connection_drops(
    import_client, settings_factory, migrated_database_url, caplog
):
    """The database goes away mid-file (every connection dropped, new ones refused for
    a second): the task retries the batch and ends with exact counts, no row twice."""
    proxy = TcpProxy("127.0.0.1", urlsplit(migrated_database_url).port or 5432)
    port = await proxy.start()
    settings = settings_factory(
        DATABASE_URL=url_via(migrated_database_url, port), CONTACTS_API__IMPORTS__BATCH_SIZE="50"
    )
    client = await import_client(settings)
    resources = client.app[RESOURCES]
    content, expected = generate_csv(3000, bad_every=97, duplicate_every=13)
    job_id = await _stored_job(resources, content)
    direct = settings_factory()  # the same database, not through the proxy
    run = asyncio.create_task(run_import(resources, job_id))
    try:
        deadline = time.monotonic() + 30
        while (
            query(direct, "SELECT resume_row FROM import_jobs WHERE id = %s", (job_id,))[0][
                "resume_row"
            ]
            < 500
        ):
            assert not run.done() and time.monotonic() < deadline
            await asyncio.sleep(0.005)
        await proxy.stop()
        await asyncio.sleep(1.0)
        assert not run.done()  # waiting for the database, not failed
        await proxy.start()
        await asyncio.wait_for(run, 60)
    finally:
        await proxy.stop()
    job = query(direct, "SELECT * FROM import_jobs WHERE id = %s", (job_id,))[0]
    assert job["status"] == "completed", job
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (
        expected["created"],
        expected["updated"],
        expected["errors"],
    )
    assert count(direct, "contacts") == expected["created"]
    assert count(direct, "import_errors") == expected["errors"]
    assert query(direct, "SELECT email FROM contacts GROUP BY email HAVING count(*) > 1") == []
    assert "the database is unavailable" in caplog.text


def test_only_connection_failures_count_as_transient():
    assert is_transient(psycopg2.OperationalError("server closed the connection unexpectedly"))
    assert is_transient(psycopg2.InterfaceError("connection already closed"))
    assert is_transient(ConnectionResetError())
    assert is_transient(psycopg2.errors.AdminShutdown())  # the server restarting
    assert is_transient(psycopg2.errors.lookup("08006")())  # connection failure
    assert not is_transient(psycopg2.errors.QueryCanceled())  # a statement timeout
    assert not is_transient(psycopg2.errors.UniqueViolation())
    assert not is_transient(ValueError())


def _start_deploy_worker(settings, log_path, grace_s):
    """A worker as deployed: redelivery after the default 10 minutes, so that only a
    hand-back can make another worker resume within seconds."""
    return start_import_worker(
        settings, log_path, ready_s=60, CONTACTS_API__BROKER__SHUTDOWN_GRACE_S=str(grace_s)
    )


async def test_sigterm_mid_import_hands_the_job_to_another_worker_at_once(
    import_client, settings_factory, tmp_path
):
    """A deploy (issue 13): the stopped worker finishes its batch, releases the lease,
    hands the task back and exits cleanly within the grace period; the other worker
    resumes within seconds (not after the 10-minute redelivery, nor the 60 s lease)."""
    grace_s = 15
    settings = settings_factory(
        CONTACTS_API__BROKER__BACKEND="redis",
        CONTACTS_API__IMPORTS__LEASE_S="60",
        CONTACTS_API__IMPORTS__BATCH_SIZE="100",
    )
    assert settings.broker.redelivery_idle_s == 600
    content, expected = generate_csv(8000, bad_every=97, duplicate_every=13)
    client = await import_client(settings)
    workers, started = {}, []
    try:
        for name in ("a", "b"):
            process = _start_deploy_worker(settings, tmp_path / f"{name}.log", grace_s)
            started.append(process)
            workers[process.pid] = (process, tmp_path / f"{name}.log")
        job_id = await start_job(client, content)
        deadline = time.monotonic() + 60
        while True:  # mid-file: some batches committed, most not
            job = query(settings, "SELECT * FROM import_jobs WHERE id = %s", (job_id,))[0]
            if job["lease_owner"] and 0 < job["resume_row"] < 4000:
                break
            assert job["resume_row"] < 4000 and time.monotonic() < deadline, job
            await asyncio.sleep(0.005)
        holder_pid = int(job["lease_owner"].split(":")[1])
        holder, holder_log = workers.pop(holder_pid)
        ((other, other_log),) = workers.values()

        stopped_at = time.monotonic()
        holder.send_signal(signal.SIGTERM)
        resumed_after = None
        while resumed_after is None or holder.poll() is None:
            if resumed_after is None and f"import {job_id}: started by" in other_log.read_text():
                resumed_after = time.monotonic() - stopped_at
            assert time.monotonic() - stopped_at < grace_s, "no exit or no resume in time"
            await asyncio.sleep(0.02)
        exited_after = time.monotonic() - stopped_at
        assert holder.returncode == 0
        assert resumed_after < 10 and exited_after < grace_s
        log = holder_log.read_text()
        assert "handed back" in log, log
        for bad in ("ERROR", "Traceback", "Cannot acquire connection"):
            assert bad not in log, log

        done = await wait_job(client, job_id, timeout=120)
        assert_completed_with(done, expected)
        assert done["total_rows"] == done["processed_rows"] == 8000
        assert count(settings, "contacts") == expected["created"]
        assert count(settings, "import_errors") == expected["errors"]
        resumed_from = int(
            other_log.read_text()
            .split(f"import {job_id}: started by ")[1]
            .split(" from row ")[1]
            .split()[0]
        )
        assert resumed_from > 0  # resumed, not restarted
    finally:
        for process in started:
            _stop(process)
