"""Name and categorize Apollo search parameters, and build the analyze answer.

Every key of a parsed URL is first reduced to its *canonical* name: the camelCase name
Apollo's web app uses, without a trailing ``[]`` (``person_titles[]`` and
``personTitles%5B%5D`` are both ``personTitles``). Nested keys keep their bracketed
tail (``revenueRange[min]``). Categories are those of docs/api.md ("Apollo search URLs").
"""

from __future__ import annotations

import re
from typing import Any

from contacts_api.plugins.apollo.parsing import ParsedUrl

UNKNOWN = "unknown"

# Known parameters per category, written as they appear in URLs: "x[]" is an array,
# "x[min]" a nested key, "x[*]" a family of nested keys ("x[master_sales][min]", ...).
_KNOWN_BY_CATEGORY = {
    "pagination": "page perPage",
    "sorting": "sortByField sortAscending",
    "titles": "personTitles[] personNotTitles[] personPastTitles[] includeSimilarTitles",
    "person": "personSeniorities[] personDepartmentOrSubdepartments[] qPersonName existFields[]",
    "location": "personLocations[] personNotLocations[] organizationLocations[] "
    "organizationNotLocations[]",
    "organization": "qOrganizationName qOrganizationDomainsList[] organizationIds[] "
    "notOrganizationIds[]",
    "industry": "organizationIndustryTagIds[] organizationNotIndustryTagIds[]",
    "keywords": "qOrganizationKeywordTags[] qNotOrganizationKeywordTags[] "
    "qAndedOrganizationKeywordTags[] includedOrganizationKeywordFields[] "
    "includedAndedOrganizationKeywordFields[] excludedOrganizationKeywordFields[]",
    "technology": "currentlyUsingAnyOfTechnologyUids[] currentlyNotUsingAnyOfTechnologyUids[] "
    "currentlyUsingAllOfTechnologyUids[]",
    "email": "contactEmailStatusV2[] contactEmailStatus[] contactEmailExcludeCatchAll",
    "revenue": "revenueRange[min] revenueRange[max] totalFundingRange[min] totalFundingRange[max]",
    "employees": "organizationNumEmployeesRanges[]",
    "search": "qKeywords",
    "apollo_account": "finderViewId prospectedByCurrentTeam[] contactLabelIds[] "
    "notContactLabelIds[] personaIds[] qPersonPersonaIds[] qOrganizationSearchListId "
    "qNotOrganizationSearchListId emailerCampaignIds[] notEmailerCampaignIds[]",
    "signals": "intentStrengths[] intentIds[] lookalikeOrganizationIds[] marketSegments[] "
    "organizationJobLocations[] qOrganizationJobTitles[] organizationNumJobsRange[*] "
    "organizationJobPostedAtRange[*] organizationLatestFundingStageCd[] "
    "organizationTradingStatus[] organizationDepartmentOrSubdepartmentCounts[*] "
    "organizationHeadcountGrowthRange[*] personTimeInCurrentRoleRange[*] eventCategories[] "
    "publishedAtDateRange[*]",
    "ui": "uniqueUrlId tour viewMode finderTableLayoutId",
}


def _build_tables() -> tuple[dict[str, str], dict[str, str], dict[str, str], tuple[str, ...]]:
    """Index the table above: exact names, nested families, lookup keys of the
    heads (lower case, no '_') and the URL forms for the truncation check."""
    exact: dict[str, str] = {}
    families: dict[str, str] = {}
    heads: dict[str, str] = {}
    url_forms: list[str] = []
    for category, names in _KNOWN_BY_CATEGORY.items():
        for form in names.split():
            if form.endswith("[*]"):
                families[form[:-3]] = category
                url_forms.append(form[:-2])
            else:
                exact[form.removesuffix("[]")] = category
                url_forms.append(form)
            head = form.partition("[")[0]
            heads[_lookup_key(head)] = head
    return exact, families, heads, tuple(url_forms)


def _lookup_key(head: str) -> str:
    """Fold case and underscores, so ``person_titles`` and ``PersonTitles`` meet."""
    return head.replace("_", "").lower()


_CATEGORY_OF, _FAMILY_OF, _HEAD_OF, _URL_FORMS = _build_tables()
_HEADS = frozenset(_HEAD_OF.values())
CATEGORIES: tuple[str, ...] = (*_KNOWN_BY_CATEGORY, UNKNOWN)

# A trailing array marker: "[]" or an index written by some serializers ("[0]").
_ARRAY_SUFFIX = re.compile(r"\[\d*\]$")


def canonical_name(key: str) -> tuple[str, str | None]:
    """Return the canonical name of a URL key, and a warning when it had to be
    re-read (API-style snake_case, other letter case, indexed array) or ``None``.

    An unknown key is returned without its array marker and without a warning.
    """
    base = _ARRAY_SUFFIX.sub("", key) if key.endswith("]") else key
    head, bracket, tail = base.partition("[")
    known_head = head if head in _HEADS else _HEAD_OF.get(_lookup_key(head))
    if known_head is None:
        return base, None
    canonical = known_head + bracket + tail
    if known_head == head and (base == key or key == base + "[]"):
        return canonical, None
    shown = canonical + ("[]" if base != key else "")
    kind = "API-style key" if "_" in head else "key"
    return canonical, f"{kind} {key} read as {shown}"


def categorize(name: str) -> str:
    """Category of a canonical parameter name (see :func:`canonical_name`)."""
    category = _CATEGORY_OF.get(name)
    if category is None and name.endswith("]"):
        category = _FAMILY_OF.get(name.partition("[")[0])
    return category or UNKNOWN


def looks_truncated(key: str) -> bool:
    """Whether an unknown key is the beginning of a known one (``qOrganizatio``),
    as when a URL was cut short."""
    if not key or categorize(key) != UNKNOWN:
        return False
    return any(form.startswith(key) and form != key for form in _URL_FORMS)


def analyze(parsed: ParsedUrl) -> dict[str, Any]:
    """The answer of ``POST /api/v2/apollo/analyze``: the parameters, grouped by
    category, with statistics and the warnings about repairs made to the input."""
    categories: dict[str, dict[str, list[str]]] = {}
    warnings = dict.fromkeys(parsed.warnings)
    for key, values in parsed.parameters.items():
        name, warning = canonical_name(key)
        if warning:
            warnings[warning] = None
        categories.setdefault(categorize(name), {})[key] = list(values)
    return {
        "url": parsed.url,
        "page_type": parsed.page_type,
        "parameters": {key: list(values) for key, values in parsed.parameters.items()},
        "categories": categories,
        "statistics": {
            "total_parameters": len(parsed.parameters),
            "total_values": sum(len(values) for values in parsed.parameters.values()),
            "categories_used": len(categories),
        },
        "warnings": list(warnings),
    }
