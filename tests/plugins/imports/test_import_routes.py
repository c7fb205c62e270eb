"""The import routes (docs/api.md "Import"): upload, refusals, job pages, auth, S3."""

from pathlib import Path

import aiohttp
from yarl import URL

from tests.conftest import s3_env
from tests.plugins.imports.conftest import (
    SAMPLES,
    WRITE,
    count,
    import_bytes,
    upload,
    wait_job,
)

SAMPLE = (SAMPLES / "contacts-import.csv").read_bytes()


def _stored_files(settings) -> list[Path]:
    root = Path(settings.storage.local_path)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_upload_answers_202_with_the_job_and_the_job_completes(
    import_client, memory_settings
):
    client = await import_client(memory_settings)
    response = await upload(client, SAMPLE, "my leads.csv")
    assert response.status == 202
    job = await response.json()
    assert job["status"] in ("pending", "processing", "completed")
    assert set(job) >= {
        "id",
        "status",
        "file_name",
        "total_rows",
        "processed_rows",
        "created_count",
        "updated_count",
        "error_count",
        "error",
        "warnings",
        "created_at",
        "started_at",
        "finished_at",
    }
    assert job["file_name"] == "my leads.csv" and job["created_at"].endswith("Z")
    done = await wait_job(client, job["id"])
    assert done["status"] == "completed" and done["finished_at"].endswith("Z")
    assert (done["total_rows"], done["processed_rows"], done["created_count"]) == (25, 25, 25)
    assert _stored_files(memory_settings) == []  # the upload is deleted once imported


async def test_an_import_makes_cached_list_pages_stale(import_client, settings_factory):
    settings = settings_factory(
        CONTACTS_API__BROKER__BACKEND="memory", CONTACTS_API__CONTACTS__LIST_CACHE_ENABLED="true"
    )
    client = await import_client(settings)

    async def listed() -> int:
        page = await (await client.get("/api/v1/contacts/?limit=100", headers=WRITE)).json()
        return len(page["results"])

    assert await listed() == 0  # now cached
    assert (await import_bytes(client, SAMPLE))["status"] == "completed"
    assert await listed() == 25


async def test_job_list_is_newest_first_and_paginated(import_client, memory_settings):
    client = await import_client(memory_settings)
    ids = [(await import_bytes(client, SAMPLE, f"f{i}.csv"))["id"] for i in range(3)]
    response = await client.get("/api/v1/contacts/import/?limit=2", headers=WRITE)
    page = await response.json()
    assert [job["id"] for job in page["results"]] == ids[::-1][:2]
    assert page["previous"] is None and page["next"].startswith("http")
    page = await (await client.get(URL(page["next"]).path_qs, headers=WRITE)).json()
    assert [job["id"] for job in page["results"]] == ids[:1]
    assert page["next"] is None and page["previous"]
    response = await client.get("/api/v1/contacts/import?limit=101", headers=WRITE)
    assert response.status == 422 and (await response.json())["error_code"] == "VALIDATION_ERROR"


async def test_job_list_pages_by_cursor_even_while_jobs_are_added(import_client, memory_settings):
    client = await import_client(memory_settings)
    ids = [(await import_bytes(client, SAMPLE, f"f{i}.csv"))["id"] for i in range(5)]
    page = await (await client.get("/api/v1/contacts/import/?limit=2", headers=WRITE)).json()
    seen = [job["id"] for job in page["results"]]
    token = URL(page["next"]).query["cursor"]
    added = (await import_bytes(client, SAMPLE, "new.csv"))["id"]  # not on a later page
    while page["next"]:
        assert "cursor=" in page["next"] and "limit=2" in page["next"]
        page = await (await client.get(URL(page["next"]).path_qs, headers=WRITE)).json()
        seen += [job["id"] for job in page["results"]]
        assert page["previous"] and "cursor" not in URL(page["previous"]).query
    assert seen == ids[::-1] and added not in seen
    tampered = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in ("nonsense", tampered):
        response = await client.get(f"/api/v1/contacts/import/?cursor={bad}", headers=WRITE)
        assert response.status == 422, await response.text()
        assert (await response.json())["error_code"] == "VALIDATION_ERROR"


async def test_unknown_or_malformed_job_ids_are_404(import_client, memory_settings):
    client = await import_client(memory_settings)
    for path in (
        "/api/v1/contacts/import/3f1c1b7e-0000-4000-8000-000000000000/",
        "/api/v1/contacts/import/not-a-uuid/",
        "/api/v1/contacts/import/3f1c1b7e-0000-4000-8000-000000000000/errors/",
    ):
        response = await client.get(path, headers=WRITE)
        assert response.status == 404, path
        assert (await response.json())["error_code"] == "NOT_FOUND"


async def test_bad_uploads_are_400_and_store_nothing(import_client, memory_settings):
    client = await import_client(memory_settings)
    not_multipart = await client.post("/api/v1/contacts/import/", json={"file": "x"}, headers=WRITE)
    form = aiohttp.FormData()
    form.add_field("other", b"first_name\nAda\n", filename="x.csv")
    no_file = await client.post("/api/v1/contacts/import/", data=form, headers=WRITE)
    empty = await upload(client, b"")
    blank = await upload(client, b"  \r\n\n  \n")
    for response in (not_multipart, no_file, empty, blank):
        assert response.status == 400
        assert (await response.json())["error_code"] == "BAD_REQUEST"
    assert "empty" in (await empty.json())["detail"]
    assert count(memory_settings, "import_jobs") == 0
    assert _stored_files(memory_settings) == []


async def test_upload_over_the_limit_is_413_and_stores_nothing(import_client, settings_factory):
    settings = settings_factory(CONTACTS_API__IMPORTS__MAX_UPLOAD_BYTES="4096")
    client = await import_client(settings)
    response = await upload(client, SAMPLE)
    assert len(SAMPLE) > 4096
    assert response.status == 413
    assert (await response.json())["error_code"] == "PAYLOAD_TOO_LARGE"
    assert count(settings, "import_jobs") == 0
    assert _stored_files(settings) == []
    response = await upload(client, SAMPLE[:4000].rsplit(b"\n", 1)[0] + b"\n")
    assert response.status == 202  # under the limit


async def test_upload_needs_the_write_key_and_reads_need_a_credential(
    import_client, memory_settings
):
    client = await import_client(memory_settings)
    form = aiohttp.FormData()
    form.add_field("file", SAMPLE, filename="x.csv")
    response = await client.post("/api/v1/contacts/import/", data=form)
    assert response.status == 403
    assert (await response.json())["error_code"] == "INVALID_WRITE_KEY"
    response = await client.get("/api/v1/contacts/import/")
    assert response.status == 401
    assert (await response.json())["error_code"] == "NOT_AUTHENTICATED"
    assert count(memory_settings, "import_jobs") == 0


async def test_upload_and_import_through_s3_storage(
    import_client, settings_factory, s3_endpoint, s3_bucket
):
    settings = settings_factory(**s3_env(s3_endpoint, s3_bucket))
    assert settings.storage.uses_s3
    client = await import_client(settings)
    job = await import_bytes(client, (SAMPLES / "apollo-contacts-export-2025-11.csv").read_bytes())
    assert (job["status"], job["created_count"]) == ("completed", 25)
    assert (count(settings, "contacts"), count(settings, "companies")) == (25, 12)
