"""Apollo URLs over HTTP: analysis, contact and company searches on a seeded
dataset checked against an independent computation, counts, the cache and the
mapping hook."""

import pytest

from contacts_api.core.hookspecs import hookimpl
from contacts_api.plugins.apollo import search as search_module
from contacts_api.plugins.apollo.mappers import MapResult
from tests.helpers import HeaderActors, as_user, seed

ALICE = as_user("alice")
APOLLO = "https://app.apollo.io/#/people?"

COMPANIES = {
    "tiny": {
        "name": "Tiny Labs",
        "domain": "tiny.io",
        "employees_count": 8,
        "industries": ["airlines/aviation"],
        "keywords": ["drones"],
    },
    "small": {
        "name": "Small Air",
        "domain": "smallair.de",
        "employees_count": 15,
        "industries": ["mining & metals"],
        "keywords": ["saas solutions"],
    },
    "big": {
        "name": "Big Corp",
        "domain": "big.com",
        "employees_count": 20000,
        "industries": ["computer software"],
        "keywords": ["business consulting & services"],
        "technologies": ["Shopify Plus"],
    },
}
PEOPLE = [
    ("ceo-tiny", "CEO", "director", "Germany", "tiny"),
    ("cofounder-small", "Co Founder & CTO", "founder", "Germany", "small"),
    ("founder-co", "Founder and CO", "founder", "France", "small"),
    ("ceo-big", "Chief Executive Officer (CEO)", "c_suite", "United States", "big"),
    ("pm-senior", "Senior Project Manager", "senior", "Germany", "big"),
    ("pm", "Project Manager", "manager", "Germany", "tiny"),
    ("manager-of-projects", "Manager, Projects", "manager", "France", "big"),
    ("marketing-director", "Director of Marketing", "director", "United States", "big"),
    ("no-company", "CEO", "c_suite", "Germany", None),
]


@pytest.fixture
async def api(make_client, settings):
    client = await make_client(settings, extra_plugins=[("header_actors", HeaderActors())])
    rows = [
        {
            "first_name": key,
            "last_name": "Test",
            "email": f"{key}@example.com",
            "title": title,
            "seniority": seniority,
            "country": country,
            **({"company": COMPANIES[company]} if company else {}),
        }
        for key, title, seniority, country, company in PEOPLE
    ]
    await seed(client, rows)
    return client


def expected(predicate) -> set[str]:
    """Independent computation over PEOPLE: the first names matching."""
    return {
        key
        for key, title, seniority, country, company in PEOPLE
        if predicate(title.lower(), seniority, country, COMPANIES.get(company) if company else None)
    }


def words_match(title: str, wanted: list[str]) -> bool:
    return any(all(word in title for word in phrase.lower().split()) for phrase in wanted)


async def _post(api, path, body, status=200):
    response = await api.post(f"/api/v2/apollo/{path}", json=body, headers=ALICE)
    assert response.status == status, await response.text()
    return await response.json()


async def _names(api, url, **body):
    answer = await _post(api, "contacts", {"url": url, "limit": 100, **body})
    return answer, {c["first_name"] for c in answer["results"]}


async def test_analyze_answers_the_documented_shape(api):
    answer = await _post(api, "analyze", {"url": APOLLO + "personTitles[]=CEO&page=2"})
    assert {k: answer[k] for k in ("page_type", "parameters", "categories", "statistics")} == {
        "page_type": "people",
        "parameters": {"personTitles[]": ["CEO"], "page": ["2"]},
        "categories": {"titles": {"personTitles[]": ["CEO"]}, "pagination": {"page": ["2"]}},
        "statistics": {"total_parameters": 2, "total_values": 2, "categories_used": 2},
    }


async def test_similar_titles_and_employee_buckets(api):
    url = (
        APOLLO + "personTitles[]=ceo&personTitles[]=co%20founder"
        "&organizationNumEmployeesRanges[]=1%2C10&organizationNumEmployeesRanges[]=11%2C20"
    )
    answer, names = await _names(api, url)
    assert names == expected(
        lambda t, s, c, co: (
            words_match(t, ["ceo", "co founder"])
            and co is not None
            and 1 <= co["employees_count"] <= 20
        )
    )
    assert names == {"ceo-tiny", "cofounder-small", "founder-co"}
    assert answer["applied_filters"] == {
        "title": ["ceo", "co founder"],
        "employees_range": ["1,10", "11,20"],
    }
    assert answer["mapping_summary"] == {
        "total_parameters": 2,
        "mapped_parameters": 2,
        "unmapped_parameters": 0,
    }


async def test_phrase_titles_when_similar_titles_are_off(api):
    _, similar = await _names(api, APOLLO + "personTitles[]=Manager%20Project")
    assert similar == expected(lambda t, *_: words_match(t, ["manager project"]))
    assert similar == {"pm-senior", "pm", "manager-of-projects"}  # words, any order
    _, phrase = await _names(
        api, APOLLO + "personTitles[]=Project%20Manager&includeSimilarTitles=false"
    )
    assert phrase == expected(lambda t, *_: "project manager" in t) == {"pm-senior", "pm"}


async def test_industry_tags_locations_and_unmapped_reporting(api):
    url = (
        APOLLO + "finderViewId=5b8050d050a3893c382e9360&personLocations[]=Germany"
        "&organizationIndustryTagIds[]=5567e0bf7369641d115f0200"
        "&organizationIndustryTagIds[]=5567e3f3736964395d7a0000"
    )
    answer, names = await _names(api, url)
    assert names == expected(
        lambda t, s, c, co: (
            c == "Germany"
            and co is not None
            and any(i in ("airlines/aviation", "mining & metals") for i in co["industries"])
        )
    )
    assert names == {"ceo-tiny", "pm", "cofounder-small"}
    assert answer["applied_filters"]["industries"] == ["airlines/aviation", "mining & metals"]
    assert [u["name"] for u in answer["unmapped_parameters"]] == ["finderViewId"]
    assert answer["unmapped_categories"] == ["apollo_account"]


async def test_sorting_and_apollo_pages(api):
    url = APOLLO + (
        "personLocations[]=Germany&sortByField=organization_estimated_number_"
        "employees&sortAscending=false"
    )
    answer = await _post(api, "contacts", {"url": url, "limit": 100})
    employees = [(c["company"] or {}).get("employees_count") for c in answer["results"]]
    assert employees == [20000, 15, 8, 8, None]  # descending, empty values last
    first = await _post(api, "contacts", {"url": url + "&page=1", "limit": 2})
    second = await _post(api, "contacts", {"url": url + "&page=2", "limit": 2})
    both = [c["uuid"] for c in first["results"] + second["results"]]
    assert both == [c["uuid"] for c in answer["results"][:4]]


async def test_cursors_walk_the_whole_search(api):
    url = APOLLO + (
        "personSeniorities[]=founder&personSeniorities[]=manager&personSeniorities[]=senior"
    )
    page = await _post(api, "contacts", {"url": url, "limit": 2, "include_count": True})
    seen = [c["first_name"] for c in page["results"]]
    assert page["count"] == 5 and page["previous"] is None
    while page["next"]:
        page = await _post(api, "contacts", {"url": url, "limit": 2, "cursor": page["next"]})
        seen += [c["first_name"] for c in page["results"]]
    assert sorted(seen) == sorted(expected(lambda t, s, *_: s in ("founder", "manager", "senior")))
    back = await _post(api, "contacts", {"url": url, "limit": 2, "cursor": page["previous"]})
    assert back["results"]


async def test_count(api):
    answer = await _post(api, "contacts/count", {"url": APOLLO + "personLocations[]=Germany"})
    assert answer == {"count": len(expected(lambda t, s, c, co: c == "Germany"))} == {"count": 5}


async def test_companies_search(api):
    url = (
        "https://app.apollo.io/#/companies?organizationNumEmployeesRanges[]=11%2C"
        "&qOrganizationKeywordTags[]=business%20consulting%20%26%20services"
    )
    answer = await _post(api, "companies", {"url": url})
    assert [c["name"] for c in answer["results"]] == ["Big Corp"]
    people_url = APOLLO + "personTitles[]=ceo&organizationNumEmployeesRanges[]=1%2C20"
    from_people = await _post(api, "companies", {"url": people_url})
    assert {c["name"] for c in from_people["results"]} == {"Tiny Labs", "Small Air"}
    assert [u["name"] for u in from_people["unmapped_parameters"]] == ["personTitles[]"]
    assert from_people["mapping_summary"]["unmapped_parameters"] == 1


async def test_technology_uids_match_folded_names(api):
    _, names = await _names(api, APOLLO + "currentlyUsingAnyOfTechnologyUids[]=shopify_plus")
    assert names == expected(
        lambda t, s, c, co: co is not None and "Shopify Plus" in co.get("technologies", [])
    )


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"url": "https://example.com/#/people?personTitles[]=CEO"}, "Not an Apollo URL"),
        ({"url": "https://app.apollo.io/#/lists/6523f1c2a0b1c2000123abcd"}, "saved list"),
        ({"url": ""}, "empty"),
        ({"url": 42}, "string"),
        ({}, "string"),
        ({"url": APOLLO, "limit": 500}, "limit"),
        ({"url": APOLLO, "surprise": 1}, "surprise"),
    ],
)
async def test_bad_input_is_422_with_a_clear_detail(api, body, fragment):
    answer = await _post(api, "contacts", body, status=422)
    assert answer["error_code"] == "VALIDATION_ERROR" and fragment in answer["detail"]


async def test_routes_need_an_actor(api):
    response = await api.post("/api/v2/apollo/analyze", json={"url": APOLLO})
    assert response.status == 401


async def test_a_cached_repeat_skips_parsing(api, monkeypatch):
    calls = []
    real = search_module.parse_apollo_url
    monkeypatch.setattr(
        search_module, "parse_apollo_url", lambda url: calls.append(url) or real(url)
    )
    url = APOLLO + "personTitles[]=cto&uniqueUrlId=abc"
    first = await _post(api, "analyze", {"url": url})
    second = await _post(api, "analyze", {"url": url})
    await _post(api, "contacts", {"url": url})
    assert first == second and len(calls) == 1


class LastNames:
    """A third-party mapping: Apollo's (here unmapped) ``personLastNames[]``."""

    @hookimpl(optionalhook=True)
    def register_apollo_mappings(self, settings):
        def last_names(values, context):
            result = MapResult()
            for value in values:
                result.add("last_name", value)
            return result

        return {"personLastNames": last_names}


async def test_a_plugin_maps_an_unmapped_parameter(make_client, settings):
    client = await make_client(
        settings, extra_plugins=[("header_actors", HeaderActors()), ("last_names", LastNames())]
    )
    await seed(
        client,
        [{"first_name": "A", "last_name": "Lovelace"}, {"first_name": "B", "last_name": "Hopper"}],
    )
    answer = await _post(client, "contacts", {"url": APOLLO + "personLastNames[]=lovelace"})
    assert [c["first_name"] for c in answer["results"]] == ["A"]
    assert answer["applied_filters"] == {"last_name": ["lovelace"]}
    assert answer["unmapped_parameters"] == []


async def test_places_match_every_part_with_country_codes(make_client, settings):
    client = await make_client(settings, extra_plugins=[("header_actors", HeaderActors())])
    places = {
        "houston": ("Houston", "Texas", "United States"),
        "paris-tx": ("Paris", "Texas", "United States"),
        "austin-no-country": ("Austin", "Texas", None),
        "london": ("London", "England", "United Kingdom"),
        "texas-street": ("Texas Street", None, "United Kingdom"),
        "nowhere": (None, None, None),
    }
    await seed(
        client,
        [
            {"first_name": key, "city": city, "state": state, "country": country}
            for key, (city, state, country) in places.items()
        ],
    )

    def people(answer):
        return {c["first_name"] for c in answer["results"]}

    texas_us = await _post(client, "contacts", {"url": APOLLO + "personLocations[]=Texas%2C%20US"})
    assert texas_us["applied_filters"] == {"contact_location": ["Texas, US"]}
    assert people(texas_us) == {"houston", "paris-tx"}
    uk = await _post(client, "contacts", {"url": APOLLO + "personLocations[]=London%2C%20UK"})
    assert people(uk) == {"london"}
    not_texas = await _post(
        client, "contacts", {"url": APOLLO + "personNotLocations[]=Texas%2C%20US"}
    )
    assert people(not_texas) == {"austin-no-country", "london", "texas-street", "nowhere"}
