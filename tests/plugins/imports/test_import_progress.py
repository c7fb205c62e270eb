"""Jobs users can follow (issue 13): a total from the start (counted, or estimated from
the file size and flagged), and a file unreadable mid-way that fails its job with the
committed batches counted and the row named."""

import asyncio
import time

from tests.plugins.imports.conftest import (
    WRITE,
    count,
    generate_csv,
    import_bytes,
    upload,
    wait_job,
)


async def test_a_small_file_s_total_is_counted_at_once(import_client, memory_settings):
    client = await import_client(memory_settings)
    content, _ = generate_csv(40)
    job = await import_bytes(client, content + b"\n\n")  # blank lines are not rows
    assert (job["total_rows"], job["total_rows_estimated"]) == (40, False)


async def test_a_large_file_s_total_is_estimated_from_the_start_then_exact(
    import_client, settings_factory
):
    settings = settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE="200")
    client = await import_client(settings)
    content, _ = generate_csv(8000)
    assert len(content) > 10 * 64 * 1024
    response = await upload(client, content)
    job_id = (await response.json())["id"]
    seen = None
    deadline = time.monotonic() + 60
    while seen is None:
        job = await (await client.get(f"/api/v1/contacts/import/{job_id}/", headers=WRITE)).json()
        if job["status"] == "processing" and job["total_rows"] is not None:
            seen = job
        assert job["status"] != "completed" and time.monotonic() < deadline, job
        await asyncio.sleep(0.01)
    assert seen["total_rows_estimated"] is True
    assert 0.9 * 8000 < seen["total_rows"] < 1.1 * 8000, seen
    done = await wait_job(client, job_id, timeout=120)
    assert (done["total_rows"], done["total_rows_estimated"]) == (8000, False)


async def test_a_file_unreadable_mid_way_fails_with_its_committed_batches_counted(
    import_client, settings_factory
):
    settings = settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE="100")
    client = await import_client(settings)
    content, _ = generate_csv(500)
    # An unclosed quote swallows the rest of the file: a cell over the csv limit.
    broken = content + b'Late,Row,"late@example.com,' + b"x" * (200 * 1024) + b"\n"
    job = await import_bytes(client, broken)
    assert job["status"] == "failed", job
    assert (job["created_count"], job["processed_rows"]) == (500, 500)
    assert job["error"].startswith("The file cannot be read past this point: row 501"), job
    assert count(settings, "contacts") == 500
