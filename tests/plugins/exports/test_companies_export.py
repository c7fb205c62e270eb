"""Companies exports end to end (docs/api.md "Export"): selection by uuids, company
filters (a plugin's included) and Apollo URLs, the columns, ownership, formula
neutralization, S3, and a re-import of the CSV through the contacts import."""

import urllib.request
import uuid

import sqlalchemy as sa

from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.filters import FilterSpec
from contacts_api.core.hookspecs import hookimpl
from contacts_api.plugins.contacts.tables import companies
from contacts_api.plugins.exports.tables import exports
from contacts_api.plugins.imports.columns import COMPANY_EXPORT_COLUMNS
from tests.conftest import s3_env
from tests.helpers import HeaderActors
from tests.plugins.exports.conftest import parse_csv, seed, wait_done
from tests.plugins.exports.test_exports import ALICE, BOB, PEOPLE, TECHCORP_CELLS, _download
from tests.plugins.exports.test_roundtrip import COMPANY_STATE, _import

ROUTE = "/api/v2/exports/companies/export"


async def _export(client, body, headers=ALICE) -> dict:
    response = await client.post(ROUTE, json=body, headers=headers)
    assert response.status == 202, await response.text()
    created = await response.json()
    assert created["kind"] == "companies" and created["file_name"].startswith("companies-")
    return await wait_done(client, created["id"])


async def _company_ids(client) -> dict[str, str]:
    rows = await client.app[RESOURCES].db.fetch_all("SELECT uuid, name FROM companies")
    return {row["name"]: str(row["uuid"]) for row in rows}


async def test_export_by_uuids_has_the_company_columns(export_client, settings):
    client = await export_client(settings)
    await seed(client, PEOPLE + [{"email": "second@techcorp.com", "company": PEOPLE[0]["company"]}])
    ids = await _company_ids(client)
    export = await _export(client, {"company_uuids": [ids["TechCorp"], ids["Baumann GmbH"]]})
    assert export["status"] == "completed" and export["row_count"] == 2, export
    data = await _download(client, export["id"])
    assert data.splitlines()[0].decode() == ",".join(COMPANY_EXPORT_COLUMNS)
    rows = {row["uuid"]: row for row in parse_csv(data)}
    assert rows[ids["TechCorp"]] == {
        **TECHCORP_CELLS,
        "uuid": ids["TechCorp"],
        "contacts_count": "2",
    }
    baumann = rows[ids["Baumann GmbH"]]
    assert baumann["website"] == "baumann.de"  # the domain, when there is no website
    assert baumann["contacts_count"] == "1"


async def test_a_company_without_contacts_counts_zero(export_client, settings):
    client = await export_client(settings)
    company_uuid = await client.app[RESOURCES].db.fetch_val(
        sa.insert(companies)
        .values(name="Lonely", industries=[], keywords=[], technologies=[])
        .returning(companies.c.uuid)
    )
    export = await _export(client, {"company_uuids": [str(company_uuid)]})
    (row,) = parse_csv(await _download(client, export["id"]))
    assert row["company"] == "Lonely" and row["contacts_count"] == "0"


async def test_export_by_company_filters(export_client, settings):
    client = await export_client(settings)
    await seed(client, PEOPLE)
    ids = await _company_ids(client)
    export = await _export(client, {"filters": {"name": ["techcorp", "baumann"]}})
    rows = parse_csv(await _download(client, export["id"]))
    assert sorted(r["uuid"] for r in rows) == sorted([ids["TechCorp"], ids["Baumann GmbH"]])
    export = await _export(client, {"filters": {"employees_range": ["100,200"]}})
    rows = parse_csv(await _download(client, export["id"]))
    assert [r["uuid"] for r in rows] == [ids["TechCorp"]]


class MinHeadcount:
    """A third-party plugin's company filter."""

    @hookimpl
    def register_company_filters(self, settings):
        return [
            FilterSpec(
                "min_headcount",
                "integer",
                lambda values, t: t.companies.c.employees_count >= max(values),
            )
        ]


async def test_plugin_company_filters_apply_and_unknown_ones_are_422(make_client, settings):
    client = await make_client(
        settings, extra_plugins=[("header_actors", HeaderActors()), ("headcount", MinHeadcount())]
    )
    await seed(client, PEOPLE)
    ids = await _company_ids(client)
    export = await _export(client, {"filters": {"min_headcount": ["100"]}})
    assert [r["uuid"] for r in parse_csv(await _download(client, export["id"]))] == [
        ids["TechCorp"]
    ]
    before = await client.app[RESOURCES].db.fetch_val(
        sa.select(sa.func.count()).select_from(exports)
    )
    # a contact filter is not a company filter; an unknown name, an unparsable value
    for filters, loc in (
        ({"title": ["cto"]}, ["body", "filters", "title"]),
        ({"no_such_filter": ["x"]}, ["body", "filters", "no_such_filter"]),
        ({"min_headcount": ["many"]}, ["body", "filters", "min_headcount"]),
    ):
        response = await client.post(ROUTE, json={"filters": filters}, headers=ALICE)
        body = await response.json()
        assert response.status == 422 and body["error_code"] == "VALIDATION_ERROR", body
        assert loc in [e["loc"] for e in body["errors"]]
    after = await client.app[RESOURCES].db.fetch_val(
        sa.select(sa.func.count()).select_from(exports)
    )
    assert after == before  # refused before any export exists


async def test_bad_bodies_are_422(export_client, settings):
    client = await export_client(settings)
    for body, loc in (
        ({}, ["body"]),
        ({"company_uuids": []}, ["body", "company_uuids"]),
        ({"company_uuids": ["nope"]}, ["body", "company_uuids", 0]),
        ({"contact_uuids": [str(uuid.uuid4())]}, ["body", "contact_uuids"]),
        ({"company_uuids": [str(uuid.uuid4())], "filters": {"name": ["x"]}}, ["body"]),
    ):
        response = await client.post(ROUTE, json=body, headers=ALICE)
        assert response.status == 422, body
        assert loc in [e["loc"] for e in (await response.json())["errors"]], body


async def test_export_by_apollo_companies_and_people_urls(export_client, settings):
    client = await export_client(settings)
    await seed(client, PEOPLE)
    ids = await _company_ids(client)
    companies_url = "https://app.apollo.io/#/companies?organizationNumEmployeesRanges[]=101,200"
    export = await _export(client, {"apollo_url": companies_url})
    assert [r["uuid"] for r in parse_csv(await _download(client, export["id"]))] == [
        ids["TechCorp"]
    ]
    # a people search: its organization filters select the companies, person filters are dropped
    people_url = "https://app.apollo.io/#/people?personTitles[]=nobody&qOrganizationName=baumann"
    export = await _export(client, {"apollo_url": people_url})
    assert [r["uuid"] for r in parse_csv(await _download(client, export["id"]))] == [
        ids["Baumann GmbH"]
    ]
    bad = await client.post(
        ROUTE, headers=ALICE, json={"apollo_url": "https://app.apollo.io/#/lists/abc"}
    )
    assert bad.status == 422 and "saved list" in (await bad.json())["detail"]


async def test_companies_exports_belong_to_their_owner(export_client, settings):
    client = await export_client(settings)
    await seed(client, PEOPLE[:1])
    ids = await _company_ids(client)
    assert (await client.post(ROUTE, json={"company_uuids": [ids["TechCorp"]]})).status == 401
    export = await _export(client, {"company_uuids": [ids["TechCorp"]]})
    for path in (f"/api/v2/exports/{export['id']}", f"/api/v2/exports/{export['id']}/download"):
        response = await client.get(path, headers=BOB)
        assert response.status == 404 and (await response.json())["error_code"] == "NOT_FOUND"
    mine = await (await client.get("/api/v2/exports", headers=ALICE)).json()
    assert [(e["id"], e["kind"]) for e in mine["results"]] == [(export["id"], "companies")]


async def test_formula_cells_are_neutralized(export_client, settings):
    client = await export_client(settings)
    await seed(client, PEOPLE)
    ids = await _company_ids(client)
    export = await _export(client, {"company_uuids": [ids["=Company"]]})
    (row,) = parse_csv(await _download(client, export["id"]))
    assert row["company"] == "'=Company" and row["keywords"] == "'-minus, ok"
    assert row["website"] == "x.io"


async def test_s3_companies_export_downloads_through_a_presigned_url(
    export_client, settings_factory, s3_endpoint, s3_bucket
):
    client = await export_client(settings_factory(**s3_env(s3_endpoint, s3_bucket)))
    await seed(client, PEOPLE)
    export = await _export(client, {"filters": {"name": ["techcorp"]}})
    link = await (
        await client.get(f"/api/v2/exports/{export['id']}/download", headers=ALICE)
    ).json()
    assert link["download_url"].startswith(s3_endpoint)
    with urllib.request.urlopen(link["download_url"], timeout=10) as response:
        rows = parse_csv(response.read())
    assert [r["company"] for r in rows] == ["TechCorp"]


async def test_the_companies_csv_imports_back_as_companies_only(export_client, settings):
    client = await export_client(settings)
    db = client.app[RESOURCES].db
    await seed(client, PEOPLE)
    await db.execute(
        "INSERT INTO companies (name, industries, keywords, technologies) "
        "VALUES ('No Domain Inc', '{}', ARRAY['a\\b', 'x,y'], '{}')"
    )
    ids = await _company_ids(client)
    export = await _export(client, {"company_uuids": list(ids.values())})
    data = await _download(client, export["id"])
    before = await db.fetch_all(COMPANY_STATE)

    await db.execute("TRUNCATE contacts, companies CASCADE")
    job = await _import(client, data)
    assert job["status"] == "completed" and job["error_count"] == 0 and not job["warnings"], job
    assert (job["created_count"], job["updated_count"]) == (len(ids), 0)
    assert await db.fetch_all(COMPANY_STATE) == before
    assert await db.fetch_val("SELECT count(*) FROM contacts") == 0

    again = await _import(client, data)  # the same file again changes nothing
    assert (again["created_count"], again["updated_count"]) == (0, len(ids))
    assert await db.fetch_all(COMPANY_STATE) == before
