"""Exports end to end: request, background task, download, CSV content."""

import asyncio
import datetime as dt
import urllib.request
import uuid

import pytest
import sqlalchemy as sa

from contacts_api.core.appkeys import RESOURCES
from contacts_api.plugins.exports.tables import exports
from contacts_api.plugins.exports.task import run_export
from contacts_api.plugins.imports.columns import EXPORT_COLUMNS
from tests.conftest import s3_env
from tests.plugins.exports.conftest import as_user, parse_csv, seed, wait_done

ALICE, BOB = as_user("alice"), as_user("bob")

PEOPLE = [
    {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@techcorp.com",
        "title": "Chief Executive Officer",
        "seniority": "c_suite",
        "departments": ["executive", "engineering"],
        "email_status": "verified",
        "mobile_phone": "+1 555 0100",
        "city": "London",
        "country": "United Kingdom",
        "linkedin_url": "https://www.linkedin.com/in/ada",
        "meta": {"work_direct_phone": "+44 20 7946 0000", "stage": "Lead"},
        "company": {
            "name": "TechCorp",
            "domain": "techcorp.com",
            "employees_count": 120,
            "industries": ["computer software"],
            "keywords": ["saas", "crm"],
            "technologies": ["salesforce", "aws"],
            "annual_revenue": 12000000,
            "total_funding": 3000000,
            "city": "London",
            "country": "United Kingdom",
        },
        "company_meta": {
            "website": "https://www.techcorp.com",
            "phone_number": "+44 1",
            "latest_funding": "Series A",
            "latest_funding_amount": 3000000,
            "last_raised_at": "2024-05-01",
        },
    },
    {
        "first_name": "Jürgen",
        "last_name": "Groß",
        "email": "jurgen@baumann.de",
        "title": "CTO",
        "country": "Germany",
        "company": {"name": "Baumann GmbH", "domain": "baumann.de"},
    },
    {"first_name": "Nobody", "last_name": "Without", "title": "Freelancer", "country": "Germany"},
    {
        "first_name": '=HYPERLINK("http://evil")',
        "last_name": "+cmd",
        "email": "evil@x.io",
        "title": "@SUM(A1)",
        "city": "\tTabbed",
        "country": "-1+1",
        "company": {"name": "=Company", "domain": "x.io", "keywords": ["-minus", "ok"]},
    },
]


# The company cells of TechCorp (PEOPLE[0]'s company) in an export, as written.
TECHCORP_CELLS = {
    "company": "TechCorp",
    "company_name_for_emails": "",
    "website": "https://www.techcorp.com",
    "company_linkedin_url": "",
    "employees": "120",
    "industry": "computer software",
    "keywords": "saas, crm",
    "technologies": "salesforce, aws",
    "company_address": "",
    "company_city": "London",
    "company_state": "",
    "company_country": "United Kingdom",
    "company_phone": "'+44 1",
    "annual_revenue": "12000000",
    "total_funding": "3000000",
    "latest_funding_amount": "3000000",
    "latest_funding": "Series A",
    "last_raised_at": "2024-05-01",
}


async def _export(client, body, headers=ALICE):
    response = await client.post("/api/v2/exports/contacts/export", json=body, headers=headers)
    assert response.status == 202, await response.text()
    created = await response.json()
    assert created["status"] in ("pending", "processing", "completed")
    return await wait_done(client, created["id"])


def _path(url: str) -> str:
    """The test client takes paths; the API answers absolute URLs."""
    return url[url.index("/api/") :]


async def _download(client, export_id, headers=ALICE) -> bytes:
    link = await (await client.get(f"/api/v2/exports/{export_id}/download", headers=headers)).json()
    assert dt.datetime.fromisoformat(link["expires_at"]) > dt.datetime.now(dt.UTC)
    assert link["download_url"].startswith(str(client.make_url("/api/v2/exports/")))
    response = await client.get(_path(link["download_url"]))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    return await response.read()


async def test_export_by_uuids_matches_the_database(export_client, settings):
    client = await export_client(settings)
    ids = await seed(client, PEOPLE)
    export = await _export(client, {"contact_uuids": [str(ids[0]), str(ids[2])]})
    assert export["status"] == "completed" and export["row_count"] == 2 and not export["error"]
    data = await _download(client, export["id"])
    assert data.splitlines()[0].decode() == ",".join(EXPORT_COLUMNS)
    rows = {row["uuid"]: row for row in parse_csv(data)}
    assert set(rows) == {str(ids[0]), str(ids[2])}
    ada = rows[str(ids[0])]
    company_uuid = await client.app[RESOURCES].db.fetch_val(
        "SELECT company_uuid FROM contacts WHERE uuid = %(u)s", {"u": ids[0]}
    )
    assert ada == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@techcorp.com",
        "title": "Chief Executive Officer",
        "seniority": "c_suite",
        "departments": "executive, engineering",
        "email_status": "verified",
        "mobile_phone": "'+1 555 0100",
        "work_direct_phone": "'+44 20 7946 0000",
        "home_phone": "",
        "other_phone": "",
        "person_linkedin_url": "https://www.linkedin.com/in/ada",
        "facebook_url": "",
        "twitter_url": "",
        "stage": "Lead",
        "city": "London",
        "state": "",
        "country": "United Kingdom",
        **TECHCORP_CELLS,
        "uuid": str(ids[0]),
        "company_uuid": str(company_uuid),
    }
    nobody = rows[str(ids[2])]
    assert nobody["company"] == "" and nobody["company_uuid"] == "" and nobody["email"] == ""


async def test_export_by_filters(export_client, settings):
    client = await export_client(settings)
    ids = await seed(client, PEOPLE)
    export = await _export(client, {"filters": {"country": ["germany"]}})
    rows = parse_csv(await _download(client, export["id"]))
    assert sorted(r["uuid"] for r in rows) == sorted(str(i) for i in ids[1:3])
    assert export["row_count"] == 2
    assert {r["first_name"] for r in rows} == {"Jürgen", "Nobody"}  # UTF-8 kept


async def test_formula_cells_are_neutralized(export_client, settings):
    client = await export_client(settings)
    ids = await seed(client, PEOPLE)
    export = await _export(client, {"contact_uuids": [str(ids[3])]})
    row = parse_csv(await _download(client, export["id"]))[0]
    assert row["first_name"] == '\'=HYPERLINK("http://evil")'
    assert row["last_name"] == "'+cmd" and row["title"] == "'@SUM(A1)"
    assert row["city"] == "'\tTabbed" and row["country"] == "'-1+1"
    assert row["company"] == "'=Company" and row["keywords"] == "'-minus, ok"
    assert row["email"] == "evil@x.io"


async def test_formulas_behind_spaces_and_separators_are_neutralized(export_client, settings):
    """OWASP: a formula may hide behind leading spaces or a separator-like prefix."""
    client = await export_client(settings)
    hidden = {
        "first_name": ";=cmd|' /C calc'!A0",
        "last_name": " =1+1",
        "title": ", @SUM(A1)",
        "city": ";;  -2+3",
        "country": "Plain; =not at the start",
    }
    ids = await seed(client, [{"email": "hidden@x.io", **hidden}])
    export = await _export(client, {"contact_uuids": [str(ids[0])]})
    row = parse_csv(await _download(client, export["id"]))[0]
    for key in ("first_name", "last_name", "title", "city"):
        assert row[key] == "'" + hidden[key], key
    assert row["country"] == hidden["country"]  # a formula char in the middle is harmless


@pytest.mark.parametrize(
    "body, loc",
    [
        ({}, ["body"]),
        ({"contact_uuids": []}, ["body", "contact_uuids"]),
        ({"contact_uuids": ["not-a-uuid"]}, ["body", "contact_uuids", 0]),
        ({"filters": {}}, ["body", "filters"]),
        ({"filters": {"no_such_filter": ["x"]}}, ["body", "filters", "no_such_filter"]),
        ({"filters": {"employees_min": ["many"]}}, ["body", "filters", "employees_min"]),
        ({"filters": {"title": [""]}}, ["body", "filters"]),
        ({"contact_uuids": [str(uuid.uuid4())], "filters": {"title": ["x"]}}, ["body"]),
        ({"contact_uuids": [str(uuid.uuid4())], "extra": 1}, ["body", "extra"]),
    ],
)
async def test_bad_requests_are_422_naming_the_field(export_client, settings, body, loc):
    client = await export_client(settings)
    response = await client.post("/api/v2/exports/contacts/export", json=body, headers=ALICE)
    assert response.status == 422
    payload = await response.json()
    assert payload["error_code"] == "VALIDATION_ERROR"
    assert loc in [e["loc"] for e in payload["errors"]]


async def test_apollo_url_needs_the_apollo_plugin(export_client, settings_factory):
    client = await export_client(settings_factory(CONTACTS_API__PLUGINS__BLOCKED="apollo"))
    response = await client.post(
        "/api/v2/exports/contacts/export",
        headers=ALICE,
        json={"apollo_url": "https://app.apollo.io/#/people"},
    )
    body = await response.json()
    assert response.status == 422 and "apollo plugin" in body["detail"]


async def test_exports_need_a_caller_and_belong_to_it(export_client, settings):
    client = await export_client(settings)
    ids = await seed(client, PEOPLE[:1])
    anonymous = await client.post(
        "/api/v2/exports/contacts/export", json={"contact_uuids": [str(ids[0])]}
    )
    assert anonymous.status == 401
    export = await _export(client, {"contact_uuids": [str(ids[0])]})
    for path in (f"/api/v2/exports/{export['id']}", f"/api/v2/exports/{export['id']}/download"):
        response = await client.get(path, headers=BOB)
        assert response.status == 404 and (await response.json())["error_code"] == "NOT_FOUND"
    assert (await (await client.get("/api/v2/exports", headers=BOB)).json())["results"] == []
    mine = await (await client.get("/api/v2/exports/", headers=ALICE)).json()
    assert [e["id"] for e in mine["results"]] == [export["id"]]
    assert (await client.get("/api/v2/exports/not-a-uuid", headers=ALICE)).status == 404


async def test_list_is_newest_first_and_pages(export_client, settings):
    client = await export_client(settings)
    ids = await seed(client, PEOPLE[:1])
    made = [(await _export(client, {"contact_uuids": [str(ids[0])]}))["id"] for _ in range(5)]
    first = await (await client.get("/api/v2/exports?limit=2", headers=ALICE)).json()
    assert first["previous"] is None and first["next"].startswith("http://")
    seen = [e["id"] for e in first["results"]]
    page = first
    while page["next"]:
        page = await (await client.get(_path(page["next"]), headers=ALICE)).json()
        seen += [e["id"] for e in page["results"]]
    assert seen == list(reversed(made))
    bad = await client.get("/api/v2/exports?cursor=tampered", headers=ALICE)
    assert bad.status == 422 and (await bad.json())["errors"][0]["loc"] == ["query", "cursor"]


async def test_download_before_completion_is_409(export_client, settings):
    client = await export_client(settings)
    export_id = await client.app[RESOURCES].db.fetch_val(
        sa.insert(exports)
        .values(
            owner_id="alice",
            status="processing",
            selection={"contact_uuids": []},
            file_name="x.csv",
            storage_key="exports/x.csv",
            row_count=0,
        )
        .returning(exports.c.id)
    )
    response = await client.get(f"/api/v2/exports/{export_id}/download", headers=ALICE)
    body = await response.json()
    assert response.status == 409 and body["error_code"] == "CONFLICT"
    assert "processing" in body["detail"]


async def test_local_links_expire_and_refuse_tampering(export_client, settings_factory):
    client = await export_client(settings_factory(CONTACTS_API__EXPORTS__LINK_TTL_S="1"))
    ids = await seed(client, PEOPLE[:1])
    export = await _export(client, {"contact_uuids": [str(ids[0])]})
    other = await _export(client, {"contact_uuids": [str(ids[0])]})
    link = (
        await (await client.get(f"/api/v2/exports/{export['id']}/download", headers=ALICE)).json()
    )["download_url"]
    path = _path(link)
    assert (await client.get(path)).status == 200  # the link itself is the credential
    for bad in (
        path[:-3] + "AAA",
        path.replace(export["id"], other["id"]),
        path.split("?")[0] + "?token=",
        path.split("?")[0],
    ):
        refused = await client.get(bad)
        assert refused.status == 403 and (await refused.json())["error_code"] == "FORBIDDEN"
    await asyncio.sleep(2.1)
    expired = await client.get(path)
    assert expired.status == 403


async def test_s3_export_downloads_through_a_presigned_url(
    export_client, settings_factory, s3_endpoint, s3_bucket
):
    client = await export_client(settings_factory(**s3_env(s3_endpoint, s3_bucket)))
    ids = await seed(client, PEOPLE)
    export = await _export(client, {"filters": {"email": ["techcorp"]}})
    link = await (
        await client.get(f"/api/v2/exports/{export['id']}/download", headers=ALICE)
    ).json()
    assert link["download_url"].startswith(s3_endpoint) and "Signature" in link["download_url"]
    with urllib.request.urlopen(link["download_url"], timeout=10) as response:
        rows = parse_csv(response.read())
    assert [r["uuid"] for r in rows] == [str(ids[0])]
    again = await (
        await client.get(f"/api/v2/exports/{export['id']}/download", headers=ALICE)
    ).json()
    assert again["download_url"] != link["download_url"] or again["expires_at"]  # fresh mint


async def test_failing_upload_leaves_no_partial_object(
    export_client, settings_factory, s3_endpoint, s3_bucket
):
    client = await export_client(settings_factory(**s3_env(s3_endpoint, s3_bucket)))
    db = client.app[RESOURCES].db
    # More than one 8 MiB part of CSV. The bulk sits in contact_metadata.twitter_url,
    # which has no trigram index: long indexed titles made this insert outlast
    # the pool's statement timeout on a loaded machine.
    await db.execute("""INSERT INTO contacts (first_name, last_name, email)
        SELECT 'First' || i, 'Last' || i, 'p' || i || '@example.com'
        FROM generate_series(1, 20000) AS i""")
    await db.execute("""INSERT INTO contact_metadata (contact_uuid, twitter_url)
        SELECT uuid, 'https://x.com/' || repeat('a-long-path/', 50) FROM contacts""")
    storage = client.app[RESOURCES].storage
    real_upload_part = storage.client.upload_part

    async def failing_upload_part(**kwargs):
        if kwargs["PartNumber"] >= 2:
            raise RuntimeError("network down")
        return await real_upload_part(**kwargs)

    storage.client.upload_part = failing_upload_part
    try:
        export = await _export(client, {"filters": {"email": ["example.com"]}})
    finally:
        storage.client.upload_part = real_upload_part
    assert export["status"] == "failed" and export["error"]
    assert "network down" not in export["error"]  # internals stay in the log
    listing = await storage.client.list_objects_v2(Bucket=s3_bucket)
    assert listing.get("KeyCount", 0) == 0
    uploads = await storage.client.list_multipart_uploads(Bucket=s3_bucket)
    assert uploads.get("Uploads", []) == []


async def test_redelivered_task_of_a_finished_export_does_nothing(export_client, settings):
    client = await export_client(settings)
    ids = await seed(client, PEOPLE[:2])
    export = await _export(client, {"contact_uuids": [str(i) for i in ids]})
    await client.app[RESOURCES].db.execute("DELETE FROM contacts")
    await run_export(client.app[RESOURCES], export_id=export["id"])
    again = await wait_done(client, export["id"])
    assert again["row_count"] == 2 and again["finished_at"] == export["finished_at"]


async def test_purge_deletes_old_exports_and_their_files(export_client, settings):
    from contacts_api.plugins.exports.purge import purge_exports

    client = await export_client(settings)
    ids = await seed(client, PEOPLE[:1])
    old = await _export(client, {"contact_uuids": [str(ids[0])]})
    recent = await _export(client, {"contact_uuids": [str(ids[0])]})
    resources = client.app[RESOURCES]
    await resources.db.execute(
        "UPDATE exports SET created_at = now() - interval '10 days' WHERE id = %(id)s",
        {"id": old["id"]},
    )
    keys = {e["id"]: f"exports/{e['id']}.csv" for e in (old, recent)}
    assert all([await resources.storage.exists(k) for k in keys.values()])
    assert await purge_exports(resources, dt.timedelta(days=7)) == 1
    assert not await resources.storage.exists(keys[old["id"]])
    assert await resources.storage.exists(keys[recent["id"]])
    assert (await client.get(f"/api/v2/exports/{old['id']}", headers=ALICE)).status == 404
    assert (await client.get(f"/api/v2/exports/{recent['id']}", headers=ALICE)).status == 200


def test_purge_command(settings, capsys, monkeypatch):
    from contacts_api.core.cli import main

    monkeypatch.setenv("DATABASE_URL", settings.database.url.reveal())
    monkeypatch.setenv("CONTACTS_API__STORAGE__LOCAL_PATH", settings.storage.local_path)
    assert main(["exports", "purge", "--older-than-days", "30"]) == 0
    assert "deleted 0 export(s) older than 30 day(s)" in capsys.readouterr().out


async def test_export_by_apollo_url(export_client, settings):
    client = await export_client(settings)
    ids = await seed(client, PEOPLE)
    url = (
        "https://app.apollo.io/#/people?personLocations[]=Germany"
        "&personTitles[]=cto&uniqueUrlId=abc"
    )
    export = await _export(client, {"apollo_url": url})
    rows = parse_csv(await _download(client, export["id"]))
    assert [r["uuid"] for r in rows] == [str(ids[1])]  # the German CTO, by Apollo's rules
    bad = await client.post(
        "/api/v2/exports/contacts/export",
        headers=ALICE,
        json={"apollo_url": "https://app.apollo.io/#/lists/abc"},
    )
    assert bad.status == 422 and "saved list" in (await bad.json())["detail"]


async def test_export_through_the_redis_broker_and_a_worker(export_client, settings_factory):
    from contacts_api.core.plugins import Plugins
    from contacts_api.workers.broker import run_worker

    settings = settings_factory(CONTACTS_API__BROKER__BACKEND="redis")
    client = await export_client(settings)
    ids = await seed(client, PEOPLE[:2])
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, Plugins.load(settings), queues=["exports"], stop=stop)
    )
    try:
        export = await _export(client, {"contact_uuids": [str(i) for i in ids]})
        assert export["status"] == "completed" and export["row_count"] == 2
    finally:
        stop.set()
        await asyncio.wait_for(worker, 15)


async def test_a_redelivery_waits_for_a_live_export_then_takes_over(
    export_client, settings, monkeypatch
):
    from contacts_api.plugins.exports import task as export_task

    monkeypatch.setattr(export_task, "LEASE_S", 1.2)
    client = await export_client(settings)
    ids = await seed(client, PEOPLE[:2])
    db = client.app[RESOURCES].db
    export_id = await db.fetch_val(
        sa.insert(exports)
        .values(
            owner_id="alice",
            status="processing",
            heartbeat_at=sa.func.now(),
            selection={"contact_uuids": [str(i) for i in ids]},
            file_name="x.csv",
            storage_key="exports/live.csv",
            row_count=0,
        )
        .returning(exports.c.id)
    )
    redelivered = asyncio.create_task(run_export(client.app[RESOURCES], export_id=str(export_id)))
    for _ in range(8):  # another worker is alive: its heartbeat keeps coming
        await db.execute(
            sa.update(exports).where(exports.c.id == export_id).values(heartbeat_at=sa.func.now())
        )
        await asyncio.sleep(0.3)
        assert not redelivered.done()
    await asyncio.wait_for(redelivered, 10)  # the heartbeat stopped: taken over
    export = await wait_done(client, str(export_id))
    assert export["status"] == "completed" and export["row_count"] == 2
