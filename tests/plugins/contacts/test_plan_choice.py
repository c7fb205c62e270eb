"""The plans chosen for common terms answer what the plain model answers.

Choices that depend on the data: a dictionary value that matches more than
``MAX_IDS`` distinct values is remembered as broad and answered by the plain
condition in a list (``dictionaries.BroadValues``) and by a semi-join with the
dictionary in a count (``dictionaries.AggregateTables``); a company-list filter
matching at most ``MAX_COMPANIES`` companies tests the contact's company uuid
against theirs, more keeps the join (``company_sets``); and an ordering by a
company field with filters on the company walks the matching companies' key
values first (``keyset._by_groups``). Hypothesis draws filters from small
colliding vocabularies, orderings, page sizes (so cursors go deep into the
list), MAX_IDS and MAX_COMPANIES, and every page walked by cursor, and the
count, must equal the reference model's answer.
"""

import asyncio

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts_api.core.app import create_app
from contacts_api.core.appkeys import FILTERS, SIGNER
from contacts_api.core.plugins import Plugins
from contacts_api.core.resources import open_resources
from contacts_api.plugins.contacts import company_sets, dictionaries, repository, service
from contacts_api.plugins.contacts.ordering import CONTACT_ORDERING, parse_ordering
from tests.plugins.contacts.reference import matching, ordered

FILTER_VALUES = {
    "title": ["manager", "engineer", "sales", "e", "ceo"],
    "exclude_title_contains": ["engineer", "e"],
    "technologies": ["salesforce", "aws", "shopify_plus", "a"],
    "exclude_technologies": ["aws", "a"],
    "industries": ["software", "computer", "e"],
    "keywords": ["crm", "saas", "c"],
    "country": ["united", "a"],
    # matched as company_name_key LIKE lower(word) (contacts_0021), mixed case here
    "company": ["a", "e", "TECH", "élec"],
    "exclude_company_name": ["ACME", "é"],
    "employees_min": ["10", "1000"],
    # matched as lower(search_key) LIKE lower(word) (contacts_0015), mixed case here
    "search": ["Sales", "ENGINEER manager", "e", "é"],
}
SINGLE = {"employees_min"}
ORDERINGS = ["-employees", "employees", "-annual_revenue", "total_funding", "-created_at"]


def filters():
    one = st.sampled_from(sorted(FILTER_VALUES)).flatmap(
        lambda name: st.lists(
            st.sampled_from(FILTER_VALUES[name]),
            min_size=1,
            max_size=1 if name in SINGLE else 2,
            unique=True,
        ).map(lambda values: (name, ",".join(values)))
    )
    return st.lists(one, max_size=3, unique_by=lambda pair: pair[0])


class Lists:
    """The service on its own event loop, for many examples."""

    def __init__(self, settings):
        self.app = create_app(settings)
        self.loop = asyncio.new_event_loop()
        self.context = open_resources(settings, Plugins.load(settings))
        self.resources = self.loop.run_until_complete(self.context.__aenter__())

    def close(self) -> None:
        self.loop.run_until_complete(self.context.__aexit__(None, None, None))
        self.loop.close()

    def walk(self, pairs, ordering: str, limit: int) -> list[str]:
        return self.loop.run_until_complete(self._walk(pairs, ordering, limit))

    def count(self, pairs) -> int:
        applied = self.app[FILTERS].contacts.parse(pairs)
        return self.loop.run_until_complete(service.count_contacts(self.resources, applied))

    async def _walk(self, pairs, ordering, limit) -> list[str]:
        applied = self.app[FILTERS].contacts.parse(pairs)
        got, cursor = [], None
        while True:
            page = await service.list_contacts(
                self.resources, self.app[SIGNER], applied, ordering, limit=limit, cursor=cursor
            )
            got += [row["uuid"] for row in page.results]
            assert len(got) <= 400
            if page.next_cursor is None:
                return got
            cursor = page.next_cursor


@pytest.fixture
def lists(settings):
    lists = Lists(settings)
    yield lists
    lists.close()


def check(lists, seeded, pairs, ordering, limit, max_ids, max_companies=None):
    saved = dictionaries.MAX_IDS, company_sets.MAX_COMPANIES
    dictionaries.MAX_IDS = max_ids
    if max_companies is not None:
        company_sets.MAX_COMPANIES = max_companies
    # what earlier examples found broad would choose the plan of this one
    dictionaries._BROAD.clear()
    company_sets._BROAD.clear()
    try:
        got = lists.walk(pairs, ordering, limit)
        count = lists.count(pairs)
    finally:
        dictionaries.MAX_IDS, company_sets.MAX_COMPANIES = saved
    expected = [c.uuid for c in ordered(matching(seeded.contacts, pairs), ordering)]
    assert got == expected
    assert count == len(expected)


def test_chosen_plans_match_the_model(lists, seeded):
    @hypothesis_settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        filters(),
        st.sampled_from(ORDERINGS),
        st.integers(min_value=1, max_value=9),
        st.sampled_from([0, 2, dictionaries.MAX_IDS]),
        st.sampled_from([0, 2, company_sets.MAX_COMPANIES]),
    )
    def run(pairs, ordering, limit, max_ids, max_companies):
        check(lists, seeded, pairs, ordering, limit, max_ids, max_companies)

    run()


@pytest.mark.parametrize("ordering", ["-employees", "employees", "-total_funding"])
@pytest.mark.parametrize(
    "pairs",
    [
        [("technologies", "salesforce")],
        [("technologies", "a"), ("title", "e")],
        [("exclude_technologies", "aws")],
        [("industries", "software"), ("employees_min", "10")],
    ],
)
def test_company_groups_walk_every_page(lists, seeded, pairs, ordering):
    """The grouped walk is the plan these requests get, and pages of one row
    cross every group boundary."""
    applied = lists.loop.run_until_complete(
        lists.app[FILTERS].contacts.parse(pairs).prepared(lists.resources.db)
    )
    parsed = parse_ordering(ordering, CONTACT_ORDERING)
    assert repository.company_groups(applied, parsed) is not None
    sql, _ = repository.contact_page(applied, parsed, limit=2)
    assert "key_groups" in sql
    check(lists, seeded, pairs, ordering, 1, dictionaries.MAX_IDS)


def test_no_groups_without_a_company_only_filter(lists):
    parsed = parse_ordering("-employees", CONTACT_ORDERING)
    for pairs in ([("title", "e")], [], [("has_phone", "true"), ("employees_min", "5")]):
        applied = lists.loop.run_until_complete(
            lists.app[FILTERS].contacts.parse(pairs).prepared(lists.resources.db)
        )
        assert repository.company_groups(applied, parsed) is None


def test_two_conditions_compile_with_distinct_bind_names():
    import sqlalchemy as sa

    from contacts_api.plugins.contacts.reads import _compile_two

    t = sa.table("t", sa.column("a"), sa.column("b"))
    head, tail, params = _compile_two(sa.or_(t.c.a == 1, t.c.b == 2), t.c.a == 3)
    assert (head, tail) == ("(t.a = %(a_1)s OR t.b = %(b_1)s)", "t.a = %(a_2)s")
    assert params == {"a_1": 1, "b_1": 2, "a_2": 3}
    assert _compile_two(sa.true(), t.c.a == 3)[:2] == ("true", "t.a = %(a_1)s")
    assert _compile_two(t.c.a == 1, sa.true())[:2] == ("t.a = %(a_1)s", "true")
    assert _compile_two(sa.false(), t.c.a == 3)[:2] == ("false", "false")


def _prepared(lists, pairs):
    return lists.loop.run_until_complete(
        lists.app[FILTERS].contacts.parse(pairs).prepared(lists.resources.db)
    )


@pytest.mark.parametrize("max_companies", [company_sets.MAX_COMPANIES, 0])
@pytest.mark.parametrize(
    "pairs",
    [
        [("industries", "software")],
        [("technologies", "shopify_plus"), ("title", "e")],
        [("keywords", "crm,fintech"), ("country", "united")],
        [("industries", "zzz-nothing")],
    ],
)
def test_company_sets_answer_like_the_join(lists, seeded, monkeypatch, pairs, max_companies):
    """Through the matching companies' uuids (at most MAX_COMPANIES) and through
    the join to companies (more): the same pages and counts."""
    monkeypatch.setattr(company_sets, "MAX_COMPANIES", max_companies)
    company_sets._BROAD.clear()
    applied = _prepared(lists, pairs)
    (found,) = [v for _, values in applied.items for v in values if hasattr(v, "uuids")]
    assert found.uuids is None or len(found.uuids) <= max_companies
    assert found.uuids is not None or max_companies == 0  # the dataset is small
    sql, _ = repository.contact_page(applied, parse_ordering(None, CONTACT_ORDERING), limit=2)
    assert ("company_uuid = ANY" in sql) == bool(found.uuids)
    for ordering in ("-created_at", "-employees", "title"):
        check(lists, seeded, pairs, ordering, 3, dictionaries.MAX_IDS)


def test_broad_values_are_counted_by_a_semi_join(lists, seeded, monkeypatch):
    """A broad title with a country: the count reads the dictionary's matching ids
    (no "contains" on the contacts) and equals the model's."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", 0)
    pairs = [("title", "manager,engineer"), ("title_words", "sales e"), ("country", "a")]
    sql, _ = repository.contact_count(_prepared(lists, pairs))
    assert sql.count("IN (SELECT contact_field_values.id") == 3
    assert "contacts.title ILIKE" not in sql
    check(lists, seeded, pairs, "-created_at", 4, 0)
