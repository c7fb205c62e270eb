"""The companies pages' calls (services/company/*): list with metadata.city,
counts, uuid batches, details, writes with X-Companies-Write-Key, a company's
contacts and its dropdowns."""

import pytest

from tests.conftest import WRITE_KEY
from tests.plugins.contact360_compat.fields import (
    DICT,
    LIST,
    NUM,
    OPT_NUM,
    OPT_STR,
    STR,
    check,
)

# mapApiToCompany reads these; the list card and detail read metadata.city etc.
COMPANY = {
    "uuid": STR,
    "name": OPT_STR,
    "employees_count": OPT_NUM,
    "annual_revenue": OPT_NUM,
    "total_funding": OPT_NUM,
    "industries": LIST,
    "keywords": LIST,
    "technologies": LIST,
    "address": OPT_STR,
    "text_search": OPT_STR,
    "metadata": DICT,
    "created_at": STR,
    "updated_at": STR,
}
COMPANY_METADATA = {"city": OPT_STR, "state": OPT_STR, "country": OPT_STR}
# mapApiToCompanyContact
COMPANY_CONTACT = {
    "uuid": STR,
    "first_name": OPT_STR,
    "last_name": OPT_STR,
    "email": OPT_STR,
    "title": OPT_STR,
    "seniority": OPT_STR,
    "departments": LIST,
    "email_status": OPT_STR,
    "mobile_phone": OPT_STR,
    "created_at": STR,
    "updated_at": STR,
}
COMPANIES_KEY = {"X-Companies-Write-Key": WRITE_KEY}


async def test_list_in_cursor_mode(app, seeded):
    body = await app.json("GET", "/api/v1/companies/?page_size=25&distinct=true")
    check(body, {"next": OPT_STR, "previous": OPT_STR, "results": LIST})
    assert len(body["results"]) == 2
    for company in body["results"]:
        check(company, COMPANY, "company")
        check(company["metadata"], COMPANY_METADATA, "company.metadata")
    techcorp = next(c for c in body["results"] if c["name"] == "TechCorp")
    assert techcorp["metadata"]["city"] == "Austin"
    assert techcorp["metadata"]["phone_number"] == "+1 555 0199"


@pytest.mark.parametrize(
    ("ordering", "first"),
    [
        ("-employees_count", "TechCorp"),
        ("employees_count", "Foodies"),
        ("name", "Foodies"),
        ("-annual_revenue", "TechCorp"),
        ("-created_at", "Foodies"),
        ("updated_at", "TechCorp"),
    ],
)
async def test_its_sort_keys(app, seeded, ordering, first):
    body = await app.json("GET", f"/api/v1/companies/?ordering={ordering}&limit=20&offset=0")
    assert body["results"][0]["name"] == first


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("search=food", {"Foodies"}),
        ("company_location=Austin", {"TechCorp"}),
        ("employees_min=100", {"TechCorp"}),
        ("employees_count=15", {"Foodies"}),
        ("industries=software", {"TechCorp"}),
        ("exclude_keywords=crm", {"Foodies"}),
        ("text_search=tech", {"TechCorp"}),
        ("created_at__gte=2000-01-01", {"TechCorp", "Foodies"}),
    ],
)
async def test_its_filters_and_count(app, seeded, query, names):
    body = await app.json("GET", f"/api/v1/companies/?{query}&page_size=25")
    assert {c["name"] for c in body["results"]} == names
    count = await app.json("GET", f"/api/v1/companies/count/?{query}")
    check(count, {"count": NUM})
    assert count["count"] == len(names)


async def test_uuid_batches_with_offset(app, seeded):
    first = await app.json("GET", "/api/v1/companies/count/uuids/?limit=1&offset=0")
    second = await app.json("GET", "/api/v1/companies/count/uuids/?limit=1&offset=1")
    check(first, {"count": NUM, "uuids": LIST})
    assert first["count"] == 2 and len(first["uuids"]) == len(second["uuids"]) == 1
    assert first["uuids"] != second["uuids"]


async def test_detail(app, seeded):
    uuid = seeded["companies"][0]["uuid"]
    company = await app.json("GET", f"/api/v1/companies/{uuid}/")
    check(company, COMPANY, "company detail")
    assert company["metadata"]["city"] == "Austin"


async def test_writes_with_the_companies_write_key(app, seeded):
    created = await app.json(
        "POST",
        "/api/v1/companies/",
        status=201,
        json={
            "name": "NewCo",
            "employees_count": 12,
            "industries": ["retail"],
            "address": "2 rue de la Paix",
            "text_search": "newco retail",
            "metadata": {"city": "Paris", "country": "France", "website": "https://newco.test"},
        },
        headers=COMPANIES_KEY,
    )
    check(created, COMPANY, "created company")
    assert created["metadata"]["city"] == "Paris"
    assert created["metadata"]["website"] == "https://newco.test"
    assert created["domain"] == "newco.test"
    uuid = created["uuid"]
    updated = await app.json(
        "PUT",
        f"/api/v1/companies/{uuid}/",
        json={"employees_count": 7, "metadata": {"city": "Lyon"}},
        headers=COMPANIES_KEY,
    )
    assert updated["employees_count"] == 7 and updated["metadata"]["city"] == "Lyon"
    deleted = await app.request("DELETE", f"/api/v1/companies/{uuid}/", headers=COMPANIES_KEY)
    assert deleted.status == 204
    assert (await app.request("GET", f"/api/v1/companies/{uuid}/")).status == 404


async def test_writes_without_or_with_a_wrong_key_are_403(app, seeded):
    uuid = seeded["companies"][0]["uuid"]
    for headers in ({}, {"X-Companies-Write-Key": "wrong"}):
        response = await app.request(
            "PUT", f"/api/v1/companies/{uuid}/", json={"employees_count": 1}, headers=headers
        )
        assert response.status == 403
        assert (await response.json())["error_code"] == "INVALID_WRITE_KEY"


async def test_company_contacts(app, seeded):
    uuid = seeded["companies"][0]["uuid"]
    base = f"/api/v1/companies/company/{uuid}/contacts"
    body = await app.json("GET", base + "/?page_size=25&include_meta=true")
    assert {c["email"] for c in body["results"]} == {"ada@techcorp.com", "alan@techcorp.com"}
    for contact in body["results"]:
        check(contact, COMPANY_CONTACT, "company contact")
    narrowed = await app.json("GET", base + "/?seniority=head&ordering=first_name&limit=10")
    assert [c["first_name"] for c in narrowed["results"]] == ["Alan"]
    count = await app.json("GET", base + "/count/?title=Chief")
    assert count == {"count": 1}
    uuids = await app.json("GET", base + "/count/uuids/?limit=1&offset=1")
    assert uuids["count"] == 2 and len(uuids["uuids"]) == 1


@pytest.mark.parametrize(("field", "value"), [("title", "Head of Research"), ("city", "London")])
async def test_company_contacts_dropdowns(app, seeded, field, value):
    uuid = seeded["companies"][0]["uuid"]
    body = await app.json(
        "GET", f"/api/v1/companies/company/{uuid}/contacts/{field}/?distinct=true&limit=25"
    )
    values = [item[field] for item in body["results"]]
    assert value in values
    other = seeded["companies"][1]["uuid"]
    body = await app.json("GET", f"/api/v1/companies/company/{other}/contacts/title/")
    assert [item["title"] for item in body["results"]] == ["Director of Operations"]


@pytest.mark.parametrize(
    ("field", "value"), [("name", "TechCorp"), ("industry", "computer software"), ("city", "Lyon")]
)
async def test_company_field_values(app, seeded, field, value):
    """services/company/fieldValues.ts reads ``value`` (and ``count``)."""
    body = await app.json("GET", f"/api/v1/companies/{field}/?distinct=true&limit=25&offset=0")
    for item in body["results"]:
        check(item, {"value": STR, "count": NUM}, field)
    assert value in [item["value"] for item in body["results"]]
