"""Mapping Apollo search parameters onto contact filters (mapping.py, mappers.py)."""

from collections.abc import Sequence
from typing import NamedTuple

import pytest

from contacts_api.plugins.apollo.industries import industry_name, industry_tags
from contacts_api.plugins.apollo.mapping import (
    COMPANY_FILTER_NAMES,
    DEFAULT_MAPPERS,
    MappedSearch,
    MappingContext,
    MapResult,
    Unmapped,
    company_filters,
    map_parameters,
)
from contacts_api.plugins.apollo.parsing import ApolloUrlError, parse_apollo_url

PEOPLE = "https://app.apollo.io/#/people?"
SOFTWARE = "5567cd4e7369643b70010000"  # computer software
IT_SERVICES = "5567cd4773696439b10b0000"  # information technology & services
WELLNESS = "5567cddb7369644d250c0000"  # "health, wellness & fitness"
STAFFING = "5567e09973696410db020800"  # staffing & recruiting

ACCOUNT = "Apollo account state (saved views, lists, personas, prospecting) has no equivalent here"
UI = "user-interface state, not a filter"
SIGNALS = "no data for this signal here"
BAD_PAGE = "the page must be a positive whole number"
PERSON_ONLY = "person filter does not apply to a company search"


def run(query: str, extra=None) -> MappedSearch:
    return map_parameters(parse_apollo_url(PEOPLE + query), extra)


def unmapped(search: MappedSearch) -> list[tuple[str, list[str], str, str]]:
    return [(item.name, item.values, item.category, item.reason) for item in search.unmapped]


# --- one test per row of docs/api.md's Apollo mapping table -------------------------------------


@pytest.mark.parametrize(
    ("query", "filters", "rejected"),
    [
        (
            "personTitles[]=CEO&personTitles[]=Head%20of%20Sales",
            {"title": ["CEO", "Head of Sales"]},
            [],
        ),
        (
            "personNotTitles[]=%22intern%22&personNotTitles[]=%E2%80%9Cassistant%E2%80%9D"
            "&personNotTitles[]='sales'&personNotTitles[]=%22%22",
            {"exclude_title_contains": ["intern", "assistant", "sales"]},
            [("personNotTitles[]", ['""'], "titles", "empty title")],
        ),
        (
            "personSeniorities[]=c_suite&personSeniorities[]=VP&personSeniorities[]=chief",
            {"seniority": ["c_suite", "vp"]},
            [("personSeniorities[]", ["chief"], "person", "unknown seniority")],
        ),
        (
            "personDepartmentOrSubdepartments[]=master_marketing"
            "&personDepartmentOrSubdepartments[]=master_information_technology"
            "&personDepartmentOrSubdepartments[]=sales_operations",
            {"department": ["marketing", "information technology", "sales operations"]},
            [],
        ),
        ("personLocations[]=Texas%2C%20US", {"contact_location": ["Texas, US"]}, []),
        ("personNotLocations[]=India", {"exclude_contact_locations": ["India"]}, []),
        ("organizationLocations[]=Berlin", {"company_location": ["Berlin"]}, []),
        ("organizationNotLocations[]=China", {"exclude_company_locations": ["China"]}, []),
        (
            "organizationNumEmployeesRanges[]=1%2C10&organizationNumEmployeesRanges[]=11,"
            "&organizationNumEmployeesRanges[]=10001&organizationNumEmployeesRanges[]=%2C200"
            "&organizationNumEmployeesRanges[]=201-500&organizationNumEmployeesRanges[]=051,0100",
            {"employees_range": ["1,10", "11,", "10001,", ",200", "201,500", "51,100"]},
            [],
        ),
        (
            "organizationNumEmployeesRanges[]=lots&organizationNumEmployeesRanges[]=10001%2B"
            "&organizationNumEmployeesRanges[]=%2C&organizationNumEmployeesRanges[]=500,100",
            {},
            [
                (
                    "organizationNumEmployeesRanges[]",
                    ["lots", "10001+", ","],
                    "employees",
                    "not an employee range (expected a,b or a, or ,b or a-b)",
                ),
                (
                    "organizationNumEmployeesRanges[]",
                    ["500,100"],
                    "employees",
                    "the range's minimum is above its maximum",
                ),
            ],
        ),
        (
            "revenueRange[min]=1000000&revenueRange[max]=50000000",
            {"annual_revenue_min": ["1000000"], "annual_revenue_max": ["50000000"]},
            [],
        ),
        (
            "revenueRange[min]=1e6&revenueRange[max]=5000000&revenueRange[max]=9",
            {"annual_revenue_max": ["5000000"]},
            [
                ("revenueRange[min]", ["1e6"], "revenue", "not a whole number"),
                ("revenueRange[max]", ["9"], "revenue", "only one value applies"),
            ],
        ),
        (
            "contactEmailStatusV2[]=verified&contactEmailStatusV2[]=likely_to_engage",
            {"email_status": ["verified", "likely_to_engage"]},
            [],
        ),
        (
            "contactEmailStatus[]=Verified&contactEmailStatus[]=guessed",
            {"email_status": ["verified"]},
            [("contactEmailStatus[]", ["guessed"], "email", "unknown email status")],
        ),
        (
            f"organizationIndustryTagIds[]={SOFTWARE}&organizationIndustryTagIds[]={WELLNESS}"
            "&organizationIndustryTagIds[]=000000000000000000000000",
            {"industries": ["computer software", "health, wellness & fitness"]},
            [
                (
                    "organizationIndustryTagIds[]",
                    ["000000000000000000000000"],
                    "industry",
                    "unknown industry tag id",
                )
            ],
        ),
        (
            f"organizationNotIndustryTagIds[]={STAFFING.upper()}",
            {"exclude_industries": ["staffing & recruiting"]},
            [],
        ),
        ("qOrganizationKeywordTags[]=saas", {"keywords": ["saas"]}, []),
        ("qNotOrganizationKeywordTags[]=agency", {"exclude_keywords": ["agency"]}, []),
        (
            "qAndedOrganizationKeywordTags[]=cloud&qAndedOrganizationKeywordTags[]=security",
            {"keywords_and": ["cloud", "security"]},
            [],
        ),
        (
            "qOrganizationKeywordTags[]=acme&includedOrganizationKeywordFields[]=name",
            {"company": ["acme"]},
            [],
        ),
        (
            "qOrganizationKeywordTags[]=crm&includedOrganizationKeywordFields[]=tags"
            "&includedOrganizationKeywordFields[]=name",
            {"keywords": ["crm"]},
            [],
        ),
        (
            "qNotOrganizationKeywordTags[]=bank&excludedOrganizationKeywordFields[]=name",
            {"exclude_company_name": ["bank"]},
            [],
        ),
        (
            "qAndedOrganizationKeywordTags[]=cloud&includedAndedOrganizationKeywordFields[]=name",
            {},
            [
                (
                    "qAndedOrganizationKeywordTags[]",
                    ["cloud"],
                    "keywords",
                    "no filter requires every word in the company name",
                )
            ],
        ),
        # Apollo's default keyword fields, without keywords: nothing is lost
        ("includedOrganizationKeywordFields[]=name", {}, []),
        (
            "includedOrganizationKeywordFields[]=tags&includedOrganizationKeywordFields[]=name"
            "&excludedOrganizationKeywordFields[]=tags"
            "&includedAndedOrganizationKeywordFields[]=name",
            {},
            [],
        ),
        (
            "currentlyUsingAnyOfTechnologyUids[]=shopify_plus"
            "&currentlyUsingAnyOfTechnologyUids[]=node.js"
            "&currentlyUsingAnyOfTechnologyUids[]=google_tag__manager",
            {"technologies": ["shopify plus", "node js", "google tag manager"]},
            [],
        ),
        (
            "currentlyNotUsingAnyOfTechnologyUids[]=hubspot",
            {"exclude_technologies": ["hubspot"]},
            [],
        ),
        ("qOrganizationName=Acme%20Corp", {"company": ["Acme Corp"]}, []),
        (
            "qOrganizationDomainsList[]=Stripe.com%0Aadyen.com&qOrganizationDomainsList[]=stripe.com",
            {"include_domain_list": ["stripe.com", "adyen.com"]},
            [],
        ),
        ("qKeywords=data+engineer", {"search": ["data engineer"]}, []),
    ],
)
def test_mapping_table_rows(query, filters, rejected):
    search = run(query)
    assert search.filters == filters
    assert unmapped(search) == rejected


def test_dash_range_is_read_with_a_warning():
    assert run("organizationNumEmployeesRanges[]=201-500").warnings == [
        "employee range '201-500' read as 201,500"
    ]


@pytest.mark.parametrize(
    ("query", "title_match", "rejected"),
    [
        ("personTitles[]=project%20manager", "words", []),
        ("personTitles[]=project%20manager&includeSimilarTitles=true", "words", []),
        ("personTitles[]=project%20manager&includeSimilarTitles=false", "phrase", []),
        ("includeSimilarTitles=FALSE&personTitles[]=project%20manager", "phrase", []),
        (
            "personTitles[]=project%20manager&includeSimilarTitles=maybe",
            "words",
            [("includeSimilarTitles", ["maybe"], "titles", "expected true or false")],
        ),
    ],
)
def test_include_similar_titles_sets_the_title_match(query, title_match, rejected):
    search = run(query)
    assert search.filters == {"title": ["project manager"]}
    assert (search.title_match, unmapped(search)) == (title_match, rejected)


def test_include_similar_titles_without_titles_is_unmapped():
    search = run("includeSimilarTitles=false")
    assert (search.filters, search.title_match) == ({}, "words")
    assert unmapped(search) == [
        ("includeSimilarTitles", ["false"], "titles", "only meaningful with personTitles[]")
    ]


@pytest.mark.parametrize(
    ("query", "page", "rejected"),
    [
        ("page=3", 3, []),
        ("page=0", None, [("page", ["0"], "pagination", BAD_PAGE)]),
        ("page=two", None, [("page", ["two"], "pagination", BAD_PAGE)]),
        ("page=2&page=5", 2, [("page", ["5"], "pagination", "only one value applies")]),
    ],
)
def test_page(query, page, rejected):
    search = run(query)
    assert (search.page, unmapped(search)) == (page, rejected)


@pytest.mark.parametrize(
    ("query", "ordering"),
    [
        ("sortByField=person_name.raw", "first_name"),
        ("sortByField=person_name.raw&sortAscending=true", "first_name"),
        ("sortByField=person_title_normalized&sortAscending=false", "-title"),
        ("sortAscending=False&sortByField=sanitized_organization_name_unanalyzed", "-company"),
        ("sortByField=organization_estimated_number_employees&sortAscending=false", "-employees"),
        ("sortByField=%5Bnone%5D&sortAscending=false", None),
        ("sortAscending=false", None),
    ],
)
def test_sorting_is_mapped(query, ordering):
    search = run(query)
    assert (search.ordering, search.unmapped) == (ordering, [])
    assert search.mapping_summary()["unmapped_parameters"] == 0


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("recommendations_score", "Apollo's recommendation score has no equivalent here"),
        ("person_city", "no equivalent sort field here"),
    ],
)
def test_sort_fields_without_equivalent_are_unmapped(value, reason):
    search = run(f"sortByField={value}&sortAscending=false")
    assert search.ordering is None
    # the direction of an unmapped sort is lost with it
    assert unmapped(search) == [
        ("sortByField", [value], "sorting", reason),
        ("sortAscending", ["false"], "sorting", "its sortByField has no equivalent here"),
    ]
    assert search.mapped_names == []


@pytest.mark.parametrize(
    ("query", "name", "category", "reason"),
    [
        ("finderViewId=5b8050d050a3893c382e9360", "finderViewId", "apollo_account", ACCOUNT),
        ("prospectedByCurrentTeam[]=no", "prospectedByCurrentTeam[]", "apollo_account", ACCOUNT),
        ("uniqueUrlId=CntHsqwQ9m", "uniqueUrlId", "ui", UI),
        ("tour=true", "tour", "ui", UI),
        ("intentStrengths[]=high", "intentStrengths[]", "signals", SIGNALS),
        (
            "organizationIds[]=5f",
            "organizationIds[]",
            "organization",
            "Apollo's own organization ids",
        ),
        ("perPage=100", "perPage", "pagination", "the page size is the request's limit"),
        ("qPersonName=ada", "qPersonName", "person", "no equivalent filter here"),
        ("fooBar=1", "fooBar", "unknown", "unknown parameter"),
        ("qOrganizatio", "qOrganizatio", "unknown", "possibly truncated URL"),
        ("personTitles[]", "personTitles[]", "titles", "no value given"),
    ],
)
def test_parameters_without_equivalent_are_reported(query, name, category, reason):
    search = run(query)
    assert search.filters == {}
    assert [(item.name, item.category, item.reason) for item in search.unmapped] == [
        (name, category, reason)
    ]
    assert search.unmapped_categories() == [category]


def test_partly_mapped_parameter_counts_as_mapped():
    search = run(
        f"organizationIndustryTagIds[]={SOFTWARE}&organizationIndustryTagIds[]=bad&finderViewId=x"
    )
    assert search.filters == {"industries": ["computer software"]}
    assert search.mapped_names == ["organizationIndustryTagIds[]"]
    assert [item.name for item in search.unmapped] == [
        "organizationIndustryTagIds[]",
        "finderViewId",
    ]
    assert search.mapping_summary() == {
        "total_parameters": 2,
        "mapped_parameters": 1,
        "unmapped_parameters": 1,
    }
    assert search.unmapped_categories() == ["apollo_account", "industry"]


def test_every_industry_of_the_table_maps():
    tags = industry_tags()
    assert len(tags) == 147
    assert industry_name(" 5567E0BF7369641D115F0200 ") == "airlines/aviation"
    search = run("&".join(f"organizationIndustryTagIds[]={tag}" for tag in tags))
    assert search.filters == {"industries": list(tags.values())}


# --- worked examples of Apollo URLs ---------------------------------------------------------


def test_worked_example_1():
    search = map_parameters(
        parse_apollo_url(
            "https://app.apollo.io/#/people?personTitles[]=marketing&sortAscending=false"
            "&sortByField=%5Bnone%5D&uniqueUrlId=CntHsqwQ9m&personSeniorities[]=director"
            "&organizationNumEmployeesRanges[]=10001"
            "&personDepartmentOrSubdepartments[]=master_marketing&page=1"
        )
    )
    assert search.filters == {
        "title": ["marketing"],
        "seniority": ["director"],
        "employees_range": ["10001,"],
        "department": ["marketing"],
    }
    assert (search.page, search.ordering, search.warnings) == (1, None, [])
    assert unmapped(search) == [("uniqueUrlId", ["CntHsqwQ9m"], "ui", UI)]
    assert search.mapping_summary() == {
        "total_parameters": 8,
        "mapped_parameters": 7,
        "unmapped_parameters": 1,
    }
    assert search.unmapped_categories() == ["ui"]


def test_worked_example_2():
    search = map_parameters(
        parse_apollo_url(
            "https://app.apollo.io/#/people?page=1&personTitles[]=ceo"
            "&personTitles[]=co%20founder&organizationNumEmployeesRanges[]=1%2C10"
            "&organizationNumEmployeesRanges[]=11%2C20"
            "&qOrganizationKeywordTags[]=saas%20solutions"
            "&qOrganizationKeywordTags[]=business%20consulting%20%26%20services"
        )
    )
    assert search.filters == {
        "title": ["ceo", "co founder"],
        "employees_range": ["1,10", "11,20"],
        "keywords": ["saas solutions", "business consulting & services"],
    }
    assert (search.page, search.ordering, search.unmapped, search.warnings) == (1, None, [], [])


def test_worked_example_3():
    search = map_parameters(
        parse_apollo_url(
            "https://app.apollo.io/#/people?finderViewId=5b8050d050a3893c382e9360"
            "&personLocations[]=Germany&organizationIndustryTagIds[]=5567e0bf7369641d115f0200"
            "&organizationIndustryTagIds[]=5567e3f3736964395d7a0000"
        )
    )
    assert search.filters == {
        "contact_location": ["Germany"],
        "industries": ["airlines/aviation", "mining & metals"],
    }
    assert (search.page, search.ordering) == (None, None)
    assert unmapped(search) == [
        ("finderViewId", ["5b8050d050a3893c382e9360"], "apollo_account", ACCOUNT)
    ]


def test_worked_example_4():
    search = map_parameters(parse_apollo_url("https://app.apollo.io/#/people"))
    assert (search.filters, search.page, search.ordering, search.unmapped) == ({}, None, None, [])
    assert search.mapping_summary() == {
        "total_parameters": 0,
        "mapped_parameters": 0,
        "unmapped_parameters": 0,
    }


def test_worked_example_5():
    with pytest.raises(ApolloUrlError, match="is a saved list"):
        parse_apollo_url("https://app.apollo.io/#/lists/6523f1c2a0b1c2000123abcd")


def test_worked_example_6():
    with pytest.raises(ApolloUrlError, match="Not an Apollo URL"):
        parse_apollo_url("https://example.com/#/people?personTitles[]=CEO")


# --- realistic messy URLs ---------------------------------------------------------------


class Case(NamedTuple):
    url: str
    filters: dict[str, list[str]]
    unmapped: list[str]  # names of the unmapped entries, in order
    warnings: Sequence[str] = ()  # a substring of each warning, in order
    page: int | None = None
    ordering: str | None = None
    title_match: str = "words"


MESSY = {
    "slack-wrapped double-encoded": Case(
        "<https://app.apollo.io/#/people?personTitles%255B%255D=vp%2520sales&page=1>",
        {"title": ["vp sales"]},
        [],
        ["quotes or brackets", "double-encoded key", "double-encoded value"],
        page=1,
    ),
    "long saved-view URL": Case(
        PEOPLE + "finderViewId=5b8050d050a3893c382e9360&sortByField=recommendations_score"
        "&sortAscending=false&personTitles[]=head%20of%20growth&personTitles[]=vp%20marketing"
        "&personTitles[]=cmo&personLocations[]=United%20States&organizationNumEmployeesRanges[]"
        "=11%2C20&organizationNumEmployeesRanges[]=21%2C50&organizationNumEmployeesRanges[]=51%2C100"
        "&prospectedByCurrentTeam[]=no&contactEmailStatusV2[]=verified&page=1"
        "&uniqueUrlId=9ZtdbJ2CqQ",
        {
            "title": ["head of growth", "vp marketing", "cmo"],
            "contact_location": ["United States"],
            "employees_range": ["11,20", "21,50", "51,100"],
            "email_status": ["verified"],
        },
        [
            "finderViewId",
            "sortByField",
            "sortAscending",
            "prospectedByCurrentTeam[]",
            "uniqueUrlId",
        ],
        page=1,
    ),
    "API-style keys": Case(
        PEOPLE + "person_titles[]=cto&person_seniorities[]=c_suite"
        "&organization_num_employees_ranges[]=51,200&q_organization_keyword_tags[]=fintech"
        "&contact_email_status_v2[]=verified&per_page=50&page=2",
        {
            "title": ["cto"],
            "seniority": ["c_suite"],
            "employees_range": ["51,200"],
            "keywords": ["fintech"],
            "email_status": ["verified"],
        },
        ["per_page"],
        [
            "person_titles[] read as personTitles[]",
            "person_seniorities[]",
            "organization_num_",
            "q_organization_keyword_tags[]",
            "contact_email_status_v2[]",
            "per_page read as perPage",
        ],
        page=2,
    ),
    "truncated key at the end": Case(
        PEOPLE + "personTitles[]=CEO&personLocations[]=Canada&qOrganizatio",
        {"title": ["CEO"], "contact_location": ["Canada"]},
        ["qOrganizatio"],
    ),
    "truncated inside an escape": Case(
        PEOPLE + "personTitles[]=CEO&qOrganizationKeywordTags[]=machine%20learn%2",
        {"title": ["CEO"], "keywords": ["machine learn%2"]},
        [],
        ["possibly truncated URL"],
    ),
    "tracking query before the fragment": Case(
        "https://app.apollo.io/?utm_source=newsletter&gclid=abc123#/people?personTitles[]=cfo",
        {"title": ["cfo"]},
        [],
        ["ignored (Apollo keeps its search after '#'): utm_source, gclid"],
    ),
    "mixed bracket encodings and an unknown industry": Case(
        PEOPLE + f"organizationIndustryTagIds%5B%5D={IT_SERVICES}"
        f"&organizationIndustryTagIds[]={IT_SERVICES}&organizationIndustryTagIds[]=deadbeef",
        {"industries": ["information technology & services"]},
        ["organizationIndustryTagIds[]"],
    ),
    "companies search sorted by size": Case(
        "https://app.apollo.io/#/companies?organizationLocations[]=Berlin%2C%20Germany"
        "&organizationNumEmployeesRanges[]=201%2C500&qOrganizationKeywordTags[]=logistics"
        "&sortByField=organization_estimated_number_employees&sortAscending=false",
        {
            "company_location": ["Berlin, Germany"],
            "employees_range": ["201,500"],
            "keywords": ["logistics"],
        },
        [],
        ordering="-employees",
    ),
    "hashbang, trailing slash, repeated value": Case(
        "https://app.apollo.io/#!/people/?personSeniorities[]=vp&personSeniorities[]=director"
        "&personSeniorities[]=vp",
        {"seniority": ["vp", "director"]},
        [],
    ),
    "spreadsheet whitespace": Case(
        PEOPLE + "personTitles[]=%20Marketing%20Manager%20&personLocations[]=London%20",
        {"title": ["Marketing Manager"], "contact_location": ["London"]},
        [],
        ["stray whitespace", "stray whitespace"],
    ),
    "unicode names": Case(
        PEOPLE + "personLocations[]=S%C3%A3o%20Paulo&personLocations[]=M\u00fcnchen"
        "&qOrganizationName=Soci%C3%A9t%C3%A9%20G%C3%A9n%C3%A9rale",
        {
            "contact_location": ["S\u00e3o Paulo", "M\u00fcnchen"],
            "company": ["Soci\u00e9t\u00e9 G\u00e9n\u00e9rale"],
        },
        [],
    ),
    "keywords on the company name only": Case(
        PEOPLE + "qOrganizationKeywordTags[]=acme&qOrganizationKeywordTags[]=globex"
        "&includedOrganizationKeywordFields[]=name&personTitles[]=buyer",
        {"company": ["acme", "globex"], "title": ["buyer"]},
        [],
    ),
    "every exclusion": Case(
        PEOPLE + "personNotTitles[]=%22intern%22&personNotLocations[]=India"
        "&organizationNotLocations[]=China&organizationNotIndustryTagIds[]="
        + STAFFING
        + "&qNotOrganizationKeywordTags[]=agency&currentlyNotUsingAnyOfTechnologyUids[]=hubspot",
        {
            "exclude_title_contains": ["intern"],
            "exclude_contact_locations": ["India"],
            "exclude_company_locations": ["China"],
            "exclude_industries": ["staffing & recruiting"],
            "exclude_keywords": ["agency"],
            "exclude_technologies": ["hubspot"],
        },
        [],
    ),
    "technologies any and all": Case(
        PEOPLE + "currentlyUsingAnyOfTechnologyUids[]=shopify_plus"
        "&currentlyUsingAnyOfTechnologyUids[]=google_tag_manager"
        "&currentlyUsingAllOfTechnologyUids[]=aws",
        {"technologies": ["shopify plus", "google tag manager"]},
        ["currentlyUsingAllOfTechnologyUids[]"],
    ),
    "revenue, funding and a funding stage": Case(
        PEOPLE + "revenueRange[min]=1000000&revenueRange[max]=50000000"
        "&totalFundingRange[min]=5000000&organizationLatestFundingStageCd[]=2"
        "&organizationLatestFundingStageCd[]=3",
        {
            "annual_revenue_min": ["1000000"],
            "annual_revenue_max": ["50000000"],
            "total_funding_min": ["5000000"],
        },
        ["organizationLatestFundingStageCd[]"],
    ),
    "encoded nested revenue keys": Case(
        PEOPLE + "revenueRange%5Bmin%5D=250000&revenueRange%5Bmax%5D=1000000",
        {"annual_revenue_min": ["250000"], "annual_revenue_max": ["1000000"]},
        [],
    ),
    "signals galore": Case(
        PEOPLE + "personTitles[]=cfo&intentStrengths[]=high&lookalikeOrganizationIds[]=abc"
        "&organizationJobLocations[]=Remote&qOrganizationJobTitles[]=accountant"
        "&organizationNumJobsRange[min]=1"
        "&organizationDepartmentOrSubdepartmentCounts[master_finance][min]=3",
        {"title": ["cfo"]},
        [
            "intentStrengths[]",
            "lookalikeOrganizationIds[]",
            "organizationJobLocations[]",
            "qOrganizationJobTitles[]",
            "organizationNumJobsRange[min]",
            "organizationDepartmentOrSubdepartmentCounts[master_finance][min]",
        ],
    ),
    "account state": Case(
        PEOPLE + "finderViewId=abc&contactLabelIds[]=l1&personaIds[]=p1"
        "&prospectedByCurrentTeam[]=yes&qOrganizationSearchListId=s1&personTitles[]=founder",
        {"title": ["founder"]},
        [
            "finderViewId",
            "contactLabelIds[]",
            "personaIds[]",
            "prospectedByCurrentTeam[]",
            "qOrganizationSearchListId",
        ],
    ),
    "messy employee buckets": Case(
        PEOPLE + "organizationNumEmployeesRanges[]=1%2C10&organizationNumEmployeesRanges[]=11-50"
        "&organizationNumEmployeesRanges[]=10001%2B&organizationNumEmployeesRanges[]=%2C5"
        "&organizationNumEmployeesRanges[]=501",
        {"employees_range": ["1,10", "11,50", ",5", "501,"]},
        ["organizationNumEmployeesRanges[]"],
        ["read as 11,50"],
    ),
    "sort by name, direction absent": Case(
        PEOPLE + "sortByField=person_name.raw&personTitles[]=ceo",
        {"title": ["ceo"]},
        [],
        ordering="first_name",
    ),
    "sort by title descending": Case(
        PEOPLE + "sortAscending=false&sortByField=person_title_normalized",
        {},
        [],
        ordering="-title",
    ),
    "sort by company ascending": Case(
        PEOPLE + "sortByField=sanitized_organization_name_unanalyzed&sortAscending=true",
        {},
        [],
        ordering="company",
    ),
    "page zero": Case(
        PEOPLE + "page=0&personTitles[]=ceo",
        {"title": ["ceo"]},
        ["page"],
    ),
    "domains pasted as one block": Case(
        PEOPLE + "qOrganizationDomainsList[]=Stripe.com%0Aadyen.com%2C%20mollie.com"
        "&qOrganizationDomainsList[]=stripe.com",
        {"include_domain_list": ["stripe.com", "adyen.com", "mollie.com"]},
        [],
    ),
    "exact titles": Case(
        PEOPLE + "personTitles[]=account%20executive&includeSimilarTitles=false",
        {"title": ["account executive"]},
        [],
        title_match="phrase",
    ),
    "similar-titles flag without titles": Case(
        PEOPLE + "includeSimilarTitles=true&personSeniorities[]=manager",
        {"seniority": ["manager"]},
        ["includeSimilarTitles"],
    ),
    "legacy and new email statuses": Case(
        PEOPLE + "contactEmailStatus[]=verified&contactEmailStatus[]=guessed"
        "&contactEmailStatusV2[]=likely_to_engage",
        {"email_status": ["verified", "likely_to_engage"]},
        ["contactEmailStatus[]"],
    ),
    "keys without values": Case(
        PEOPLE + "personTitles[]&qKeywords=&page=1",
        {},
        ["personTitles[]", "qKeywords"],
        page=1,
    ),
    "snake and camel twins merge": Case(
        PEOPLE + "personTitles[]=ceo&person_titles[]=cfo&person_titles[]=ceo",
        {"title": ["ceo", "cfo"]},
        [],
        ["API-style key person_titles[] read as personTitles[]"],
    ),
    "line break from an email client": Case(
        PEOPLE + "personTitles[]=head%20of%20\nsales&personLocations[]=Paris",
        {"title": ["head of sales"], "contact_location": ["Paris"]},
        [],
        ["line breaks"],
    ),
    "unknown tracking parameters inside the fragment": Case(
        PEOPLE + "personTitles[]=ceo&utm_campaign=spring&ref=linkedin",
        {"title": ["ceo"]},
        ["utm_campaign", "ref"],
    ),
    "whole URL percent-encoded": Case(
        "https%3A%2F%2Fapp.apollo.io%2F%23%2Fpeople%3FpersonTitles%255B%255D%3DCOO"
        "%26qOrganizationKeywordTags%255B%255D%3Dfood%2520%2526%2520beverage",
        {"title": ["COO"], "keywords": ["food & beverage"]},
        [],
        ["whole URL was percent-encoded"],
    ),
    "plus signs as spaces": Case(
        PEOPLE + "qKeywords=data+engineer&personLocations[]=Austin%2C+Texas",
        {"search": ["data engineer"], "contact_location": ["Austin, Texas"]},
        [],
    ),
    "departments": Case(
        PEOPLE + "personDepartmentOrSubdepartments[]=master_engineering_technical"
        "&personDepartmentOrSubdepartments[]=product_management",
        {"department": ["engineering technical", "product management"]},
        [],
    ),
    "bare apollo.io host without scheme": Case(
        "apollo.io/#/people?personSeniorities[]=owner",
        {"seniority": ["owner"]},
        [],
        ["no scheme"],
    ),
    "indexed arrays": Case(
        PEOPLE + "personTitles[0]=ceo&personTitles[1]=cto",
        {"title": ["ceo", "cto"]},
        [],
        ["personTitles[0] read as personTitles[]", "personTitles[1] read as personTitles[]"],
    ),
    "Apollo's organization ids": Case(
        PEOPLE + "organizationIds[]=5f1e2d3c4b5a69780012abcd&personTitles[]=cto",
        {"title": ["cto"]},
        ["organizationIds[]"],
    ),
    "double-encoded default sort": Case(
        PEOPLE + "sortByField=%255Bnone%255D&sortAscending=false&personTitles[]=cto",
        {"title": ["cto"]},
        [],
        ["double-encoded value of sortByField"],
    ),
    "quoted, smart-quoted and blank exclusions": Case(
        PEOPLE + "personNotTitles[]=%E2%80%9Cassistant%E2%80%9D&personNotTitles[]=+",
        {"exclude_title_contains": ["assistant"]},
        [],
        ["stray whitespace"],
    ),
    "UI flags and chat zero-width space": Case(
        PEOPLE + "tour=true&viewMode=table&personTitles[]=cto%E2%80%8B",
        {"title": ["cto"]},
        ["tour", "viewMode"],
        ["stray whitespace"],
    ),
}


@pytest.mark.parametrize("case", MESSY.values(), ids=MESSY.keys())
def test_messy_urls(case: Case):
    search = map_parameters(parse_apollo_url(case.url))
    assert search.filters == case.filters
    assert [item.name for item in search.unmapped] == case.unmapped
    assert len(search.warnings) == len(case.warnings), search.warnings
    for warning, expected in zip(search.warnings, case.warnings, strict=True):
        assert expected in warning
    assert (search.page, search.ordering, search.title_match) == (
        case.page,
        case.ordering,
        case.title_match,
    )


def test_there_are_at_least_thirty_messy_urls():
    assert len(MESSY) >= 30


# --- extension by plugins ---------------------------------------------------------------


def test_extra_mappers_map_a_previously_unmapped_parameter():
    def person_name(values: list[str], context: MappingContext) -> MapResult:
        result = MapResult()
        for value in values:
            first, _, last = value.partition(" ")
            result.add("first_name", first)
            if last:
                result.add("last_name", last)
        return result

    query = "qPersonName=Ada%20Lovelace&personTitles[]=countess"
    assert [item.name for item in run(query).unmapped] == ["qPersonName"]
    search = run(query, {"qPersonName": person_name})
    assert search.filters == {
        "first_name": ["Ada"],
        "last_name": ["Lovelace"],
        "title": ["countess"],
    }
    assert search.unmapped == []
    assert search.mapped_names == ["qPersonName", "personTitles[]"]


def test_extra_mappers_override_a_default_and_report_with_reasons_and_warnings():
    def titles_upper(values: list[str], context: MappingContext) -> MapResult:
        assert (context.name, context.canonical, context.page_type) == (
            "person_titles[]",
            "personTitles",
            "people",
        )
        assert context.values_of("personSeniorities") == ["vp"]
        result = MapResult().reject([v for v in values if len(v) < 3], "too short")
        for value in values:
            if len(value) >= 3:
                result.add("title", value.upper())
        result.warnings.append("titles upper-cased")
        return result

    search = run(
        "person_titles[]=cto&person_titles[]=x&personSeniorities[]=vp",
        {"personTitles": titles_upper},
    )
    assert search.filters == {"title": ["CTO"], "seniority": ["vp"]}
    assert search.unmapped == [Unmapped("person_titles[]", ["x"], "titles", "too short")]
    assert search.warnings == [
        "API-style key person_titles[] read as personTitles[]",
        "titles upper-cased",
    ]
    assert DEFAULT_MAPPERS["personTitles"] is not titles_upper  # defaults left untouched


def test_a_mapper_accepting_a_parameter_without_a_filter_counts_it_as_mapped():
    search = run("tour=true", {"tour": lambda values, context: MapResult()})
    assert (search.filters, search.unmapped, search.mapped_names) == ({}, [], ["tour"])


# --- companies ----------------------------------------------------------------------------


def test_company_filters_convert_names_and_report_person_filters():
    search = map_parameters(
        parse_apollo_url(
            "https://app.apollo.io/#/companies?qOrganizationName=Acme"
            "&organizationLocations[]=Paris&qOrganizationDomainsList[]=acme.com"
            f"&organizationIndustryTagIds[]={SOFTWARE}&qOrganizationKeywordTags[]=crm"
            "&currentlyUsingAnyOfTechnologyUids[]=salesforce&organizationNumEmployeesRanges[]=1,10"
            "&revenueRange[min]=100&revenueRange[max]=900&qKeywords=cloud"
            "&organizationNotIndustryTagIds[]=" + STAFFING + "&qNotOrganizationKeywordTags[]=b2c"
            "&currentlyNotUsingAnyOfTechnologyUids[]=sap&organizationNotLocations[]=Lyon"
            "&personTitles[]=ceo&personSeniorities[]=vp&qAndedOrganizationKeywordTags[]=ai"
        )
    )
    filters, dropped = company_filters(search)
    assert filters == {
        "name": ["Acme"],
        "company_location": ["Paris"],
        "domain": ["acme.com"],
        "industries": ["computer software"],
        "keywords": ["crm"],
        "technologies": ["salesforce"],
        "employees_range": ["1,10"],
        "annual_revenue_min": ["100"],
        "annual_revenue_max": ["900"],
        "search": ["cloud"],
        "exclude_industries": ["staffing & recruiting"],
        "exclude_keywords": ["b2c"],
        "exclude_technologies": ["sap"],
        "exclude_company_locations": ["Lyon"],
    }
    assert dropped == [
        Unmapped("personTitles[]", ["ceo"], "titles", PERSON_ONLY),
        Unmapped("personSeniorities[]", ["vp"], "person", PERSON_ONLY),
        Unmapped(
            "qAndedOrganizationKeywordTags[]",
            ["ai"],
            "keywords",
            "companies have no keywords_and filter",
        ),
    ]
    assert set(COMPANY_FILTER_NAMES.values()) >= set(filters)
