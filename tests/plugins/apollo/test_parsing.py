"""Reading Apollo search URLs (parsing.py) and analyzing them (categories.py)."""

import dataclasses

import pytest

from contacts_api.plugins.apollo.categories import (
    _KNOWN_BY_CATEGORY,
    CATEGORIES,
    analyze,
    canonical_name,
    categorize,
    looks_truncated,
)
from contacts_api.plugins.apollo.parsing import ApolloUrlError, ParsedUrl, parse_apollo_url

BASE = "https://app.apollo.io/#/people?"
UNWRAPPED = "removed the quotes or brackets around the URL"


def parse(query: str) -> ParsedUrl:
    return parse_apollo_url(BASE + query)


# --- splitting and decoding ------------------------------------------------------------


def test_percent_encoded_ampersand_stays_inside_its_value():
    parsed = parse(
        "qOrganizationKeywordTags[]=saas%20solutions"
        "&qOrganizationKeywordTags[]=business%20consulting%20%26%20services"
    )
    assert parsed.parameters == {
        "qOrganizationKeywordTags[]": ["saas solutions", "business consulting & services"]
    }
    assert parsed.warnings == []


def test_encoded_and_raw_brackets_are_one_key():
    parsed = parse(
        "organizationIndustryTagIds%5B%5D=a1&organizationIndustryTagIds[]=b2"
        "&organizationIndustryTagIds%5b%5d=a1"
    )
    assert parsed.parameters == {"organizationIndustryTagIds[]": ["a1", "b2"]}


def test_plus_is_a_space_and_encoded_plus_is_a_plus():
    parsed = parse("personTitles[]=vice+president&qOrganizationKeywordTags[]=c%2B%2B")
    assert parsed.parameters == {
        "personTitles[]": ["vice president"],
        "qOrganizationKeywordTags[]": ["c++"],
    }


def test_double_encoding_is_decoded_again_with_a_warning():
    parsed = parse("personTitles%255B%255D=head%2520of%2520sales&page=1")
    assert parsed.parameters == {"personTitles[]": ["head of sales"], "page": ["1"]}
    assert parsed.warnings == [
        "double-encoded key decoded again: 'personTitles%5B%5D' -> 'personTitles[]'",
        "double-encoded value of personTitles[] decoded again: "
        "'head%20of%20sales' -> 'head of sales'",
    ]


def test_double_encoded_ampersand_stays_inside_its_value():
    parsed = parse("qOrganizationKeywordTags[]=a%2520%2526%2520b")
    assert parsed.parameters == {"qOrganizationKeywordTags[]": ["a & b"]}
    assert len(parsed.warnings) == 1


def test_unicode_raw_encoded_and_decomposed_are_one_nfc_value():
    parsed = parse(
        "personLocations[]=Z\u00fcrich&personLocations[]=Z%C3%BCrich"
        "&personLocations[]=Zu%CC%88rich&personLocations[]=Zu\u0308rich"
        "&personTitles[]=%E5%B7%A5%E7%A8%8B%E5%B8%88"
    )
    assert parsed.parameters == {
        "personLocations[]": ["Z\u00fcrich"],
        "personTitles[]": ["\u5de5\u7a0b\u5e08"],
    }
    assert parsed.warnings == []


def test_bytes_that_are_not_utf8_are_read_as_latin1():
    parsed = parse("personLocations[]=M%FCnchen")
    assert parsed.parameters == {"personLocations[]": ["M\u00fcnchen"]}
    assert parsed.warnings == ["value of personLocations[] was not UTF-8: read it as Latin-1"]


def test_query_before_the_fragment_is_ignored_with_a_warning():
    parsed = parse_apollo_url(
        "https://app.apollo.io/?utm_source=slack&utm_medium=chat#/people?personTitles[]=CEO"
    )
    assert parsed.parameters == {"personTitles[]": ["CEO"]}
    assert parsed.ignored_query == {"utm_source": ["slack"], "utm_medium": ["chat"]}
    assert parsed.warnings == [
        "query string before '#' ignored (Apollo keeps its search after '#'): "
        "utm_source, utm_medium"
    ]


def test_nested_keys_are_kept_whole():
    parsed = parse(
        "organizationDepartmentOrSubdepartmentCounts[master_sales][min]=5"
        "&organizationDepartmentOrSubdepartmentCounts%5Bmaster_sales%5D%5Bmax%5D=50"
        "&revenueRange[min]=1000000"
    )
    assert parsed.parameters == {
        "organizationDepartmentOrSubdepartmentCounts[master_sales][min]": ["5"],
        "organizationDepartmentOrSubdepartmentCounts[master_sales][max]": ["50"],
        "revenueRange[min]": ["1000000"],
    }


def test_stray_whitespace_is_stripped_with_a_warning():
    parsed = parse("personTitles[]=%20CEO%20&%20page=1&personTitles[]=CTO%E2%80%8B")
    assert parsed.parameters == {"personTitles[]": ["CEO", "CTO"], "page": ["1"]}
    assert parsed.warnings == [
        "stray whitespace removed from the value of personTitles[]: ' CEO '",
        "stray whitespace removed from the key: ' page'",
        "stray whitespace removed from the value of personTitles[]: 'CTO\\u200b'",
    ]


def test_line_breaks_inside_the_url_are_removed_with_a_warning():
    parsed = parse_apollo_url(BASE + "personTitles[]=CEO&pa\nge=2\r\n")
    assert parsed.parameters == {"personTitles[]": ["CEO"], "page": ["2"]}
    assert parsed.warnings == ["removed line breaks or tabs inside the URL"]


def test_empty_pairs_are_skipped_and_empty_values_dropped():
    parsed = parse("&&personTitles[]=CEO&&personTitles[]=&qKeywords=&=orphan&")
    assert parsed.parameters == {"personTitles[]": ["CEO"], "qKeywords": []}
    assert parsed.warnings == ["value 'orphan' without a name ignored"]


def test_a_key_without_equals_sign_has_no_values():
    parsed = parse("personTitles[]=CEO&tour")
    assert parsed.parameters == {"personTitles[]": ["CEO"], "tour": []}
    assert parsed.warnings == []


def test_truncated_key_is_kept_for_reporting():
    parsed = parse("personTitles[]=CEO&qOrganizatio")
    assert parsed.parameters == {"personTitles[]": ["CEO"], "qOrganizatio": []}


def test_url_cut_inside_an_escape_is_flagged():
    parsed = parse("qOrganizationKeywordTags[]=saas%2")
    assert parsed.parameters == {"qOrganizationKeywordTags[]": ["saas%2"]}
    assert parsed.warnings == ["the URL ends inside a %-escape: possibly truncated URL"]


def test_repeated_values_are_kept_once_in_first_seen_order():
    parsed = parse("personTitles[]=CTO&personTitles[]=CEO&personTitles[]=CTO&personTitles[]=ceo")
    assert parsed.parameters == {"personTitles[]": ["CTO", "CEO", "ceo"]}


def test_snake_case_keys_are_kept_as_given_and_read_as_camel_case_in_analysis():
    parsed = parse("person_titles[]=CEO&q_keywords=crm")
    assert parsed.parameters == {"person_titles[]": ["CEO"], "q_keywords": ["crm"]}
    answer = analyze(parsed)
    assert answer["categories"] == {
        "titles": {"person_titles[]": ["CEO"]},
        "search": {"q_keywords": ["crm"]},
    }
    assert answer["warnings"] == [
        "API-style key person_titles[] read as personTitles[]",
        "API-style key q_keywords read as qKeywords",
    ]


# --- routes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "page_type"),
    [
        ("https://app.apollo.io/#/people", "people"),
        ("https://app.apollo.io/#/companies", "companies"),
        ("https://app.apollo.io/#/people?", "people"),
        ("https://app.apollo.io/#/companies/", "companies"),
        ("https://app.apollo.io#/People", "people"),
    ],
)
def test_bare_routes_are_searches_without_parameters(url, page_type):
    parsed = parse_apollo_url(url)
    assert (parsed.page_type, parsed.parameters, parsed.warnings) == (page_type, {}, [])


@pytest.mark.parametrize(
    ("url", "warnings"),
    [
        ("https://app.apollo.io/#!/people?page=2", []),
        ("https://app.apollo.io/#/people/?page=2", []),
        ("https://app.apollo.io/#/people??page=2", []),
        (
            "https://app.apollo.io/#  /people?page=2",
            ["stray whitespace removed at the start of the '#' part"],
        ),
        (
            "https://app.apollo.io/#/people&page=2",
            ["the '#' part had no '?' after the route: read the pairs after the '&'"],
        ),
    ],
)
def test_odd_fragments_are_read(url, warnings):
    parsed = parse_apollo_url(url)
    assert (parsed.page_type, parsed.parameters, parsed.warnings) == (
        "people",
        {"page": ["2"]},
        warnings,
    )


@pytest.mark.parametrize(
    ("url", "warning"),
    [
        ("  https://app.apollo.io/#/people?page=2\n", None),
        ("<https://app.apollo.io/#/people?page=2>", UNWRAPPED),
        ('"https://app.apollo.io/#/people?page=2"', UNWRAPPED),
        ("app.apollo.io/#/people?page=2", "the URL had no scheme: read it as https://"),
        (
            "https%3A%2F%2Fapp.apollo.io%2F%23%2Fpeople%3Fpage%3D2",
            "the whole URL was percent-encoded: decoded it once",
        ),
    ],
)
def test_pasted_urls_are_cleaned(url, warning):
    parsed = parse_apollo_url(url)
    assert parsed.url == "https://app.apollo.io/#/people?page=2"
    assert parsed.parameters == {"page": ["2"]}
    assert parsed.warnings == ([warning] if warning else [])


@pytest.mark.parametrize(
    "host", ["apollo.io", "app.apollo.io", "APP.Apollo.IO", "www.apollo.io", "app.apollo.io:443"]
)
def test_apollo_hosts_are_accepted(host):
    assert parse_apollo_url(f"https://{host}/#/people?page=3").parameters == {"page": ["3"]}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "The URL is empty"),
        ("   \n", "The URL is empty"),
        ("personTitles[]=CEO", "Not a URL: 'personTitles[]=CEO'"),
        ("just some words", "Not a URL"),
        ("mailto:sales@apollo.io", "Not a URL"),
        ("http://[::1/#/people", "Not a URL"),
        ("https://example.com/#/people?personTitles[]=CEO", "the host is example.com"),
        ("https://evilapollo.io/#/people", "the host is evilapollo.io"),
        ("https://apollo.io.example.com/#/people", "the host is apollo.io.example.com"),
        ("https://app.apollo.io/people?personTitles[]=CEO", "the URL has no '#' part"),
        ("https://app.apollo.io/#", "the URL has nothing after its '#'"),
        ("https://app.apollo.io/#/?page=1", "the '#' part has no route"),
        ("https://app.apollo.io/#/lists/6523f1c2a0b1c2000123abcd", "is a saved list"),
        ("https://app.apollo.io/#/settings/account", "is a settings page"),
        ("https://app.apollo.io/#/people/5f1e2d3c4b5a69780012abcd", "is a person's page"),
        ("https://app.apollo.io/#/companies/5f1e2d3c4b5a69780012abcd", "is a company's page"),
        ("https://app.apollo.io/#/accounts/5f1e2d3c4b5a69780012abcd", "saved accounts"),
        ("https://app.apollo.io/#/sequences?page=1", "is a sequence"),
        ("https://app.apollo.io/#/inbox", "'#/inbox' is not a people or company search"),
    ],
)
def test_non_searches_are_refused_with_a_reason(url, message):
    with pytest.raises(ApolloUrlError) as caught:
        parse_apollo_url(url)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_not_a_string_is_refused():
    with pytest.raises(ApolloUrlError, match="must be a string"):
        parse_apollo_url(None)  # type: ignore[arg-type]


def test_parsed_url_is_frozen():
    parsed = parse("page=1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.url = "x"  # type: ignore[misc]


# --- canonical names, categories, analysis --------------------------------------------


@pytest.mark.parametrize(
    ("key", "canonical", "warning"),
    [
        ("personTitles[]", "personTitles", None),
        ("personTitles", "personTitles", None),
        ("person_titles[]", "personTitles", "API-style key person_titles[] read as personTitles[]"),
        ("PersonTitles[]", "personTitles", "key PersonTitles[] read as personTitles[]"),
        ("personTitles[0]", "personTitles", "key personTitles[0] read as personTitles[]"),
        (
            "contact_email_status_v2[]",
            "contactEmailStatusV2",
            "API-style key contact_email_status_v2[] read as contactEmailStatusV2[]",
        ),
        ("sort_by_field", "sortByField", "API-style key sort_by_field read as sortByField"),
        (
            "revenue_range[min]",
            "revenueRange[min]",
            "API-style key revenue_range[min] read as revenueRange[min]",
        ),
        ("qOrganizatio", "qOrganizatio", None),
        ("my_custom[]", "my_custom", None),
    ],
)
def test_canonical_names(key, canonical, warning):
    assert canonical_name(key) == (canonical, warning)


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("page", "pagination"),
        ("sortAscending", "sorting"),
        ("includeSimilarTitles", "titles"),
        ("personSeniorities", "person"),
        ("organizationNotLocations", "location"),
        ("organizationIds", "organization"),
        ("organizationIndustryTagIds", "industry"),
        ("includedOrganizationKeywordFields", "keywords"),
        ("currentlyUsingAnyOfTechnologyUids", "technology"),
        ("contactEmailStatus", "email"),
        ("revenueRange[max]", "revenue"),
        ("organizationNumEmployeesRanges", "employees"),
        ("qKeywords", "search"),
        ("finderViewId", "apollo_account"),
        ("organizationDepartmentOrSubdepartmentCounts[master_sales][min]", "signals"),
        ("uniqueUrlId", "ui"),
        ("revenueRange", "unknown"),
        ("somethingElse", "unknown"),
    ],
)
def test_categorize(name, category):
    assert categorize(name) == category


def test_every_category_of_the_spec_exists():
    assert sorted(CATEGORIES) == sorted(
        "pagination sorting titles person location organization industry keywords technology "
        "email revenue employees search apollo_account signals ui unknown".split()
    )


@pytest.mark.parametrize(
    ("name", "truncated"),
    [
        ("qOrganizatio", True),
        ("personTitles[", True),
        ("revenueRange[mi", True),
        ("p", True),
        ("personTitles", False),
        ("zzz", False),
        ("", False),
    ],
)
def test_looks_truncated(name, truncated):
    assert looks_truncated(name) is truncated


def test_analyze_answers_like_the_api_example():
    parsed = parse_apollo_url(BASE + "personTitles[]=CEO&page=2")
    assert analyze(parsed) == {
        "url": BASE + "personTitles[]=CEO&page=2",
        "page_type": "people",
        "parameters": {"personTitles[]": ["CEO"], "page": ["2"]},
        "categories": {"titles": {"personTitles[]": ["CEO"]}, "pagination": {"page": ["2"]}},
        "statistics": {"total_parameters": 2, "total_values": 2, "categories_used": 2},
        "warnings": [],
    }


def test_analyze_counts_names_values_and_categories():
    parsed = parse(
        "personTitles[]=ceo&personTitles[]=cto&personLocations[]=Germany"
        "&organizationLocations[]=France&tour&qOrganizatio&uniqueUrlId=x"
    )
    answer = analyze(parsed)
    assert answer["categories"] == {
        "titles": {"personTitles[]": ["ceo", "cto"]},
        "location": {"personLocations[]": ["Germany"], "organizationLocations[]": ["France"]},
        "ui": {"tour": [], "uniqueUrlId": ["x"]},
        "unknown": {"qOrganizatio": []},
    }
    assert list(answer["categories"]) == ["titles", "location", "ui", "unknown"]
    assert answer["statistics"] == {
        "total_parameters": 6,
        "total_values": 5,
        "categories_used": 4,
    }


def test_every_known_name_is_its_own_canonical_name_in_its_category():
    for category, forms in _KNOWN_BY_CATEGORY.items():
        for form in forms.split():
            name = form.removesuffix("[]").replace("[*]", "[x][min]")
            assert canonical_name(form.replace("[*]", "[x][min]")) == (name, None)
            assert categorize(name) == category
