"""Import and export calls (services/import.ts, services/export/*, the
ExportModal and history page): job_id, success_count, its status words,
errors as an array, /exports/{id}/status, /download?token=, {exports, total}."""

import asyncio

import aiohttp
from yarl import URL

from tests.plugins.auth_jwt import set_user
from tests.plugins.contact360_compat.fields import LIST, NUM, OPT_STR, STR, check

CSV = (
    "first_name,last_name,email,title,company,employees,city\n"
    "Jason,Green,jason@bakerandsons.com,CEO,Baker & Sons,340,Houston\n"
    "Michelle,Jensen,michelle@lumiere.fr,Account Executive,Lumiere,45,Lyon\n"
    "Broken,Row,not-an-email,Engineer,,,\n"
)
# ImportJob (services/import.ts)
IMPORT_JOB = {
    "job_id": STR,
    "status": STR,
    "total_rows": NUM,
    "success_count": NUM,
    "error_count": NUM,
    "upload_file_path": STR,
    "error_file_path": OPT_STR,
    "message": STR,
    "started_at": OPT_STR,
    "finished_at": OPT_STR,
    "created_at": STR,
    "updated_at": STR,
}
IMPORT_STATUSES = {"pending", "running", "completed", "failed"}
# ExportListItem / CreateContactExportResponse / ExportStatusResponse
EXPORT_ITEM = {
    "export_id": STR,
    "user_id": STR,
    "export_type": STR,
    "contact_count": NUM,
    "company_count": NUM,
    "status": STR,
    "created_at": STR,
    "expires_at": OPT_STR,
    "download_url": OPT_STR,
}
EXPORT_STATUS = {
    "export_id": STR,
    "status": STR,
    "progress_percentage": NUM,
    "error_message": OPT_STR,
    "download_url": OPT_STR,
    "expires_at": OPT_STR,
}
EXPORT_STATUSES = {"pending", "processing", "completed", "failed", "cancelled"}


def _form(text: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", text.encode(), filename="leads.csv", content_type="text/csv")
    return form


async def _poll(fetch, done, timeout: float = 30):
    """What pollImportJobStatus / pollExportStatus do, faster."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = await fetch()
        if done(body):
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)


async def test_import_a_csv_and_watch_it_finish(app):
    info = await app.json("GET", "/api/v1/contacts/import/")
    check(info, {"detail": STR})
    started = await app.json("POST", "/api/v1/contacts/import/", status=202, data=_form(CSV))
    check(started, IMPORT_JOB, "upload")
    assert started["status"] in IMPORT_STATUSES
    job_id = started["job_id"]

    async def fetch():
        return await app.json("GET", f"/api/v1/contacts/import/{job_id}/")

    job = await _poll(fetch, lambda j: j["status"] in ("completed", "failed"))
    check(job, IMPORT_JOB, "job")
    assert job["status"] == "completed"
    assert (job["total_rows"], job["success_count"], job["error_count"]) == (3, 2, 1)

    with_errors = await app.json("GET", f"/api/v1/contacts/import/{job_id}/?include_errors=true")
    check(with_errors, {**IMPORT_JOB, "errors": LIST}, "job with errors")
    errors = await app.json("GET", f"/api/v1/contacts/import/{job_id}/errors/")
    assert isinstance(errors, list) and errors == with_errors["errors"]
    check(errors[0], {"row_number": NUM, "error_message": STR}, "import error")
    assert errors[0]["row_number"] == 3

    contacts = await app.json("GET", "/api/v1/contacts/?search=jensen&page_size=25")
    assert [c["company"] for c in contacts["results"]] == ["Lumiere"]


async def test_import_is_for_administrators(client, app):
    await set_user(client, app.user["id"], role="user")
    response = await app.request("POST", "/api/v1/contacts/import/", data=_form(CSV))
    assert response.status == 403


async def test_import_without_a_file_is_400(app):
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="x.csv")
    body = await app.json("POST", "/api/v1/contacts/import/", status=400, data=form)
    assert "file" in body["detail"]


async def test_unknown_job_is_404(app):
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await app.request("GET", f"/api/v1/contacts/import/{missing}/")).status == 404


async def test_export_status_download_and_history(app, seeded):
    uuids = [c["uuid"] for c in seeded["contacts"][:3]]
    created = await app.json(
        "POST", "/api/v2/exports/contacts/export", status=202, json={"contact_uuids": uuids}
    )
    check(created, {**EXPORT_ITEM, "job_id": STR}, "export created")
    assert created["status"] in EXPORT_STATUSES
    export_id = created["export_id"]

    async def fetch():
        return await app.json("GET", f"/api/v2/exports/{export_id}/status")

    status = await _poll(fetch, lambda s: s["status"] in ("completed", "failed"))
    check(status, EXPORT_STATUS, "export status")
    assert status["status"] == "completed" and status["progress_percentage"] == 100

    # ExportModal: new URL(download_url).searchParams.get('token'), then
    # GET /api/v2/exports/{id}/download?token=... with the bearer token
    link = URL(status["download_url"])
    assert link.path.endswith(f"/api/v2/exports/{export_id}/download")
    token = link.query["token"]
    response = await app.request("GET", f"/api/v2/exports/{export_id}/download?token={token}")
    assert response.status == 200
    assert response.content_type == "text/csv"
    text = await response.text()
    assert "ada@techcorp.com" in text and text.count("\n") == 4  # header + 3 rows

    history = await app.json("GET", "/api/v2/exports/")
    check(history, {"exports": LIST, "total": NUM}, "export list")
    assert history["total"] == 1
    item = history["exports"][0]
    check(item, EXPORT_ITEM, "export list item")
    assert item["contact_count"] == 3 and item["download_url"]


async def test_download_with_a_bad_token_is_refused(app, seeded):
    created = await app.json(
        "POST",
        "/api/v2/exports/contacts/export",
        status=202,
        json={"contact_uuids": [seeded["contacts"][0]["uuid"]]},
    )
    export_id = created["export_id"]
    response = await app.request("GET", f"/api/v2/exports/{export_id}/download?token=forged")
    assert response.status == 403


async def test_export_without_contacts_is_422(app):
    body = await app.json(
        "POST", "/api/v2/exports/contacts/export", status=422, json={"contact_uuids": []}
    )
    assert body["error_code"] == "VALIDATION_ERROR"


async def test_another_users_export_is_404(client, app, seeded):
    from tests.plugins.auth_jwt import bearer, register

    created = await app.json(
        "POST",
        "/api/v2/exports/contacts/export",
        status=202,
        json={"contact_uuids": [seeded["contacts"][0]["uuid"]]},
    )
    other = await register(client, "eve@example.com")
    response = await client.get(
        f"/contact360/api/v2/exports/{created['export_id']}/status",
        headers=bearer(other["access_token"]),
    )
    assert response.status == 404


async def test_company_export_in_the_apps_dialect(app, seeded):
    uuids = [c["uuid"] for c in seeded["companies"]]
    created = await app.json(
        "POST", "/api/v2/exports/companies/export", status=202, json={"company_uuids": uuids}
    )
    check(created, {**EXPORT_ITEM, "job_id": STR}, "company export created")
    assert created["export_type"] == "companies"
    export_id = created["export_id"]

    async def fetch():
        return await app.json("GET", f"/api/v2/exports/{export_id}/status")

    status = await _poll(fetch, lambda s: s["status"] in ("completed", "failed"))
    assert status["status"] == "completed"
    token = URL(status["download_url"]).query["token"]
    response = await app.request("GET", f"/api/v2/exports/{export_id}/download?token={token}")
    text = await response.text()
    assert text.splitlines()[0].endswith(",uuid,contacts_count") and text.count("\n") == 3
    history = await app.json("GET", "/api/v2/exports/")
    assert history["exports"][0]["company_count"] == 2
