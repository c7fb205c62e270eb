"""Apollo URLs as real users write them (issue 15), over HTTP on real PostgreSQL:
regions, abbreviations and metro areas, title exclusions by word, quoted titles,
Apollo's default keyword fields, keys seen in real URLs, email statuses without
an equivalent, the analyze warnings, and the sort and page of the answer.

Expected people are written by hand from the seeded rows below (which country is
in which region is stated here, not read from the plugin's table)."""

from urllib.parse import quote

import pytest

from contacts_api import hookimpl
from contacts_api.plugins.apollo.locations import default_locations
from contacts_api.plugins.apollo.mappers import location_mappers
from tests.helpers import HeaderActors, as_user, seed
from tests.plugins.exports.conftest import parse_csv, wait_done

ALICE = as_user("alice")
APOLLO = "https://app.apollo.io/#/people?"
COMPANIES_URL = "https://app.apollo.io/#/companies?"

COMPANIES = {
    "berlin": {"name": "Spree Software", "domain": "spree.de", "country": "Germany"},
    "zurich": {"name": "Limmat Bank", "domain": "limmat.ch", "country": "Switzerland"},
    "dubai": {"name": "Creek Logistics", "domain": "creek.ae", "country": "United Arab Emirates"},
    "tokyo": {"name": "Sumida Robotics", "domain": "sumida.jp", "country": "Japan"},
    "seattle": {"name": "Sound Cloudworks", "domain": "sound.io", "country": "United States"},
}
# key: (title, city, state, country, company)
PEOPLE = {
    "berlin-eng": ("Software Engineer", "Berlin", "Berlin", "Germany", "berlin"),
    "vienna-intern": ("Marketing Intern", "Vienna", None, "Austria", None),
    "zurich-vp": ("VP Sales", "Zurich", None, "Switzerland", "zurich"),
    "paris-ceo": ("CEO", "Paris", "Île-de-France", "France", None),
    "london-lead": ("Team Lead", "London", "England", "United Kingdom", None),
    "stockholm-assistant": ("Executive Assistant", "Stockholm", None, "Sweden", None),
    "oslo-cto": ("CTO", "Oslo", None, "Norway", None),
    "dubai-director": ("Director of Sales", "Dubai", None, "United Arab Emirates", "dubai"),
    "riyadh-coo": ("Chief Operating Officer", "Riyadh", None, "Saudi Arabia", None),
    "lagos-founder": ("Founder", "Lagos", None, "Nigeria", None),
    "tokyo-pm": ("Product Manager", "Tokyo", None, "Japan", "tokyo"),
    "sydney-cfo": ("CFO", "Sydney", "New South Wales", "Australia", None),
    "mumbai-eng": ("Engineer", "Mumbai", "Maharashtra", "India", None),
    "seattle-vp": ("VP Engineering", "Seattle", "Washington", "United States", "seattle"),
    "omaha-ceo": ("CEO", "Omaha", "Nebraska", "United States", None),
    "toronto-cmo": ("CMO", "Toronto", "Ontario", "Canada", None),
    "saopaulo-sales": ("Sales Manager", "São Paulo", None, "Brazil", None),
    "dc-analyst": ("Policy Analyst", "Washington", "District of Columbia", "United States", None),
    "berlin-no-title": (None, "Berlin", None, "Germany", None),
    "nowhere-ceo": ("CEO", None, None, None, None),
}
EVERYONE = set(PEOPLE)
DACH = {"berlin-eng", "vienna-intern", "zurich-vp", "berlin-no-title"}
NORDICS = {"stockholm-assistant", "oslo-cto"}
EUROPE = DACH | NORDICS | {"paris-ceo", "london-lead"}
GCC = {"dubai-director", "riyadh-coo"}
EMEA = EUROPE | GCC | {"lagos-founder"}
APAC = {"tokyo-pm", "sydney-cfo", "mumbai-eng"}
AMERICAS = {"seattle-vp", "omaha-ceo", "toronto-cmo", "saopaulo-sales", "dc-analyst"}


@pytest.fixture
async def api(make_client, settings):
    client = await make_client(settings, extra_plugins=[("header_actors", HeaderActors())])
    await seed(
        client,
        [
            {
                "first_name": key,
                "last_name": "Test",
                "title": title,
                "city": city,
                "state": state,
                "country": country,
                **({"company": COMPANIES[company]} if company else {}),
            }
            for key, (title, city, state, country, company) in PEOPLE.items()
        ],
    )
    return client


async def _post(api, path, url, status=200, **body):
    if path in ("contacts", "companies"):
        body.setdefault("limit", 100)
    response = await api.post(f"/api/v2/apollo/{path}", json={"url": url, **body}, headers=ALICE)
    answer = await response.json()
    assert response.status == status, answer
    return answer


async def _people(api, query: str) -> tuple[dict, set[str]]:
    answer = await _post(api, "contacts", APOLLO + query)
    count = await _post(api, "contacts/count", APOLLO + query)
    names = {c["first_name"] for c in answer["results"]}
    assert count == {"count": len(names)}
    return answer, names


# --- locations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "region, expected",
    [
        ("Europe", EUROPE),
        ("europe", EUROPE),
        ("DACH", DACH),
        ("EMEA", EMEA),
        ("APAC", APAC),
        ("Asia-Pacific", APAC),
        ("Americas", AMERICAS),
        ("Nordics", NORDICS),
        ("GCC", GCC),
        ("European Union", DACH - {"zurich-vp"} | {"paris-ceo", "stockholm-assistant"}),
        ("Africa", {"lagos-founder"}),
        ("Middle East", GCC),
        ("LATAM", {"saopaulo-sales"}),
        ("North America", AMERICAS - {"saopaulo-sales"}),
        ("UAE", {"dubai-director"}),
        ("USA", {"seattle-vp", "omaha-ceo", "dc-analyst"}),
    ],
)
async def test_a_region_is_its_countries(api, region, expected):
    answer, names = await _people(api, "personLocations[]=" + quote(region))
    assert names == expected
    assert answer["warnings"] == []
    assert len(answer["applied_filters"]["contact_location"]) >= len(
        {PEOPLE[key][3] for key in expected}
    )


async def test_the_expansion_is_shown_in_applied_filters(api):
    answer, _ = await _people(api, "personLocations[]=DACH&personLocations[]=Nordics")
    assert answer["applied_filters"] == {
        "contact_location": [
            "Germany",
            "Austria",
            "Switzerland",
            "Denmark",
            "Finland",
            "Iceland",
            "Norway",
            "Sweden",
        ]
    }
    assert answer["mapping_summary"]["unmapped_parameters"] == 0
    europe, _ = await _people(api, "personLocations[]=Europe")
    shown = europe["applied_filters"]["contact_location"]
    assert {"Germany", "France", "United Kingdom", "Norway", "Poland"} <= set(shown)
    assert not {"Georgia", "Jersey", "India", "United States"} & set(shown)


@pytest.mark.parametrize(
    "metro, expected, shown",
    [
        ("Greater Seattle Area", {"seattle-vp"}, ["Seattle"]),
        ("Greater Omaha Area", {"omaha-ceo"}, ["Omaha"]),
        (
            "Washington D.C. Metro Area",
            {"dc-analyst"},
            ["Washington, District of Columbia"],
        ),
        ("Seattle Metropolitan Area", {"seattle-vp"}, ["Seattle"]),
    ],
)
async def test_a_metro_area_is_its_city(api, metro, expected, shown):
    answer, names = await _people(api, "personLocations[]=" + quote(metro))
    assert names == expected
    assert answer["applied_filters"] == {"contact_location": shown}


async def test_excluded_locations_expand_too(api):
    answer, names = await _people(api, "personNotLocations[]=Europe&personNotLocations[]=GCC")
    assert names == EVERYONE - EUROPE - GCC  # the contact without a place passes
    assert "Germany" in answer["applied_filters"]["exclude_contact_locations"]
    _, names = await _people(api, "personLocations[]=EMEA&personNotLocations[]=DACH")
    assert names == EMEA - DACH


async def test_company_locations_expand_for_people_and_companies(api):
    _, names = await _people(api, "organizationLocations[]=DACH")
    assert names == {"berlin-eng", "zurich-vp"}
    _, names = await _people(api, "organizationNotLocations[]=EMEA")
    assert names == EVERYONE - {"berlin-eng", "zurich-vp", "dubai-director"}
    answer = await _post(api, "companies", COMPANIES_URL + "organizationLocations[]=EMEA")
    assert {c["name"] for c in answer["results"]} == {
        "Spree Software",
        "Limmat Bank",
        "Creek Logistics",
    }
    assert "United Arab Emirates" in answer["applied_filters"]["company_location"]
    answer = await _post(api, "companies", COMPANIES_URL + "organizationNotLocations[]=APAC")
    assert {c["name"] for c in answer["results"]} == {
        "Spree Software",
        "Limmat Bank",
        "Creek Logistics",
        "Sound Cloudworks",
    }


async def test_an_unknown_region_like_location_is_searched_as_written_with_a_warning(api):
    answer, names = await _people(
        api, "personLocations[]=Pacific%20Northwest&personLocations[]=Berlin"
    )
    assert names == {"berlin-eng", "berlin-no-title"}
    assert answer["applied_filters"] == {"contact_location": ["Pacific Northwest", "Berlin"]}
    assert answer["warnings"] == [
        "location 'Pacific Northwest' is neither a known place nor a known region: "
        "searched as written"
    ]


# --- titles ------------------------------------------------------------------------------


async def test_excluded_titles_are_words_contained_in_the_title(api):
    answer, names = await _people(
        api, "personNotTitles[]=intern&personNotTitles[]=assistant&personNotTitles[]=ENGINEER"
    )
    # "VP Engineering" contains "engineer"; the contact without a title passes
    assert names == EVERYONE - {
        "vienna-intern",
        "stockholm-assistant",
        "berlin-eng",
        "mumbai-eng",
        "seattle-vp",
    }
    assert answer["applied_filters"] == {
        "exclude_title_contains": ["intern", "assistant", "ENGINEER"]
    }
    _, names = await _people(api, "personLocations[]=DACH&personNotTitles[]=%22intern%22")
    assert names == DACH - {"vienna-intern"}


async def test_quoted_titles_lose_their_quotes(api):
    answer, names = await _people(
        api,
        "personTitles[]=%22chief%20operating%20officer%22&personTitles[]=%E2%80%9Ccfo%E2%80%9D"
        "&includeSimilarTitles=false",
    )
    assert names == {"riyadh-coo", "sydney-cfo"}
    assert answer["applied_filters"] == {"title": ["chief operating officer", "cfo"]}


async def test_exclude_title_contains_on_the_get_routes(api):
    for path in ("/api/v1/contacts/", "/api/v2/contacts/"):
        response = await api.get(
            f"{path}?exclude_title_contains=ceo,engineer&country=united&limit=100",
            headers=ALICE,
        )
        body = await response.json()
        assert response.status == 200, body
        # in the United States, Kingdom and Arab Emirates, without "ceo" or "engineer"
        assert {c["first_name"] for c in body["results"]} == {
            "dc-analyst",
            "london-lead",
            "dubai-director",
        }
    count = await api.get(
        "/api/v1/contacts/count/?exclude_title_contains=ceo,engineer&country=united",
        headers=ALICE,
    )
    assert await count.json() == {"count": 3}


async def test_exclude_title_contains_in_exports(api):
    response = await api.post(
        "/api/v2/exports/contacts/export",
        json={"apollo_url": APOLLO + "personLocations[]=DACH&personNotTitles[]=intern"},
        headers=ALICE,
    )
    assert response.status == 202, await response.text()
    export = await wait_done(api, (await response.json())["id"])
    assert export["status"] == "completed", export
    link = await (await api.get(f"/api/v2/exports/{export['id']}/download", headers=ALICE)).json()
    data = await (await api.get(link["download_url"][link["download_url"].index("/api/") :])).read()
    assert {row["first_name"] for row in parse_csv(data)} == DACH - {"vienna-intern"}


# --- keys and values of real URLs --------------------------------------------------------


async def test_default_keyword_fields_count_as_mapped(api):
    answer, names = await _people(
        api,
        "includedOrganizationKeywordFields[]=tags&includedOrganizationKeywordFields[]=name"
        "&personLocations[]=Japan",
    )
    assert names == {"tokyo-pm"}
    assert answer["mapping_summary"] == {
        "total_parameters": 2,
        "mapped_parameters": 2,
        "unmapped_parameters": 0,
    }
    assert answer["unmapped_categories"] == []


@pytest.mark.parametrize(
    "query, name, category",
    [
        ("qPersonPersonaIds[]=64f0a1b2c3d4e5f6a7b8c9d0", "qPersonPersonaIds[]", "apollo_account"),
        ("notOrganizationIds[]=5f1e2d3c4b5a69780012abcd", "notOrganizationIds[]", "organization"),
        ("contactEmailExcludeCatchAll=true", "contactEmailExcludeCatchAll", "email"),
        ("eventCategories[]=news", "eventCategories[]", "signals"),
        ("publishedAtDateRange[min]=2024-01-01", "publishedAtDateRange[min]", "signals"),
        ("existFields[]=person_phone", "existFields[]", "person"),
    ],
)
async def test_keys_of_real_urls_are_categorized(api, query, name, category):
    analysis = await _post(api, "analyze", APOLLO + query)
    assert list(analysis["categories"]) == [category]
    assert analysis["categories"][category] == {name: [query.partition("=")[2]]}
    answer, names = await _people(api, query)
    assert names == EVERYONE
    assert [(u["name"], u["category"]) for u in answer["unmapped_parameters"]] == [(name, category)]
    assert answer["unmapped_categories"] == [category]


async def test_email_statuses_without_equivalent_drop_the_filter_with_a_warning(api):
    answer, names = await _people(
        api,
        "contactEmailStatusV2[]=user_managed&contactEmailStatusV2[]=new_data_available",
    )
    assert names == EVERYONE
    assert answer["applied_filters"] == {}
    assert [(u["name"], u["values"], u["category"]) for u in answer["unmapped_parameters"]] == [
        ("contactEmailStatusV2[]", ["user_managed"], "email"),
        ("contactEmailStatusV2[]", ["new_data_available"], "email"),
    ]
    assert answer["warnings"] == [
        "email-status filter contactEmailStatusV2[] dropped: none of its values "
        "(user_managed, new_data_available) has an equivalent here"
    ]
    partly, _ = await _people(
        api, "contactEmailStatusV2[]=verified&contactEmailStatusV2[]=user_managed"
    )
    assert partly["applied_filters"] == {"email_status": ["verified"]}
    assert partly["warnings"] == []


async def test_analyze_reports_the_repairs_the_search_routes_report(api):
    url = (
        APOLLO + "organizationNumEmployeesRanges[]=51-200&person_titles[]=cto"
        "&personLocations[]=East%20Coast&personTitles[]=%20vp%20"
    )
    analysis = await _post(api, "analyze", url)
    search = await _post(api, "contacts", url)
    assert analysis["warnings"] == search["warnings"]
    assert "employee range '51-200' read as 51,200" in analysis["warnings"]
    assert any("East Coast" in warning for warning in analysis["warnings"])
    assert any(warning.startswith("API-style key") for warning in analysis["warnings"])
    assert any(warning.startswith("stray whitespace") for warning in analysis["warnings"])


# --- sort and page -----------------------------------------------------------------------


async def test_the_ordering_and_page_are_shown(api):
    answer = await _post(
        api,
        "contacts",
        APOLLO + "personLocations[]=DACH&sortByField=person_name.raw&sortAscending=false&page=2",
        limit=2,
    )
    assert (answer["applied_ordering"], answer["page"]) == ("-first_name", 2)
    assert [c["first_name"] for c in answer["results"]] == sorted(DACH, reverse=True)[2:4]
    default = await _post(api, "contacts", APOLLO + "personTitles[]=ceo")
    assert (default["applied_ordering"], default["page"]) == (None, None)
    companies = await _post(
        api,
        "companies",
        COMPANIES_URL + "sortByField=organization_estimated_number_employees&page=1",
    )
    assert (companies["applied_ordering"], companies["page"]) == ("employees", 1)


async def test_a_direction_without_a_mapped_sort_field_is_unmapped(api):
    answer = await _post(
        api, "contacts", APOLLO + "sortByField=recommendations_score&sortAscending=false"
    )
    assert answer["applied_ordering"] is None
    assert [(u["name"], u["category"]) for u in answer["unmapped_parameters"]] == [
        ("sortByField", "sorting"),
        ("sortAscending", "sorting"),
    ]
    assert answer["mapping_summary"]["mapped_parameters"] == 0


class MoreRegions:
    """The README's example: a plugin extends the location table through the hook."""

    @hookimpl(optionalhook=True)
    def register_apollo_mappings(self, settings):
        table = default_locations().extended(
            {"DACH+": ["DACH", "Liechtenstein"], "Malardalen": ["Stockholm"]}
        )
        return location_mappers(table)


async def test_a_plugin_extends_the_location_table(make_client, settings):
    client = await make_client(
        settings,
        extra_plugins=[("header_actors", HeaderActors()), ("more_regions", MoreRegions())],
    )
    await seed(
        client,
        [
            {"first_name": "vaduz", "city": "Vaduz", "country": "Liechtenstein"},
            {"first_name": "vienna", "city": "Vienna", "country": "Austria"},
            {"first_name": "stockholm", "city": "Stockholm", "country": "Sweden"},
            {"first_name": "paris", "city": "Paris", "country": "France"},
        ],
    )
    answer, names = await _people(client, "personLocations[]=DACH%2B")
    assert names == {"vaduz", "vienna"}
    assert answer["applied_filters"] == {
        "contact_location": ["Germany", "Austria", "Switzerland", "Liechtenstein"]
    }
    answer, names = await _people(client, "personNotLocations[]=Malardalen")
    assert names == {"vaduz", "vienna", "paris"}
    _, names = await _people(client, "organizationLocations[]=Europe")  # the rest still works
    assert names == set()


async def test_a_sort_companies_do_not_have_is_unmapped_for_companies(api):
    url = APOLLO + "organizationLocations[]=DACH&sortByField=person_name.raw&sortAscending=false"
    people = await _post(api, "contacts", url)
    assert (people["applied_ordering"], people["unmapped_parameters"]) == ("-first_name", [])
    answer = await _post(api, "companies", url)
    assert answer["applied_ordering"] is None
    assert [(u["name"], u["reason"]) for u in answer["unmapped_parameters"]] == [
        ("sortByField", "companies cannot be sorted by first_name"),
        ("sortAscending", "companies cannot be sorted by first_name"),
    ]
    assert answer["mapping_summary"] == {
        "total_parameters": 3,
        "mapped_parameters": 1,
        "unmapped_parameters": 2,
    }
    assert {c["name"] for c in answer["results"]} == {"Spree Software", "Limmat Bank"}


async def test_the_contract_is_in_the_openapi_document(api):
    document = await (await api.get("/openapi.json")).json()
    paths = document["paths"]
    declared = document["components"]["parameters"]

    def resolve(parameter):  # filter parameters are declared once and referenced
        ref = parameter.get("$ref")
        return declared[ref.rsplit("/", 1)[1]] if ref else parameter

    for path in ("/api/v1/contacts/", "/api/v2/contacts/", "/api/v1/contacts/count/"):
        params = {p["name"]: p for p in map(resolve, paths[path]["get"]["parameters"])}
        assert "personNotTitles" in params["exclude_title_contains"]["description"], path
    search = paths["/api/v2/apollo/contacts"]["post"]
    answer = search["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"applied_ordering", "page", "applied_filters"} <= set(answer["properties"])
    body = search["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["url"]["maxLength"] == 65_536
    analyze = paths["/api/v2/apollo/analyze"]["post"]
    schema = analyze["responses"]["200"]["content"]["application/json"]["schema"]
    assert "warnings" in schema["properties"]
