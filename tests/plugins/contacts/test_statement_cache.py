"""``compile_sql`` compiles a statement once per shape (SQLAlchemy's cache key)
and takes only the values from each new statement: over random combinations
of every contact and company filter, orderings and pages, the SQL and the
parameters are the very ones a fresh compile gives. The conditions the built-in
filters remember (``filterkit.memoized``) compile as the ones built afresh."""

import datetime as dt
import uuid
from unittest import mock

import attrs
import psycopg2
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from contacts_api.core.app import create_app
from contacts_api.core.appkeys import FILTERS
from contacts_api.core.errors import ApiError
from contacts_api.core.filters import AppliedFilters
from contacts_api.core.sql import _compile_fresh, compile_sql
from contacts_api.plugins.contacts import reads, repository
from contacts_api.plugins.contacts.ordering import (
    COMPANY_ORDERING,
    CONTACT_ORDERING,
    parse_ordering,
)

TEXTS = ["tech", "manager", "Müller", "a%b_c\\", "o'brien", "germany", "vp sales", "café", "x"]
TIMES = ["2025-01-01", "2025-06-01T10:00:00Z", "2024-02-29T23:59:59.5+02:00"]
RANGES = ["51,200", ",10", "5,", "0,0", "10,1000000"]


class SyncDb:
    """The filters' ``prepare`` lookups on a plain psycopg2 cursor (they never
    wait on the event loop, so their coroutines finish in one step)."""

    def __init__(self, cur):
        self.cur = cur

    async def fetch_tuples(self, sql, params=None):
        self.cur.execute(sql, params)
        return self.cur.fetchall()


def finish(coroutine):
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the coroutine waited")


def raw_values(draw, spec) -> str:
    kind = spec.kind
    if kind == "text":
        return ",".join(draw(st.lists(st.sampled_from(TEXTS), min_size=1, max_size=3)))
    if kind == "choice":
        return ",".join(draw(st.lists(st.sampled_from(spec.choices), min_size=1, max_size=4)))
    if kind == "integer":
        return str(draw(st.integers(-5, 10**6)))
    if kind == "boolean":
        return draw(st.sampled_from(["true", "false"]))
    if kind == "uuid":
        return str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1))))
    if kind == "datetime":
        return draw(st.sampled_from(TIMES))
    return draw(st.sampled_from(RANGES))


KEY_VALUES = {
    "created_at": st.datetimes(timezones=st.just(dt.UTC)),
    "company_employees": st.none() | st.integers(0, 10**6),
    "employees_count": st.none() | st.integers(0, 10**6),
    "title": st.none() | st.sampled_from(TEXTS),
    "last_name": st.none() | st.sampled_from(TEXTS),
    "name": st.none() | st.sampled_from(TEXTS),
    "uuid": st.uuids().map(str),
}


def cursors(ordering):
    """The sort values of a row to page after (a keyset cursor's values)."""
    return st.tuples(*(KEY_VALUES[key.column] for key in ordering.keys)).map(list)


def unremembered(applied: AppliedFilters) -> AppliedFilters:
    """``applied`` with each filter's own ``build``, not ``filterkit.memoized``'s."""
    items = tuple(
        (attrs.evolve(spec, build=getattr(spec.build, "__wrapped__", spec.build)), values)
        for spec, values in applied.items
    )
    return AppliedFilters(items, applied.raw, ready=True)


def test_cached_compiles_equal_fresh_ones(settings_factory):
    app_settings = settings_factory()
    app = create_app(app_settings)
    registries = {"contacts": app[FILTERS].contacts, "companies": app[FILTERS].companies}
    conn = psycopg2.connect(app_settings.database.url.reveal())
    conn.autocommit = True
    db = SyncDb(conn.cursor())

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        resource = data.draw(st.sampled_from(sorted(registries)))
        registry = registries[resource]
        specs = data.draw(
            st.lists(
                st.sampled_from(sorted(registry.specs.values(), key=lambda s: s.name)),
                max_size=4,
                unique_by=lambda s: s.name,
            )
        )
        pairs = [(spec.name, raw_values(data.draw, spec)) for spec in specs]
        try:
            applied = finish(registry.parse(pairs).prepared(db))
        except (ApiError, ValueError):
            assume(False)
        limit = data.draw(st.integers(1, 101))
        offset = data.draw(st.integers(0, 3) | st.just(500))
        if resource == "contacts":
            text = data.draw(st.sampled_from([None, "-employees", "title", "-last_name"]))
            ordering = parse_ordering(text, CONTACT_ORDERING)
            view = data.draw(st.sampled_from(["full", "simple"]))
            after = data.draw(st.none() | cursors(ordering))

            def statements():
                return [
                    repository.contact_page(
                        applied, ordering, limit=limit, offset=offset, view=view, after=after
                    ),
                    repository.contact_count(applied),
                    repository.contact_uuids(applied, ordering, limit),
                ]

            condition = repository.contact_where(applied)
            fresh = unremembered(applied).condition(repository.CONTACT_TABLES)
        else:
            ordering = parse_ordering(
                data.draw(st.sampled_from([None, "-employees", "name"])), COMPANY_ORDERING
            )
            after = data.draw(st.none() | cursors(ordering))

            def statements():
                return [
                    repository.company_page(
                        applied, ordering, limit=limit, offset=offset, after=after
                    ),
                    repository.company_count(applied),
                    repository.company_uuids(applied, ordering, limit),
                ]

            condition = repository.company_where(applied)
            fresh = unremembered(applied).condition(repository.COMPANY_TABLES)
        # a remembered condition (filterkit.memoized) is the one built afresh
        assert _compile_fresh(condition) == _compile_fresh(fresh)
        # twice: the second finds the shape the first compiled
        assert compile_sql(condition) == _compile_fresh(condition)
        assert compile_sql(condition) == _compile_fresh(condition)
        cached = statements()
        with (
            mock.patch.object(reads, "compile_sql", _compile_fresh),
            mock.patch.object(repository, "compile_sql", _compile_fresh),
        ):
            assert cached == statements()
        checked.append(len(applied.items))

    checked = []
    try:
        check()
    finally:
        conn.close()
    assert len(checked) > 100 and max(checked) >= 3, checked
