"""The Apollo page's calls (services/apollo/*): the analysis with categories as
an array, the search with offset and its include/exclude refinements, count
and uuids."""

import pytest

from tests.plugins.contact360_compat.fields import DICT, LIST, NUM, OPT_STR, STR, check
from tests.plugins.contact360_compat.test_contacts import FLAT_CONTACT

URL = (
    "https://app.apollo.io/#/people?personTitles[]=chief%20executive%20officer"
    "&personTitles[]=head%20of%20research&personTitles[]=director%20of%20operations"
    "&finderViewId=5b8050d050a3893c382e9360&page=1"
)
EVERYONE = {"ada@techcorp.com", "alan@techcorp.com", "grace@foodies.io"}


async def _search(app, query: str = "", status: int = 200) -> dict:
    return await app.json(
        "POST",
        "/api/v2/apollo/contacts" + (f"?{query}" if query else ""),
        status,
        json={"url": URL},
    )


async def test_analyze_answers_categories_as_an_array(app):
    body = await app.json("POST", "/api/v2/apollo/analyze", json={"url": URL})
    check(body, {"url": STR, "url_structure": DICT, "categories": LIST, "statistics": DICT})
    check(
        body["url_structure"],
        {
            "base_url": STR,
            "hash_path": OPT_STR,
            "query_string": OPT_STR,
            "has_query_params": (bool,),
        },
    )
    assert body["url_structure"]["hash_path"] == "/people"
    for category in body["categories"]:
        check(category, {"name": STR, "parameters": LIST, "total_parameters": NUM}, "category")
        for parameter in category["parameters"]:
            check(parameter, {"name": STR, "values": LIST, "description": STR, "category": STR})
    check(
        body["statistics"],
        {
            "total_parameters": NUM,
            "total_parameter_values": NUM,
            "categories_used": NUM,
            "categories": LIST,
        },
    )
    titles = next(c for c in body["categories"] if c["name"] == "titles")
    assert titles["parameters"][0]["values"] == [
        "chief executive officer",
        "head of research",
        "director of operations",
    ]


async def test_search_with_the_mapping_report(app, seeded):
    body = await _search(app, "limit=25")
    check(body, {"next": OPT_STR, "previous": OPT_STR, "results": LIST, "apollo_url": STR})
    assert {c["email"] for c in body["results"]} == EVERYONE
    for contact in body["results"]:
        check(contact, FLAT_CONTACT, "apollo contact")
    check(
        body["mapping_summary"],
        {
            "total_apollo_parameters": NUM,
            "mapped_parameters": NUM,
            "unmapped_parameters": NUM,
            "mapped_parameter_names": LIST,
            "unmapped_parameter_names": LIST,
        },
    )
    assert "finderViewId" in body["mapping_summary"]["unmapped_parameter_names"]
    for category in body["unmapped_categories"]:
        check(category, {"name": STR, "total_parameters": NUM, "parameters": LIST})
        for parameter in category["parameters"]:
            check(parameter, {"name": STR, "values": LIST, "category": STR, "reason": STR})


async def test_search_offset_pages(app, seeded):
    first = await _search(app, "limit=2&offset=0")
    second = await _search(app, "limit=2&offset=2")
    emails = [c["email"] for c in first["results"] + second["results"]]
    assert len(emails) == len(set(emails)) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("include_company_name=Foodies", {"grace@foodies.io"}),
        ("exclude_company_name=Foodies", {"ada@techcorp.com", "alan@techcorp.com"}),
        ("include_domain_list=techcorp.com", {"ada@techcorp.com", "alan@techcorp.com"}),
        ("exclude_domain_list=techcorp.com&exclude_domain_list=other.test", {"grace@foodies.io"}),
    ],
)
async def test_refinements_narrow_the_search_and_the_count(app, seeded, query, expected):
    body = await _search(app, query + "&limit=25")
    assert {c["email"] for c in body["results"]} == expected
    count = await app.json("POST", f"/api/v2/apollo/contacts/count?{query}", json={"url": URL})
    assert count == {"count": len(expected)}
    uuids = await app.json(
        "POST", f"/api/v2/apollo/contacts/count/uuids?{query}", json={"url": URL}
    )
    check(uuids, {"count": NUM, "uuids": LIST})
    assert uuids["count"] == len(uuids["uuids"]) == len(expected)


async def test_unknown_query_parameter_is_422(app, seeded):
    body = await _search(app, "include_compny_name=x", status=422)
    assert body["errors"][0]["loc"] == ["query", "include_compny_name"]


async def test_not_an_apollo_url_is_422(app):
    body = await app.json(
        "POST", "/api/v2/apollo/contacts", 422, json={"url": "https://example.com/#/people"}
    )
    assert body["error_code"] == "VALIDATION_ERROR"
