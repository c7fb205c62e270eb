"""The default Apollo parameter mappers, and the contract every mapper follows.

The mapping (:mod:`plugins.apollo.mapping`) keeps a registry of *mappers*, one per
canonical parameter name (see :func:`plugins.apollo.categories.canonical_name`), and
plugins may add or replace entries. The mapper contract:

- A mapper is called as ``mapper(values, context)`` for one URL parameter that has at
  least one value. ``values`` is a fresh list of that parameter's distinct values;
  ``context`` (:class:`MappingContext`) gives the parameter's key, its canonical name,
  the page type and every parameter of the URL by canonical name, for mappers that
  depend on another parameter (``sortByField`` reads ``sortAscending``).
- It returns a :class:`MapResult`: filter values via ``result.add(filter, value)``;
  values with no equivalent via ``result.reject(values, reason)`` (they are reported
  as unmapped, with the reason); repairs via ``result.warnings.append(text)``; and
  ``page``, ``ordering`` or ``title_match`` when it sets them.
- The parameter counts as mapped when at least one of its values was not rejected,
  so a mapper that accepts a parameter without changing any filter (a keyword scope)
  returns an empty ``MapResult()``.
- A mapper is pure: no I/O, no state; it may be called for several keys with the same
  canonical name (``personTitles[]`` and ``person_titles[]``), whose filter values are
  merged in order, each value once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from contacts_api.plugins.apollo.industries import industry_name
from contacts_api.plugins.apollo.locations import LocationTable, default_locations
from contacts_api.plugins.contacts.service import EMAIL_STATUSES, SENIORITIES

TitleMatch = Literal["words", "phrase"]


@dataclass(frozen=True)
class MappingContext:
    """What a mapper may know besides its own values (see the module docstring)."""

    name: str
    canonical: str
    page_type: str
    parameters: Mapping[str, list[str]]

    def values_of(self, canonical: str) -> list[str]:
        """Values of another parameter, by canonical name (empty when absent)."""
        return list(self.parameters.get(canonical, ()))


@dataclass
class MapResult:
    """What a mapper returns for one parameter (see the module docstring)."""

    filters: dict[str, list[str]] = field(default_factory=dict)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    page: int | None = None
    ordering: str | None = None
    title_match: TitleMatch | None = None

    def add(self, filter_name: str, value: str) -> MapResult:
        """Add ``value`` to the contact filter ``filter_name``."""
        self.filters.setdefault(filter_name, []).append(value)
        return self

    def reject(self, values: Iterable[str], reason: str) -> MapResult:
        """Report ``values`` as unmapped, with a reason a user understands."""
        self.rejected.extend((value, reason) for value in values)
        return self


ParameterMapper = Callable[[list[str], MappingContext], MapResult]
"""A mapper: ``mapper(values, context) -> MapResult`` (see the module docstring)."""

_ONE_VALUE = "only one value applies"
_NOT_BOOLEAN = "expected true or false"
_BOOLEANS = {"true": True, "false": False}
_SENIORITIES = frozenset(SENIORITIES)
_EMAIL_STATUSES = frozenset(EMAIL_STATUSES)
# Apollo's email statuses that say something about Apollo's own workflow, not the email.
_APOLLO_ONLY_EMAIL_STATUSES = {
    "user_managed": "Apollo's user-managed email status has no equivalent here",
    "new_data_available": "Apollo's 'new data available' status has no equivalent here",
}
_SORT_FIELDS = {
    "person_name.raw": "first_name",
    "person_title_normalized": "title",
    "sanitized_organization_name_unanalyzed": "company",
    "organization_estimated_number_employees": "employees",
}
_INTEGER = re.compile(r"^\d+$")
_COMMA_RANGE = re.compile(r"^(\d*)\s*,\s*(\d*)$")
_DASH_RANGE = re.compile(r"^(\d+)\s*[-\u2013]\s*(\d+)$")
_UID_SEPARATORS = re.compile(r"[_.\s]+")
_DOMAIN_SEPARATORS = re.compile(r"[\s,;]+")
_QUOTES = "\"'\u201c\u201d\u2018\u2019"


def _each(
    filter_name: str, convert: Callable[[str], str | None] | None = None, reason: str = ""
) -> ParameterMapper:
    """A mapper adding each value, converted, to ``filter_name``; a value that
    ``convert`` turns into None or "" is rejected with ``reason``."""

    def mapper(values: list[str], context: MappingContext) -> MapResult:
        result = MapResult()
        for value in values:
            converted = convert(value) if convert else value
            if converted:
                result.add(filter_name, converted)
            else:
                result.reject([value], reason)
        return result

    return mapper


def _single(values: list[str], result: MapResult) -> str:
    """The first value; the others are rejected, as one value applies."""
    result.reject(values[1:], _ONE_VALUE)
    return values[0]


def _department(value: str) -> str:
    return value.removeprefix("master_").replace("_", " ").strip()


def _technology(uid: str) -> str:
    """A technology uid as a search string: ``shopify_plus`` -> ``shopify plus``.

    Apollo's uids replace spaces with ``_`` (and keep ``.``, as in ``node.js``); the
    ``technologies`` filter compares with ``_``, ``.`` and spaces folded the same way,
    so ``shopify plus`` matches "Shopify Plus" and ``node js`` matches "Node.js".
    """
    return _UID_SEPARATORS.sub(" ", uid).strip()


def _unquote_title(value: str) -> str:
    """A title without the quotes users put around a phrase (``"chief operating
    officer"``), straight or curly."""
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] in _QUOTES:
        return value[1:-1].strip()
    return value


def _seniority(value: str) -> str | None:
    value = value.lower().replace(" ", "_").replace("-", "_")
    return value if value in _SENIORITIES else None


def _email_status(values: list[str], context: MappingContext) -> MapResult:
    # Without one mappable value the filter is dropped: say so, as the search then
    # returns contacts of every email status.
    result = MapResult()
    for value in values:
        status = value.lower().replace(" ", "_")
        if status in _EMAIL_STATUSES:
            result.add("email_status", status)
        else:
            result.reject([value], _APOLLO_ONLY_EMAIL_STATUSES.get(status, "unknown email status"))
    if not result.filters:
        result.warnings.append(
            f"email-status filter {context.name} dropped: none of its values "
            f"({', '.join(values)}) has an equivalent here"
        )
    return result


# Apollo's location parameters and the filters they become.
LOCATION_FILTERS = {
    "personLocations": "contact_location",
    "personNotLocations": "exclude_contact_locations",
    "organizationLocations": "company_location",
    "organizationNotLocations": "exclude_company_locations",
}


def location_mappers(table: LocationTable | None = None) -> dict[str, ParameterMapper]:
    """Mappers of the four location parameters with ``table`` (default: the
    plugin's): a region becomes its countries, an abbreviation its country, a
    metro area its city (plugins.apollo.locations). A plugin adds regions by
    returning ``location_mappers(default_locations().extended({...}))`` from the
    ``register_apollo_mappings`` hook."""
    table = table or default_locations()

    def for_filter(filter_name: str) -> ParameterMapper:
        def mapper(values: list[str], context: MappingContext) -> MapResult:
            result = MapResult()
            for value in values:
                expansion = table.expand(value)
                for place in expansion.places:
                    result.add(filter_name, place)
                if expansion.warning:
                    result.warnings.append(expansion.warning)
            return result

        return mapper

    return {name: for_filter(filter_name) for name, filter_name in LOCATION_FILTERS.items()}


def _employees_range(values: list[str], context: MappingContext) -> MapResult:
    # Each bucket stays its own range: Apollo ORs them, and "1,10" + "51,200" must not
    # become "1,200".
    result = MapResult()
    for value in values:
        low, high = "", ""
        if match := _COMMA_RANGE.match(value):
            low, high = match.groups()
        elif _INTEGER.match(value):
            low = value
        elif match := _DASH_RANGE.match(value):
            low, high = match.groups()
            result.warnings.append(f"employee range {value!r} read as {low},{high}")
        if not (low or high):
            result.reject([value], "not an employee range (expected a,b or a, or ,b or a-b)")
        elif low and high and int(low) > int(high):
            result.reject([value], "the range's minimum is above its maximum")
        else:
            result.add("employees_range", f"{int(low) if low else ''},{int(high) if high else ''}")
    return result


def _amount(filter_name: str) -> ParameterMapper:
    """A mapper for one bound of a range given as a whole number."""

    def mapper(values: list[str], context: MappingContext) -> MapResult:
        result = MapResult()
        value = _single(values, result)
        if _INTEGER.match(value):
            return result.add(filter_name, str(int(value)))
        return result.reject([value], "not a whole number")

    return mapper


def _keywords(filter_name: str, scope: str, name_filter: str | None) -> ParameterMapper:
    """A keyword-tag mapper; when its scope parameter is only ``name`` the keywords
    match the company name instead (``name_filter``, None: no equivalent)."""

    def mapper(values: list[str], context: MappingContext) -> MapResult:
        result = MapResult()
        if [name.lower() for name in context.values_of(scope)] != ["name"]:
            target = filter_name
        elif name_filter is None:
            return result.reject(values, "no filter requires every word in the company name")
        else:
            target = name_filter
        for value in values:
            result.add(target, value)
        return result

    return mapper


def _scope(values: list[str], context: MappingContext) -> MapResult:
    """The fields a keyword list searches: read by that list's mapper. Without
    keywords they are the defaults Apollo puts in every URL (``tags``, ``name``):
    nothing the user asked for is lost, so they count as mapped either way."""
    return MapResult()


def _domains(values: list[str], context: MappingContext) -> MapResult:
    # One pasted value may hold several domains, one per line or comma-separated.
    result = MapResult()
    for value in values:
        for domain in _DOMAIN_SEPARATORS.split(value):
            if domain:
                result.add("include_domain_list", domain.lower())
    return result


def _similar_titles(values: list[str], context: MappingContext) -> MapResult:
    result = MapResult()
    flag = _BOOLEANS.get(_single(values, result).lower())
    if flag is None:
        return result.reject(values[:1], _NOT_BOOLEAN)
    if not context.values_of("personTitles"):
        return result.reject(values[:1], "only meaningful with personTitles[]")
    result.title_match = "words" if flag else "phrase"
    return result


def _page(values: list[str], context: MappingContext) -> MapResult:
    result = MapResult()
    value = _single(values, result)
    if _INTEGER.match(value) and int(value) > 0:
        result.page = int(value)
        return result
    return result.reject([value], "the page must be a positive whole number")


def _sort_by(values: list[str], context: MappingContext) -> MapResult:
    result = MapResult()
    value = _single(values, result)
    sort_field = value.lower()
    if sort_field == "[none]":  # Apollo's default order: ours stays the default too
        return result
    target = _SORT_FIELDS.get(sort_field)
    if target is None:
        reason = (
            "Apollo's recommendation score has no equivalent here"
            if sort_field == "recommendations_score"
            else "no equivalent sort field here"
        )
        return result.reject([value], reason)
    direction = [flag.lower() for flag in context.values_of("sortAscending")[:1]]
    ascending = direction != ["false"]  # absent (or not a boolean): ascending
    result.ordering = target if ascending else f"-{target}"
    return result


def _sort_ascending(values: list[str], context: MappingContext) -> MapResult:
    # Read by the sortByField mapper; alone it is accepted as part of sorting (the
    # default order), but a direction for a sort field with no equivalent is lost too.
    result = MapResult()
    if _BOOLEANS.get(_single(values, result).lower()) is None:
        return result.reject(values[:1], _NOT_BOOLEAN)
    sort_fields = [value.lower() for value in context.values_of("sortByField")[:1]]
    if sort_fields and sort_fields[0] != "[none]" and sort_fields[0] not in _SORT_FIELDS:
        result.reject(values[:1], "its sortByField has no equivalent here")
    return result


DEFAULT_MAPPERS: dict[str, ParameterMapper] = {
    "personTitles": _each("title", _unquote_title, "empty title"),
    # Apollo drops every title containing the term ("intern" drops "Marketing Intern").
    "personNotTitles": _each("exclude_title_contains", _unquote_title, "empty title"),
    "includeSimilarTitles": _similar_titles,
    "personSeniorities": _each("seniority", _seniority, "unknown seniority"),
    "personDepartmentOrSubdepartments": _each("department", _department, "empty department"),
    **location_mappers(),
    "organizationNumEmployeesRanges": _employees_range,
    "revenueRange[min]": _amount("annual_revenue_min"),
    "revenueRange[max]": _amount("annual_revenue_max"),
    "totalFundingRange[min]": _amount("total_funding_min"),
    "totalFundingRange[max]": _amount("total_funding_max"),
    "contactEmailStatusV2": _email_status,
    "contactEmailStatus": _email_status,
    "organizationIndustryTagIds": _each("industries", industry_name, "unknown industry tag id"),
    "organizationNotIndustryTagIds": _each(
        "exclude_industries", industry_name, "unknown industry tag id"
    ),
    "qOrganizationKeywordTags": _keywords(
        "keywords", "includedOrganizationKeywordFields", "company"
    ),
    "qNotOrganizationKeywordTags": _keywords(
        "exclude_keywords", "excludedOrganizationKeywordFields", "exclude_company_name"
    ),
    "qAndedOrganizationKeywordTags": _keywords(
        "keywords_and", "includedAndedOrganizationKeywordFields", None
    ),
    "includedOrganizationKeywordFields": _scope,
    "excludedOrganizationKeywordFields": _scope,
    "includedAndedOrganizationKeywordFields": _scope,
    "currentlyUsingAnyOfTechnologyUids": _each("technologies", _technology, "empty uid"),
    "currentlyNotUsingAnyOfTechnologyUids": _each("exclude_technologies", _technology, "empty uid"),
    "qOrganizationName": _each("company"),
    "qOrganizationDomainsList": _domains,
    "qKeywords": _each("search"),
    "page": _page,
    "sortByField": _sort_by,
    "sortAscending": _sort_ascending,
}
