"""The built-in company filters (docs/api.md: companies take search, name, domain,
address, location, city, state, country, the list and number filters, the
exclusions and the date bounds). ``tables`` is a ``CompanyTables``."""

import sqlalchemy as sa

from contacts_api.core.filters import FilterSpec
from contacts_api.plugins.contacts.filterkit import (
    bound_filters,
    company_location,
    company_text_filter,
    list_contains,
    list_excludes,
    range_condition,
    search_words,
    time_filters,
)
from contacts_api.plugins.contacts.normalize import normalize_domain
from contacts_api.plugins.contacts.places import none_of_places, place_condition
from contacts_api.plugins.contacts.sqltext import company_search_key

NONE = frozenset()


def _location(values, t):
    return sa.or_(*(place_condition(company_location(t), company_search_key(), v) for v in values))


def company_filters() -> list[FilterSpec]:
    c = lambda t: t.companies.c  # noqa: E731
    return [
        FilterSpec(
            "search",
            "text",
            lambda v, t: search_words(company_search_key(), v),
            "Each word is found in the name, domain, address, city, state or country.",
        ),
        company_text_filter("name", "name", "Name contains.", NONE),
        FilterSpec(
            "domain",
            "text",
            lambda v, t: c(t).domain.in_([normalize_domain(x) or x.strip().lower() for x in v]),
            "Domain equals one of (normalized like `domain`).",
        ),
        company_text_filter("address", "address", "Address contains.", NONE),
        FilterSpec(
            "company_location",
            "text",
            _location,
            "Address, city, state or country contains.",
            aliases=("location",),
        ),
        company_text_filter("city", "city", "City contains.", NONE),
        company_text_filter("state", "state", "State contains.", NONE),
        company_text_filter("country", "country", "Country contains.", NONE),
        FilterSpec(
            "industries",
            "text",
            list_contains("industries"),
            "An element of industries contains it.",
            aliases=("industry",),
        ),
        FilterSpec(
            "keywords", "text", list_contains("keywords"), "An element of keywords contains it."
        ),
        FilterSpec(
            "keywords_and",
            "text",
            lambda v, t: sa.and_(*(list_contains("keywords")([x], t) for x in v)),
            "For every value, an element of keywords contains it.",
        ),
        FilterSpec(
            "technologies",
            "text",
            list_contains("technologies", fold=True),
            "An element of technologies contains it (`_`, `.` and spaces folded).",
        ),
        *bound_filters("employees", lambda t: t.companies.c.employees_count, "Employees"),
        FilterSpec(
            "employees_range",
            "range",
            lambda v, t: sa.or_(*(range_condition(c(t).employees_count, r) for r in v)),
            "MIN,MAX inclusive (either side may be empty); repeats are ORed.",
        ),
        *bound_filters("annual_revenue", lambda t: t.companies.c.annual_revenue, "Annual revenue"),
        *bound_filters("total_funding", lambda t: t.companies.c.total_funding, "Total funding"),
        FilterSpec(
            "exclude_company_locations",
            "text",
            lambda v, t: none_of_places(company_location(t), company_search_key(), v),
            "Address, city, state and country contain none of them.",
            aliases=("exclude_locations",),
        ),
        FilterSpec(
            "exclude_industries",
            "text",
            list_excludes("industries"),
            "No industry contains any of them.",
        ),
        FilterSpec(
            "exclude_keywords",
            "text",
            list_excludes("keywords"),
            "No keyword contains any of them.",
        ),
        FilterSpec(
            "exclude_technologies",
            "text",
            list_excludes("technologies", fold=True),
            "No technology contains any of them.",
        ),
        *time_filters("companies"),
    ]
