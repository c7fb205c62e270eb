"""From a pasted Apollo URL to a search of our own data.

``build_search`` parses and maps (pure); ``cached_search`` caches the result
for ``apollo.analysis_cache_ttl_s`` in the core's cache, keyed by a hash of the
normalized URL and of the mapping plugins, so a repeat skips parsing.
``contact_filters_for_url`` and ``filters_for_url`` are what the exports plugin calls.

Parsing is linear in the URL's length, and a URL is at most
``parsing.MAX_URL_LENGTH`` characters; still, a long one (over
``OFF_LOOP_LENGTH``) is parsed and mapped in a worker thread, so that neither it
nor a slow third-party mapper holds the event loop.
"""

import asyncio
import hashlib
from typing import Any

import attrs

from contacts_api.core.errors import ValidationError
from contacts_api.core.plugins import Plugins
from contacts_api.plugins.apollo.categories import analyze, canonical_name
from contacts_api.plugins.apollo.mapping import (
    COMPANY_FILTER_NAMES,
    COMPANY_ORDERING,
    MappedSearch,
    Unmapped,
    company_filters,
    map_parameters,
)
from contacts_api.plugins.apollo.parsing import (
    MAX_URL_LENGTH,
    ApolloUrlError,
    ParsedUrl,
    parse_apollo_url,
)

__all__ = ["Search", "build_search", "cached_search", "contact_filters_for_url", "filters_for_url"]

# URLs longer than this are parsed off the event loop (a thread hop costs about as
# much as the analysis of a short URL, so short ones stay on the loop).
OFF_LOOP_LENGTH = 2_000


@attrs.frozen
class Search:
    """A mapped Apollo URL, as JSON-able parts (cacheable)."""

    analysis: dict[str, Any]
    contact_filters: dict[str, list[str]]
    company_filters: dict[str, list[str]]
    title_match: str
    page: int | None
    ordering: str | None
    company_ordering: str | None
    unmapped: list[dict[str, Any]]
    company_unmapped: list[dict[str, Any]]
    total_parameters: int
    mapped_names: list[str]
    company_mapped_names: list[str]
    warnings: list[str]

    def query_filters(self, resource: str) -> dict[str, list[str]]:
        """The filters to run: Apollo's similar-titles match becomes ``title_words``."""
        if resource == "companies":
            return dict(self.company_filters)
        filters = dict(self.contact_filters)
        if "title" in filters and self.title_match == "words":
            filters["title_words"] = filters.pop("title")
        return filters

    def report(self, resource: str) -> dict[str, Any]:
        """The extra fields of an Apollo page (docs/api.md), with the ordering the URL's
        sort became (``applied_ordering``, None: the default order) and its Apollo
        ``page`` (None when it has none)."""
        companies = resource == "companies"
        unmapped = self.company_unmapped if companies else self.unmapped
        mapped = self.company_mapped_names if companies else self.mapped_names
        return {
            "apollo_url": self.analysis["url"],
            "applied_filters": self.company_filters if companies else self.contact_filters,
            "applied_ordering": self.company_ordering if companies else self.ordering,
            "page": self.page,
            "mapping_summary": {
                "total_parameters": self.total_parameters,
                "mapped_parameters": len(mapped),
                "unmapped_parameters": self.total_parameters - len(mapped),
            },
            "warnings": self.warnings,
            "unmapped_parameters": [
                {k: u[k] for k in ("name", "values", "category", "reason")} for u in unmapped
            ],
            "unmapped_categories": sorted({u["category"] for u in unmapped}),
        }


def _mappers(plugins: Plugins) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for mappers in plugins.hook("register_apollo_mappings")(settings=plugins.settings):
        merged.update(mappers or {})
    return merged


def _unmapped(items: list[Any]) -> list[dict[str, Any]]:
    return [
        {"name": u.name, "values": list(u.values), "category": u.category, "reason": u.reason}
        for u in items
    ]


def _company_side(parsed: ParsedUrl, mapped: MappedSearch) -> tuple[dict, list[dict], list[str]]:
    filters, dropped = company_filters(mapped)
    kept = {a.name for a in mapped.applied if a.filter in COMPANY_FILTER_NAMES}
    dropped += _lost_company_sort(parsed, mapped)
    lost = {u.name for u in dropped} - kept
    names = [name for name in mapped.mapped_names if name not in lost]
    return filters, _unmapped([*mapped.unmapped, *dropped]), names


def _lost_company_sort(parsed: ParsedUrl, mapped: MappedSearch) -> list[Unmapped]:
    """The sort keys of an ordering companies do not have (a person's name, title)."""
    if mapped.ordering is None or _company_ordering(mapped.ordering) is not None:
        return []
    reason = f"companies cannot be sorted by {mapped.ordering.lstrip('-')}"
    return [
        Unmapped(key, list(values), "sorting", reason)
        for key, values in parsed.parameters.items()
        if key in mapped.mapped_names and canonical_name(key)[0] in ("sortByField", "sortAscending")
    ]


def _company_ordering(ordering: str | None) -> str | None:
    if ordering is None:
        return None
    field = COMPANY_ORDERING.get(ordering.lstrip("-"))
    return None if field is None else ("-" if ordering.startswith("-") else "") + field


def build_search(plugins: Plugins, url: Any, field: str = "url") -> Search:
    """Parse and map ``url``; a non-Apollo or non-search input is a 422 naming the
    body's ``field``."""
    if not isinstance(url, str):
        raise ValidationError.single(("body", field), "a string is required")
    try:
        parsed = parse_apollo_url(url)
    except ApolloUrlError as exc:
        raise ValidationError.single(("body", field), str(exc)) from None
    mapped = map_parameters(parsed, _mappers(plugins) or None)
    company_filters_, company_unmapped, company_names = _company_side(parsed, mapped)
    # The analysis reports every repair the search routes report (mappers' included).
    analysis = {**analyze(parsed), "warnings": list(mapped.warnings)}
    return Search(
        analysis=analysis,
        contact_filters=mapped.filters,
        company_filters=company_filters_,
        title_match=mapped.title_match,
        page=mapped.page,
        ordering=mapped.ordering,
        company_ordering=_company_ordering(mapped.ordering),
        unmapped=_unmapped(mapped.unmapped),
        company_unmapped=company_unmapped,
        total_parameters=analysis["statistics"]["total_parameters"],
        mapped_names=list(mapped.mapped_names),
        company_mapped_names=company_names,
        warnings=list(mapped.warnings),
    )


_CACHE_VERSION = "v2"


def _cache_key(plugins: Plugins, url: str) -> str:
    mapping_plugins = ",".join(
        sorted(
            impl.plugin_name for impl in plugins.hook("register_apollo_mappings").get_hookimpls()
        )
    )
    digest = hashlib.sha256(f"{url.strip()}\0{mapping_plugins}".encode()).hexdigest()
    # The version changes with the cached shape (Search's fields) or the mapping rules,
    # so that an entry written by an older release is not read back.
    return f"apollo:search:{_CACHE_VERSION}:{digest}"


async def cached_search(resources: Any, url: Any) -> Search:
    """``build_search`` through the cache (``resources.cache``)."""
    if not isinstance(url, str):
        raise ValidationError.single(("body", "url"), "a string is required")
    key = _cache_key(resources.plugins, url)
    hit = await resources.cache.get(key)
    if hit is not None:
        return Search(**hit)
    if OFF_LOOP_LENGTH < len(url) <= MAX_URL_LENGTH:
        loop = asyncio.get_running_loop()
        search = await loop.run_in_executor(None, build_search, resources.plugins, url)
    else:
        search = build_search(resources.plugins, url)
    await resources.cache.set(
        key, attrs.asdict(search), ttl_s=resources.settings.apollo.analysis_cache_ttl_s
    )
    return search


def contact_filters_for_url(
    plugins: Plugins, url: str, field: str = "apollo_url"
) -> dict[str, list[str]]:
    """The contact filters an Apollo URL selects (for exports), ready for
    ``FilterRegistry.parse_mapping``; errors name the body's ``field``."""
    return filters_for_url(plugins, url, "contacts", field)


def filters_for_url(
    plugins: Plugins, url: str, resource: str, field: str = "apollo_url"
) -> dict[str, list[str]]:
    """The ``resource`` (``"contacts"`` or ``"companies"``) filters an Apollo URL
    selects, as the search routes apply them: for companies, a ``#/companies``
    URL's filters or the organization filters of a ``#/people`` URL. Ready for
    ``FilterRegistry.parse_mapping``; errors name the body's ``field``."""
    return build_search(plugins, url, field).query_filters(resource)
