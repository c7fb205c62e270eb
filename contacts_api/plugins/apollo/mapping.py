"""Map a parsed Apollo search onto this API's contact filters (docs/api.md names).

:func:`map_parameters` runs one mapper per parameter, from the registry
:data:`DEFAULT_MAPPERS` plus the mappers plugins add; the mapper contract is in
:mod:`plugins.apollo.mappers`. Parameters without a mapper are reported as unmapped,
with their category and a reason, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from contacts_api.plugins.apollo.categories import (
    UNKNOWN,
    canonical_name,
    categorize,
    looks_truncated,
)
from contacts_api.plugins.apollo.mappers import (
    DEFAULT_MAPPERS,
    MappingContext,
    MapResult,
    ParameterMapper,
    TitleMatch,
    location_mappers,
)
from contacts_api.plugins.apollo.parsing import ParsedUrl

__all__ = [
    "COMPANY_FILTER_NAMES",
    "COMPANY_ORDERING",
    "DEFAULT_MAPPERS",
    "PERSON_FILTER_NAMES",
    "Applied",
    "MapResult",
    "MappedSearch",
    "MappingContext",
    "ParameterMapper",
    "TitleMatch",
    "Unmapped",
    "company_filters",
    "location_mappers",
    "map_parameters",
]


@dataclass(frozen=True)
class Unmapped:
    """Values of one parameter that could not be mapped, and why."""

    name: str
    values: list[str]
    category: str
    reason: str


@dataclass(frozen=True)
class Applied:
    """What one parameter added to one filter (kept to re-read a search for companies)."""

    name: str
    category: str
    filter: str
    values: tuple[str, ...]


@dataclass
class MappedSearch:
    """An Apollo search expressed as contact filters, with what could not be mapped.

    ``title_match`` is ``"words"`` (Apollo's similar titles: a contact matches when its
    title contains every word of one given title, in any order) or ``"phrase"`` (with
    ``includeSimilarTitles=false``); it only matters when ``title`` is in ``filters``.
    ``ordering`` is an API ordering (``"-employees"``); None keeps the default order.
    ``mapped_names`` lists the keys with at least one mapped value; ``applied`` records
    which key gave which filter values, to re-read the search for companies.
    """

    filters: dict[str, list[str]] = field(default_factory=dict)
    title_match: TitleMatch = "words"
    page: int | None = None
    ordering: str | None = None
    unmapped: list[Unmapped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    mapped_names: list[str] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)

    def mapping_summary(self) -> dict[str, int]:
        """Counts of distinct parameter names; a partly mapped name counts as mapped."""
        mapped = set(self.mapped_names)
        total = len(mapped | {item.name for item in self.unmapped})
        return {
            "total_parameters": total,
            "mapped_parameters": len(mapped),
            "unmapped_parameters": total - len(mapped),
        }

    def unmapped_categories(self) -> list[str]:
        """Sorted distinct categories of the unmapped parameters."""
        return sorted({item.category for item in self.unmapped})


_REASONS_BY_CATEGORY = {
    "apollo_account": "Apollo account state (saved views, lists, personas, prospecting) "
    "has no equivalent here",
    "ui": "user-interface state, not a filter",
    "signals": "no data for this signal here",
}
_REASONS = {
    "organizationIds": "Apollo's own organization ids",
    "notOrganizationIds": "Apollo's own organization ids",
    "contactEmailExcludeCatchAll": "no catch-all data for emails here",
    "existFields": "Apollo's 'field exists' conditions have no equivalent here",
    "perPage": "the page size is the request's limit",
}


def map_parameters(
    parsed: ParsedUrl, extra_mappers: Mapping[str, ParameterMapper] | None = None
) -> MappedSearch:
    """Map every parameter of ``parsed`` with :data:`DEFAULT_MAPPERS`, where
    ``extra_mappers`` (by canonical name, e.g. from plugins) add or replace entries."""
    mappers = {**DEFAULT_MAPPERS, **extra_mappers} if extra_mappers else DEFAULT_MAPPERS
    warnings = dict.fromkeys(parsed.warnings)  # an ordered set
    keys: list[tuple[str, str, list[str]]] = []
    merged: dict[str, list[str]] = {}
    for key, values in parsed.parameters.items():
        canonical, warning = canonical_name(key)
        if warning:
            warnings[warning] = None
        keys.append((key, canonical, values))
        _merge(merged.setdefault(canonical, []), values)
    search = MappedSearch()
    for key, canonical, values in keys:
        category = categorize(canonical)
        mapper = mappers.get(canonical)
        if mapper is None or not values:
            reason = _reason(canonical, category) if mapper is None else "no value given"
            search.unmapped.append(Unmapped(key, list(values), category, reason))
            continue
        result = mapper(list(values), MappingContext(key, canonical, parsed.page_type, merged))
        _apply(search, key, category, values, result)
        warnings.update(dict.fromkeys(result.warnings))
    search.warnings = list(warnings)
    return search


def _reason(canonical: str, category: str) -> str:
    """Why a parameter without a mapper is not mapped."""
    if canonical in _REASONS:
        return _REASONS[canonical]
    if category == UNKNOWN:
        return "possibly truncated URL" if looks_truncated(canonical) else "unknown parameter"
    return _REASONS_BY_CATEGORY.get(category, "no equivalent filter here")


def _apply(
    search: MappedSearch, key: str, category: str, values: list[str], result: MapResult
) -> None:
    """Fold one mapper's result into the search."""
    rejected = {value for value, _ in result.rejected}
    if any(value not in rejected for value in values):
        search.mapped_names.append(key)
    by_reason: dict[str, list[str]] = {}
    for value, reason in result.rejected:
        by_reason.setdefault(reason, []).append(value)
    for reason, rejected_values in by_reason.items():
        search.unmapped.append(Unmapped(key, rejected_values, category, reason))
    for filter_name, filter_values in result.filters.items():
        _merge(search.filters.setdefault(filter_name, []), filter_values)
        search.applied.append(Applied(key, category, filter_name, tuple(filter_values)))
    if result.page is not None:
        search.page = result.page
    if result.ordering is not None:
        search.ordering = result.ordering
    if result.title_match is not None:
        search.title_match = result.title_match


def _merge(target: list[str], values: Iterable[str]) -> None:
    """Append each value not already in ``target`` (once each, in order)."""
    present = set(target)
    for value in values:
        if value not in present:
            present.add(value)
            target.append(value)


# Contact filter -> company filter, for a companies search (docs/api.md "Companies take").
COMPANY_FILTER_NAMES = {
    "company": "name",
    "company_location": "company_location",
    "include_domain_list": "domain",
    "industries": "industries",
    "keywords": "keywords",
    "technologies": "technologies",
    "employees_range": "employees_range",
    "annual_revenue_min": "annual_revenue_min",
    "annual_revenue_max": "annual_revenue_max",
    "total_funding_min": "total_funding_min",
    "total_funding_max": "total_funding_max",
    "exclude_industries": "exclude_industries",
    "exclude_keywords": "exclude_keywords",
    "exclude_technologies": "exclude_technologies",
    "exclude_company_locations": "exclude_company_locations",
    "search": "search",
}
PERSON_FILTER_NAMES = frozenset(
    "title exclude_titles exclude_title_contains seniority department contact_location "
    "exclude_contact_locations email_status".split()
)
# Contact ordering field -> company ordering field; the others have no company twin.
COMPANY_ORDERING = {"company": "name", "employees": "employees"}


def company_filters(mapped: MappedSearch) -> tuple[dict[str, list[str]], list[Unmapped]]:
    """The company filters of a mapped search, and the filters with no company twin
    (person filters, and filters such as ``keywords_and`` companies do not take).

    A key whose every filter is dropped here is no longer mapped for a company search;
    for the ordering, see :data:`COMPANY_ORDERING`.
    """
    filters: dict[str, list[str]] = {}
    unmapped: list[Unmapped] = []
    for applied in mapped.applied:
        target = COMPANY_FILTER_NAMES.get(applied.filter)
        if target is not None:
            _merge(filters.setdefault(target, []), applied.values)
            continue
        reason = (
            "person filter does not apply to a company search"
            if applied.filter in PERSON_FILTER_NAMES
            else f"companies have no {applied.filter} filter"
        )
        unmapped.append(Unmapped(applied.name, list(applied.values), applied.category, reason))
    return filters, unmapped
