"""Micro-benchmark: parse + analyze + map of Apollo search URLs, without any cache.

Run from the repository root: ``python benchmarks/apollo_analyze.py [rounds]``.
It prints the median and 95th percentile time of one URL's analysis, over six
worked examples of Apollo URLs (two of which are refused) and longer, messier URLs
(target: median under 0.5 ms), then the median of the longest real shape: a
13,000-character URL with 282 values, regions and exclusions among them (target:
under 5 ms).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contacts_api.plugins.apollo.categories import analyze  # noqa: E402
from contacts_api.plugins.apollo.industries import industry_tags  # noqa: E402
from contacts_api.plugins.apollo.mapping import map_parameters  # noqa: E402
from contacts_api.plugins.apollo.parsing import ApolloUrlError, parse_apollo_url  # noqa: E402

TARGET_MS = 0.5
PEOPLE = "https://app.apollo.io/#/people?"

URLS = [
    # Six worked examples of Apollo URLs.
    PEOPLE + "personTitles[]=marketing&sortAscending=false&sortByField=%5Bnone%5D"
    "&uniqueUrlId=CntHsqwQ9m&personSeniorities[]=director&organizationNumEmployeesRanges[]=10001"
    "&personDepartmentOrSubdepartments[]=master_marketing&page=1",
    PEOPLE + "page=1&personTitles[]=ceo&personTitles[]=co%20founder"
    "&organizationNumEmployeesRanges[]=1%2C10&organizationNumEmployeesRanges[]=11%2C20"
    "&qOrganizationKeywordTags[]=saas%20solutions"
    "&qOrganizationKeywordTags[]=business%20consulting%20%26%20services",
    PEOPLE + "finderViewId=5b8050d050a3893c382e9360&personLocations[]=Germany"
    "&organizationIndustryTagIds[]=5567e0bf7369641d115f0200"
    "&organizationIndustryTagIds[]=5567e3f3736964395d7a0000",
    "https://app.apollo.io/#/people",
    "https://app.apollo.io/#/lists/6523f1c2a0b1c2000123abcd",
    "https://example.com/#/people?personTitles[]=CEO",
    # A long saved view, as copied from the address bar (19 keys, 26 values).
    PEOPLE + "finderViewId=5b8050d050a3893c382e9360&sortByField=recommendations_score"
    "&sortAscending=false&personTitles[]=head%20of%20growth&personTitles[]=vp%20marketing"
    "&personTitles[]=cmo&includeSimilarTitles=true&personLocations[]=United%20States"
    "&personLocations[]=Canada&organizationNumEmployeesRanges[]=11%2C20"
    "&organizationNumEmployeesRanges[]=21%2C50&organizationNumEmployeesRanges[]=51%2C100"
    "&prospectedByCurrentTeam[]=no&contactEmailStatusV2[]=verified"
    "&organizationIndustryTagIds[]=5567cd4e7369643b70010000&qOrganizationKeywordTags[]=saas"
    "&includedOrganizationKeywordFields[]=tags&includedOrganizationKeywordFields[]=name"
    "&currentlyUsingAnyOfTechnologyUids[]=salesforce&revenueRange[min]=1000000"
    "&revenueRange[max]=50000000&personSeniorities[]=vp&personSeniorities[]=c_suite"
    "&personDepartmentOrSubdepartments[]=master_marketing&page=3&uniqueUrlId=9ZtdbJ2CqQ",
    # Messy: wrapped, double-encoded, snake_case, whitespace, unicode, tracking query.
    "<https://app.apollo.io/?utm_source=slack&utm_medium=chat#/people?personTitles%255B%255D="
    "vp%2520sales&person_locations[]=%20S%C3%A3o%20Paulo%20&q_organization_keyword_tags[]="
    "food%2520%2526%2520beverage&organizationNumEmployeesRanges[]=201-500"
    "&organizationNumEmployeesRanges%5B%5D=10001&personNotTitles[]=%22intern%22"
    "&organizationNotIndustryTagIds[]=5567e09973696410db020800&intentStrengths[]=high"
    "&organizationDepartmentOrSubdepartmentCounts[master_sales][min]=5"
    "&currentlyUsingAnyOfTechnologyUids[]=shopify_plus&sort_by_field=person_name.raw"
    "&qOrganizatio>",
    "https://app.apollo.io/#/companies?organizationLocations[]=Berlin%2C%20Germany"
    "&organizationNumEmployeesRanges[]=201%2C500&qOrganizationKeywordTags[]=logistics"
    "&qOrganizationDomainsList[]=Stripe.com%0Aadyen.com&qKeywords=freight+forwarding"
    "&sortByField=organization_estimated_number_employees&sortAscending=false&page=2",
]


LONG_TARGET_MS = 5.0
INDUSTRY_TAGS = [
    "5567cd4e7369643b70010000",  # computer software
    "5567cd4773696439b10b0000",  # information technology & services
    "5567cd4d736964397e020000",  # internet
    "5567cdd67369643e64020000",  # financial services
    "5567cd467369644d39040000",  # marketing & advertising
    "5567cdd47369643dbf260000",  # management consulting
    "5567cd4973696439b9010000",  # logistics & supply chain
    "5567ced173696450cb580000",  # retail
    "5567cdde73696439812c0000",  # hospital & health care
    "5567cdd973696453d93f0000",  # insurance
]


def long_url() -> str:
    """The longest shape seen in real URLs: about 13,000 characters, 17 parameters,
    282 values (long title and keyword lists, regions, exclusions, mixed encodings)."""
    titles = [f"head%20of%20product%20{i}" for i in range(60)]
    not_titles = ["intern", "assistant", "junior", "student", "trainee", "%22working%20student%22"]
    keywords = [f"b2b%20software%20{i}" for i in range(154)]
    excluded = [f"consumer%20%26%20retail%20{i}" for i in range(30)]
    pairs = [
        *(f"personTitles[]={t}" for t in titles),
        *(f"personNotTitles[]={t}" for t in not_titles),
        *(f"qOrganizationKeywordTags%5B%5D={k}" for k in keywords),
        *(f"qNotOrganizationKeywordTags[]={k}" for k in excluded),
        "personLocations[]=EMEA",
        "personLocations[]=Greater%20Seattle%20Area",
        "personLocations[]=California%2C%20US",
        "personNotLocations[]=GCC",
        "organizationLocations[]=DACH",
        "organizationLocations[]=Nordics",
        *(f"personSeniorities[]={s}" for s in ("vp", "director", "head", "c_suite")),
        *(f"organizationNumEmployeesRanges[]={r}" for r in ("51%2C200", "201%2C500", "501-1000")),
        "contactEmailStatusV2[]=verified",
        "contactEmailStatusV2[]=user_managed",
        "includedOrganizationKeywordFields[]=tags",
        "includedOrganizationKeywordFields[]=name",
        "sortByField=person_name.raw",
        "sortAscending=false",
        "finderViewId=5b8050d050a3893c382e9360",
        "uniqueUrlId=CntHsqwQ9m",
        *(f"organizationIndustryTagIds[]={t}" for t in INDUSTRY_TAGS),
        "page=2",
    ]
    return PEOPLE + "&".join(pairs)


def analyze_and_map(url: str) -> None:
    """What one uncached analyze/contacts request computes from its URL."""
    try:
        parsed = parse_apollo_url(url)
    except ApolloUrlError:
        return
    analyze(parsed)
    map_parameters(parsed)


def main(rounds: int = 2000) -> bool:
    industry_tags()  # the table is read once per process, not per request
    samples: list[float] = []
    for _ in range(rounds):
        for url in URLS:
            start = time.perf_counter_ns()
            analyze_and_map(url)
            samples.append((time.perf_counter_ns() - start) / 1e6)
    median = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[-1]
    print(f"apollo analyze+map: {len(URLS)} URLs x {rounds} rounds = {len(samples)} calls")
    print(f"median: {median:.4f} ms")
    print(f"p95:    {p95:.4f} ms")
    print(f"target: median < {TARGET_MS} ms")
    passed = median < TARGET_MS
    print("PASS" if passed else "FAIL")

    url = long_url()
    parsed = parse_apollo_url(url)
    values = sum(len(v) for v in parsed.parameters.values())
    long_samples = []
    for _ in range(max(rounds // 20, 20)):
        start = time.perf_counter_ns()
        analyze_and_map(url)
        long_samples.append((time.perf_counter_ns() - start) / 1e6)
    long_median = statistics.median(long_samples)
    print(
        f"long URL: {len(url):,} characters, {len(parsed.parameters)} parameters, "
        f"{values} values x {len(long_samples)} calls"
    )
    print(f"median: {long_median:.3f} ms (target < {LONG_TARGET_MS} ms)")
    long_passed = long_median < LONG_TARGET_MS
    print("PASS" if long_passed else "FAIL")
    return passed and long_passed


if __name__ == "__main__":
    sys.exit(0 if main(*(int(arg) for arg in sys.argv[1:2])) else 1)
