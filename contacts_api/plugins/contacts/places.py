"""Location values that name a place: ``"Texas, US"`` matches a contact in
Texas, United States (docs/api.md ("Apollo search URLs")).

A value with commas can only arrive as one item of a JSON list (Apollo URLs,
export filters): a query string splits commas into separate values first. Such
a value is read as parts that must each be found in one of the location
fields; a common country code (``US``, ``UK``, ``DE`` ...) also matches the
country's name.
"""

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from contacts_api.plugins.contacts.sqltext import contains

__all__ = ["COUNTRY_NAMES", "place_condition"]

COUNTRY_NAMES: dict[str, str] = {
    "us": "United States",
    "usa": "United States",
    "u.s.": "United States",
    "u.s.a.": "United States",
    "uk": "United Kingdom",
    "gb": "United Kingdom",
    "uae": "United Arab Emirates",
    "ae": "United Arab Emirates",
    "de": "Germany",
    "fr": "France",
    "es": "Spain",
    "it": "Italy",
    "nl": "Netherlands",
    "be": "Belgium",
    "ch": "Switzerland",
    "at": "Austria",
    "se": "Sweden",
    "no": "Norway",
    "dk": "Denmark",
    "fi": "Finland",
    "ie": "Ireland",
    "pt": "Portugal",
    "pl": "Poland",
    "cz": "Czechia",
    "ca": "Canada",
    "mx": "Mexico",
    "br": "Brazil",
    "ar": "Argentina",
    "au": "Australia",
    "nz": "New Zealand",
    "in": "India",
    "cn": "China",
    "jp": "Japan",
    "kr": "South Korea",
    "sg": "Singapore",
    "hk": "Hong Kong",
    "il": "Israel",
    "za": "South Africa",
}


def _found(fields: list[ColumnElement], key: ColumnElement, name: str) -> ColumnElement[bool]:
    return sa.and_(contains(key, name), sa.or_(*(contains(f, name) for f in fields)))


def _part(fields: list[ColumnElement], key: ColumnElement, part: str) -> ColumnElement[bool]:
    country = COUNTRY_NAMES.get(part.lower())
    if country is None:
        return _found(fields, key, part)
    # A code is never a substring match ("US" is in "Austin"): its country's
    # name, or a field that is exactly the code.
    exact = sa.or_(*(sa.func.lower(f) == part.lower() for f in fields))
    return sa.or_(_found(fields, key, country), exact)


def place_condition(
    fields: list[ColumnElement], key: ColumnElement, value: str
) -> ColumnElement[bool]:
    """Every comma part of ``value`` is in one of ``fields``; ``key`` (a trigram-indexed
    concatenation of the fields) lets the index prefilter."""
    parts = [part.strip() for part in value.split(",") if part.strip()] or [value]
    return sa.and_(*(_part(fields, key, part) for part in parts))


def none_of_places(
    fields: list[ColumnElement], key: ColumnElement, values: list[str]
) -> ColumnElement[bool]:
    """Exclusions: rows in none of the places; rows with no location at all pass."""
    matched = sa.or_(*(place_condition(fields, key, value) for value in values))
    return sa.not_(sa.func.coalesce(matched, sa.false()))
