"""The plans chosen for common terms answer what the plain model answers.

Two choices depend on the data: a dictionary value that matches more than
``MAX_IDS`` distinct values is remembered as broad and answered by the plain
condition (``dictionaries.BroadValues``), and an ordering by a company field
with filters on the company walks the matching companies' key values first
(``keyset._by_groups``). Hypothesis draws filters from small colliding
vocabularies, orderings, page sizes (so cursors go deep into the list) and
MAX_IDS, and every page walked by cursor must equal the reference model's
ordered answer.
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
from contacts_api.plugins.contacts import dictionaries, repository, service
from contacts_api.plugins.contacts.ordering import CONTACT_ORDERING, parse_ordering
from tests.plugins.contacts.reference import matching, ordered

FILTER_VALUES = {
    "title": ["manager", "engineer", "sales", "e", "ceo"],
    "exclude_title_contains": ["engineer", "e"],
    "technologies": ["salesforce", "aws", "shopify_plus", "a"],
    "exclude_technologies": ["aws", "a"],
    "industries": ["software", "computer", "e"],
    "company": ["a", "e"],
    "employees_min": ["10", "1000"],
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


def check(lists, seeded, pairs, ordering, limit, max_ids):
    saved = dictionaries.MAX_IDS
    dictionaries.MAX_IDS = max_ids
    try:
        got = lists.walk(pairs, ordering, limit)
    finally:
        dictionaries.MAX_IDS = saved
    expected = [c.uuid for c in ordered(matching(seeded.contacts, pairs), ordering)]
    assert got == expected


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
    )
    def run(pairs, ordering, limit, max_ids):
        check(lists, seeded, pairs, ordering, limit, max_ids)

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
