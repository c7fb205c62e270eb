"""An export imports back unchanged (CSV_FORMAT.md): export, empty the
database, import the CSV through the import route, compare every contact."""

import asyncio

import aiohttp

from contacts_api.core.appkeys import RESOURCES
from tests.conftest import WRITE_KEY
from tests.plugins.exports.conftest import parse_csv, seed, wait_done
from tests.plugins.exports.test_exports import ALICE, PEOPLE, _download

COMPARED = (
    "first_name",
    "last_name",
    "email",
    "title",
    "seniority",
    "departments",
    "email_status",
    "mobile_phone",
    "work_direct_phone",
    "stage",
    "city",
    "country",
    "person_linkedin_url",
    "company",
    "website",
    "employees",
    "industry",
    "keywords",
    "technologies",
    "company_city",
    "company_country",
    "company_phone",
    "annual_revenue",
    "total_funding",
    "latest_funding",
    "latest_funding_amount",
    "last_raised_at",
)


def _by_email(rows):
    return {row["email"] or row["first_name"]: {k: row[k] for k in COMPARED} for row in rows}


async def _import(client, data: bytes) -> dict:
    form = aiohttp.FormData()
    form.add_field("file", data, filename="export.csv", content_type="text/csv")
    response = await client.post(
        "/api/v1/contacts/import/", data=form, headers={"X-Contacts-Write-Key": WRITE_KEY}
    )
    assert response.status == 202, await response.text()
    job = await response.json()
    for _ in range(400):
        job = await (
            await client.get(
                f"/api/v1/contacts/import/{job['id']}/", headers={"X-Contacts-Write-Key": WRITE_KEY}
            )
        ).json()
        if job["status"] in ("completed", "failed"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"import still {job['status']}")


async def test_an_export_imports_back_unchanged(export_client, settings):
    client = await export_client(settings)
    ids = await seed(client, PEOPLE)
    first = await _export_all(client, ids)
    exported = parse_csv(first)

    await client.app[RESOURCES].db.execute("TRUNCATE contacts, companies CASCADE")
    job = await _import(client, first)
    assert job["status"] == "completed" and job["error_count"] == 0, job
    assert job["created_count"] == len(PEOPLE)

    new_ids = [
        row["uuid"] for row in await client.app[RESOURCES].db.fetch_all("SELECT uuid FROM contacts")
    ]
    second = parse_csv(await _export_all(client, new_ids))
    assert _by_email(second) == _by_email(exported)


async def _export_all(client, ids) -> bytes:
    response = await client.post(
        "/api/v2/exports/contacts/export",
        headers=ALICE,
        json={"contact_uuids": [str(i) for i in ids]},
    )
    export = await wait_done(client, (await response.json())["id"])
    assert export["status"] == "completed"
    return await _download(client, export["id"])
