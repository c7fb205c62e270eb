"""Orderings, keyset cursors in both directions, offset/page, views and counts."""

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.plugins.contacts.conftest import WRITE, sql
from tests.plugins.contacts.reference import COMPANY_SORT, CONTACT_SORT, matching, ordered, rel
from tests.plugins.contacts.test_filters import fetch_all

ORDERINGS = [
    *CONTACT_SORT,
    *(f"-{f}" for f in CONTACT_SORT),
    "company,-employees",
    "-seniority,last_name",
    "country,-created_at",
]


@pytest.mark.parametrize("ordering", ORDERINGS)
async def test_ordering_matches_reference(api, seeded, ordering):
    expected = [c.uuid for c in ordered(seeded.contacts, ordering)]
    got = await fetch_all(api, "/api/v1/contacts/", [("ordering", ordering)], limit=37)
    assert [r["uuid"] for r in got] == expected


@pytest.mark.parametrize("ordering", [*COMPANY_SORT, *(f"-{f}" for f in COMPANY_SORT)])
async def test_company_ordering(api, seeded, ordering):
    expected = [c.uuid for c in ordered(seeded.companies, ordering, COMPANY_SORT)]
    got = await fetch_all(api, "/api/v1/companies/", [("ordering", ordering)], limit=7)
    assert [r["uuid"] for r in got] == expected


async def test_next_to_the_end_while_rows_are_inserted(api, seeded, settings):
    pairs = [("ordering", "-created_at"), ("limit", "17"), ("title", "e")]
    expected = {c.uuid for c in matching(seeded.contacts, [("title", "e")])}
    url, seen, page = f"/api/v1/contacts/?{urlencode(pairs)}", [], 0
    while url:
        body = await (await api.get(url, headers=WRITE)).json()
        seen += [r["uuid"] for r in body["results"]]
        url = rel(body["next"]) if body["next"] else None
        page += 1
        # rows arriving meanwhile, newest and oldest, matching the filter
        for when in (dt.datetime.now(dt.UTC), dt.datetime(2020, 1, 1, tzinfo=dt.UTC)):
            sql(
                settings,
                "INSERT INTO contacts (uuid, title, created_at) VALUES (%s, %s, %s)",
                (str(uuid.uuid4()), f"Inserted engineer {page}", when),
            )
    assert len(seen) == len(set(seen)), "a row came twice"
    assert expected <= set(seen)
    assert page > 5


async def test_previous_goes_back(api, seeded):
    url = "/api/v1/contacts/?limit=20&ordering=-employees&country=united"
    pages = []
    while url:
        body = await (await api.get(url, headers=WRITE)).json()
        pages.append(body)
        url = rel(body["next"]) if body["next"] else None
    assert len(pages) >= 3 and pages[0]["previous"] is None
    for index in range(len(pages) - 1, 0, -1):
        back = await (await api.get(rel(pages[index]["previous"]), headers=WRITE)).json()
        assert [r["uuid"] for r in back["results"]] == [
            r["uuid"] for r in pages[index - 1]["results"]
        ]
    first_back = await (await api.get(rel(pages[1]["previous"]), headers=WRITE)).json()
    assert first_back["previous"] is None and first_back["next"]


async def _walk_forward_then_back(api, url: str) -> list[list[str]]:
    """Follow ``next`` to the end, then ``previous`` back to the start, checking that
    each page read backwards is the page read forwards; return the pages."""
    pages = []
    while url:
        body = await (await api.get(url, headers=WRITE)).json()
        pages.append(body)
        url = rel(body["next"]) if body["next"] else None
    for index in range(len(pages) - 1, 0, -1):
        back = await (await api.get(rel(pages[index]["previous"]), headers=WRITE)).json()
        assert [r["uuid"] for r in back["results"]] == [
            r["uuid"] for r in pages[index - 1]["results"]
        ], index
    return [[r["uuid"] for r in page["results"]] for page in pages]


# Orderings by one nullable field are read as two index walks (plugins/contacts/
# keyset.py): both directions, across the boundary between values and empty ones.
@pytest.mark.parametrize(
    "ordering",
    [
        "title",
        "-title",
        "employees",
        "-employees",
        "-annual_revenue",
        "email",
        "-country",
        "company",
    ],
)
async def test_cursors_cross_from_values_to_empty_ones_both_ways(api, seeded, ordering):
    key = CONTACT_SORT[ordering.lstrip("-")]
    assert any(key(c) is None for c in seeded.contacts), "the data must have empty values"
    pages = await _walk_forward_then_back(
        api, f"/api/v1/contacts/?{urlencode([('ordering', ordering), ('limit', '9')])}"
    )
    assert [u for page in pages for u in page] == [
        c.uuid for c in ordered(seeded.contacts, ordering)
    ]


@pytest.mark.parametrize("ordering", ["name", "-employees", "total_funding"])
async def test_company_cursors_cross_from_values_to_empty_ones_both_ways(api, seeded, ordering):
    key = COMPANY_SORT[ordering.lstrip("-")]
    assert any(key(c) is None for c in seeded.companies), "the data must have empty values"
    pages = await _walk_forward_then_back(
        api, f"/api/v1/companies/?{urlencode([('ordering', ordering), ('limit', '4')])}"
    )
    assert [u for page in pages for u in page] == [
        c.uuid for c in ordered(seeded.companies, ordering, COMPANY_SORT)
    ]


async def test_links_are_absolute_and_keep_filters(api, seeded):
    response = await api.get(
        "/api/v1/contacts/?departments=sales&limit=5&ordering=title", headers=WRITE
    )
    body = await response.json()
    parts = urlsplit(body["next"])
    assert parts.scheme == "http" and parts.netloc
    query = parse_qs(parts.query)
    assert query["departments"] == ["sales"] and query["ordering"] == ["title"]
    assert query["limit"] == ["5"] and "cursor" in query


async def test_base_url_setting(make_api, settings_factory):
    api = await make_api(settings_factory(CONTACTS_API__SERVER__BASE_URL="https://api.example"))
    sql(
        settings_factory(),
        "INSERT INTO contacts (first_name) SELECT 'x' FROM generate_series(1, 3)",
    )
    body = await (await api.get("/api/v1/contacts/?limit=2", headers=WRITE)).json()
    assert body["next"].startswith("https://api.example/api/v1/contacts/?")


async def test_offset_and_page(api, seeded):
    expected = [c.uuid for c in ordered(seeded.contacts, "last_name")]
    body = await (
        await api.get("/api/v1/contacts/?ordering=last_name&offset=30&limit=10", headers=WRITE)
    ).json()
    assert [r["uuid"] for r in body["results"]] == expected[30:40]
    assert parse_qs(urlsplit(body["next"]).query)["offset"] == ["40"]
    assert parse_qs(urlsplit(body["previous"]).query)["offset"] == ["20"]
    body = await (
        await api.get("/api/v1/contacts/?ordering=last_name&page=4&page_size=10", headers=WRITE)
    ).json()
    assert [r["uuid"] for r in body["results"]] == expected[30:40]
    assert parse_qs(urlsplit(body["next"]).query)["page"] == ["5"]
    assert parse_qs(urlsplit(body["previous"]).query)["page"] == ["3"]


async def test_view_simple_and_include_count(api, seeded):
    body = await (
        await api.get("/api/v1/contacts/?view=simple&include_count=true&limit=100", headers=WRITE)
    ).json()
    assert body["count"] == len(seeded.contacts)
    expected = ordered(seeded.contacts)[:100]
    for row, contact in zip(body["results"], expected, strict=True):
        assert set(row) == {
            "uuid",
            "first_name",
            "last_name",
            "title",
            "company_name",
            "company_domain",
            "linkedin_url",
            "city",
            "state",
            "country",
        }
        assert row["uuid"] == contact.uuid and row["title"] == contact.title
        assert row["company_name"] == (contact.company.name if contact.company else None)
        assert row["company_domain"] == (contact.company.domain if contact.company else None)
    full = await (await api.get("/api/v1/contacts/?limit=1", headers=WRITE)).json()
    assert "count" not in full and "company" in full["results"][0]


async def test_full_rows_carry_company_and_metadata(api, seeded):
    rows = await fetch_all(api, "/api/v1/contacts/", [])
    by_uuid = {c.uuid: c for c in seeded.contacts}
    for row in rows:
        contact = by_uuid[row["uuid"]]
        if contact.company is None:
            assert row["company"] is None
        else:
            assert row["company"]["uuid"] == contact.company.uuid
            assert row["company"]["technologies"] == contact.company.technologies
            assert (row["company"]["metadata"] is None) == (contact.company.metadata is None)
        if contact.metadata is None:
            assert row["metadata"] is None
        else:
            assert row["metadata"]["stage"] == contact.metadata["stage"]
        assert row["created_at"] == contact.created_at.isoformat().replace("+00:00", "Z")


async def test_company_contacts_and_counts(api, seeded):
    company = max(seeded.companies, key=lambda co: sum(c.company is co for c in seeded.contacts))
    mine = [c for c in seeded.contacts if c.company is company]
    rows = await fetch_all(api, f"/api/v1/companies/{company.uuid}/contacts/", [], limit=3)
    assert [r["uuid"] for r in rows] == [c.uuid for c in ordered(mine)]
    pairs = [("has_email", "true")]
    expected = ordered(matching(mine, pairs))
    count = await (
        await api.get(
            f"/api/v1/companies/{company.uuid}/contacts/count/?has_email=true", headers=WRITE
        )
    ).json()
    assert count == {"count": len(expected)}
    uuids = await (
        await api.get(
            f"/api/v1/companies/{company.uuid}/contacts/count/uuids/?has_email=true&limit=2",
            headers=WRITE,
        )
    ).json()
    assert uuids == {"count": len(expected), "uuids": [c.uuid for c in expected[:2]]}
    missing = await api.get(f"/api/v1/companies/{uuid.uuid4()}/contacts/", headers=WRITE)
    assert missing.status == 404


async def test_count_uuids(api, seeded):
    expected = ordered(matching(seeded.contacts, [("country", "united")]), "last_name")
    body = await (
        await api.get(
            "/api/v1/contacts/count/uuids/?country=united&limit=5&ordering=last_name", headers=WRITE
        )
    ).json()
    assert body == {"count": len(expected), "uuids": [c.uuid for c in expected[:5]]}
    default = await (await api.get("/api/v1/contacts/count/uuids/", headers=WRITE)).json()
    assert default["count"] == len(seeded.contacts) == len(default["uuids"])
    too_many = await api.get("/api/v1/contacts/count/uuids/?limit=100001", headers=WRITE)
    assert too_many.status == 422


async def test_v2_reads(api, seeded, bearer):
    page = await api.get("/api/v2/contacts/?limit=3", headers=bearer)
    assert page.status == 200
    first = (await page.json())["results"][0]
    detail = await api.get(f"/api/v2/contacts/{first['uuid']}/", headers=bearer)
    assert (await detail.json()) == first
    companies = await (await api.get("/api/v2/companies/?name=acme", headers=bearer)).json()
    assert {c["name"] for c in companies["results"]} == {
        c.name for c in seeded.companies if c.name and "acme" in c.name.lower()
    }
    assert (await api.get("/api/v2/contacts/")).status == 401
    assert (await api.get("/api/v1/contacts/")).status == 401
