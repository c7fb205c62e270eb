"""Distinct values with counts, for contacts and companies."""

from collections import Counter
from urllib.parse import urlencode

import pytest

from tests.plugins.contacts.conftest import WRITE
from tests.plugins.contacts.reference import matching, rel

CONTACT_VALUES = {
    "title": lambda c: [c.title],
    "company": lambda c: [c.company and c.company.name],
    "industry": lambda c: c.company.industries if c.company else [],
    "keywords": lambda c: c.company.keywords if c.company else [],
    "technologies": lambda c: c.company.technologies if c.company else [],
    "seniority": lambda c: [c.seniority],
    "department": lambda c: c.departments,
    "city": lambda c: [c.city],
    "state": lambda c: [c.state],
    "country": lambda c: [c.country],
    "company_city": lambda c: [c.company and c.company.city],
    "company_state": lambda c: [c.company and c.company.state],
    "company_country": lambda c: [c.company and c.company.country],
}


def expected_values(rows, values_of, search=None, ordering="-count"):
    counts = Counter(v for r in rows for v in values_of(r) if v)
    if search:
        counts = Counter({v: n for v, n in counts.items() if search.lower() in v.lower()})
    items = list(counts.items())
    if ordering in ("value", "-value"):
        items.sort(key=lambda i: i[0], reverse=ordering == "-value")
    else:
        items.sort(key=lambda i: i[0])
        items.sort(key=lambda i: i[1], reverse=ordering == "-count")
    return [{"value": v, "count": n} for v, n in items]


async def all_values(api, path, pairs, limit: int = 4):
    """Every value of an attribute route, its pages walked by their ``next`` links."""
    url, rows = f"{path}?{urlencode([*pairs, ('limit', str(limit))])}", []
    while url:
        response = await api.get(url, headers=WRITE)
        body = await response.json()
        assert response.status == 200 and "results" in body, body
        rows += body["results"]
        url = rel(body["next"]) if body["next"] else None
    return rows


@pytest.mark.parametrize("attribute", list(CONTACT_VALUES))
async def test_contact_attribute_values(api, seeded, attribute):
    expected = expected_values(seeded.contacts, CONTACT_VALUES[attribute])
    assert await all_values(api, f"/api/v1/contacts/{attribute}/", []) == expected


@pytest.mark.parametrize(
    "pairs",
    [
        [("search", "sales"), ("ordering", "value")],
        [("country", "united"), ("ordering", "count")],
        [("seniority", "vp,director"), ("ordering", "-value"), ("search", "E")],
    ],
)
async def test_title_values_with_filters_search_and_ordering(api, seeded, pairs):
    params = dict(pairs)
    rows = matching(seeded.contacts, [(k, v) for k, v in pairs if k not in ("search", "ordering")])
    expected = expected_values(
        rows, CONTACT_VALUES["title"], params.get("search"), params["ordering"]
    )
    assert await all_values(api, "/api/v1/contacts/title/", pairs) == expected


async def test_list_attribute_search(api, seeded):
    expected = expected_values(seeded.contacts, CONTACT_VALUES["technologies"], "shop")
    assert (
        expected
        and await all_values(api, "/api/v1/contacts/technologies/", [("search", "shop")])
        == expected
    )


COMPANY_VALUES = {
    "name": lambda c: [c.name],
    "industry": lambda c: c.industries,
    "keywords": lambda c: c.keywords,
    "technologies": lambda c: c.technologies,
    "city": lambda c: [c.city],
    "state": lambda c: [c.state],
    "country": lambda c: [c.country],
}


@pytest.mark.parametrize("attribute", list(COMPANY_VALUES))
async def test_company_attribute_values(api, seeded, attribute):
    expected = expected_values(seeded.companies, COMPANY_VALUES[attribute])
    assert await all_values(api, f"/api/v1/companies/{attribute}/", []) == expected


async def test_attribute_errors(api, seeded):
    assert (await api.get("/api/v1/contacts/nonsense/", headers=WRITE)).status == 404
    bad = await api.get("/api/v1/contacts/title/?ordering=size", headers=WRITE)
    assert bad.status == 422 and (await bad.json())["errors"][0]["loc"] == ["query", "ordering"]
    bad = await api.get("/api/v1/contacts/title/?colour=red", headers=WRITE)
    assert bad.status == 422 and (await bad.json())["errors"][0]["loc"] == ["query", "colour"]
    assert (await api.get("/api/v1/contacts/title/")).status == 401


@pytest.mark.parametrize(
    "path", ["/api/v1/contacts/title/", "/api/v1/contacts/country/", "/api/v1/companies/name/"]
)
async def test_a_nul_in_the_attribute_search_is_refused(api, path):
    """Found by a helper attacking the routes: it reached the driver (500)."""
    bad = await api.get(f"{path}?search=a%00b", headers=WRITE)
    assert bad.status == 422, await bad.text()
    assert (await bad.json())["errors"][0]["loc"] == ["query", "search"]


async def test_attribute_pages_stop_at_the_offset_limit(make_api, settings_factory):
    """Found by a helper attacking the routes: past ``contacts.max_offset`` the
    last page offered a ``next`` link that answered 422."""
    api = await make_api(settings_factory(CONTACTS_API__CONTACTS__MAX_OFFSET="4"))
    for i in range(8):
        body = {"email": f"{i}@x.io", "title": f"Title {i}"}
        assert (await api.post("/api/v1/contacts/", json=body, headers=WRITE)).status == 201
    seen = await all_values(api, "/api/v1/contacts/title/", [], limit=2)
    assert len(seen) == 6  # offsets 0, 2 and 4: the last page a client may ask for
