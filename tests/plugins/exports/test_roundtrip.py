"""An export imports back unchanged (docs/csv-format.md): export, empty the
database, import the CSV through the import route, compare every contact and
company, in the database and in a second export."""

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


# What a round trip must keep (issue 13): a company's domain without a website, list
# elements holding commas or backslashes.
ROUND_TRIP = [
    {
        "first_name": "Lin",
        "last_name": "Commas",
        "email": "lin@glassworks.example",
        "departments": ["sales, emea", "operations"],
        "company": {
            "name": "Glassworks",
            "domain": "glassworks.example",
            "industries": ["glass, ceramics & concrete", "construction"],
            "keywords": ["a\\b", "ends with \\", "x,y,z", " ok "],
            "technologies": ["C\\C++", "one, two"],
        },
    },
    {
        "first_name": "Dee",
        "last_name": "Domain",
        "email": "dee@onlydomain.example",
        "company": {"name": "Only Domain", "domain": "onlydomain.example"},
        "company_meta": {"phone_number": "+1 2"},
    },
]
CONTACT_STATE = """
SELECT c.first_name, c.last_name, c.email, c.title, c.seniority, c.departments,
       c.email_status, c.mobile_phone, c.city, c.state, c.country, c.linkedin_url,
       m.work_direct_phone, m.home_phone, m.other_phone, m.facebook_url, m.twitter_url,
       m.stage, co.name AS company, co.domain
FROM contacts c LEFT JOIN contact_metadata m ON m.contact_uuid = c.uuid
LEFT JOIN companies co ON co.uuid = c.company_uuid ORDER BY c.email, c.first_name"""
COMPANY_STATE = """
SELECT co.name, co.domain, co.employees_count, co.industries, co.keywords, co.technologies,
       co.annual_revenue, co.total_funding, co.address, co.city, co.state, co.country,
       m.linkedin_url, m.phone_number, m.company_name_for_emails, m.latest_funding,
       m.latest_funding_amount, m.last_raised_at, COALESCE(m.website, co.domain) AS website
FROM companies co LEFT JOIN company_metadata m ON m.company_uuid = co.uuid
ORDER BY co.domain, co.name"""


async def test_an_export_imports_back_unchanged(export_client, settings):
    client = await export_client(settings)
    db = client.app[RESOURCES].db
    people = PEOPLE + ROUND_TRIP
    ids = await seed(client, people)
    # Stored lists are trimmed (the import trims elements).
    await db.execute("UPDATE companies SET keywords = array_replace(keywords, ' ok ', 'ok')")
    first = await _export_all(client, ids)
    exported = parse_csv(first)
    contacts_before = await db.fetch_all(CONTACT_STATE)
    companies_before = await db.fetch_all(COMPANY_STATE)

    await db.execute("TRUNCATE contacts, companies CASCADE")
    job = await _import(client, first)
    assert job["status"] == "completed" and job["error_count"] == 0, job
    assert job["created_count"] == len(people)
    assert await db.fetch_all(CONTACT_STATE) == contacts_before
    assert await db.fetch_all(COMPANY_STATE) == companies_before
    glassworks = next(row for row in companies_before if row["name"] == "Glassworks")
    assert glassworks["industries"] == ["glass, ceramics & concrete", "construction"]

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
