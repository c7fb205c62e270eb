"""The page serializers (rows straight from tuples, times formatted by orjson in
one call) give the very bytes of the row-by-row ones, on real rows of every
field kind and on made-up rows with times in other zones."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.filters import AppliedFilters
from contacts_api.core.jsonio import dumps
from contacts_api.plugins.contacts import reads, repository, serialize
from contacts_api.plugins.contacts.ordering import (
    COMPANY_ORDERING,
    CONTACT_ORDERING,
    parse_ordering,
)

NO_FILTERS = AppliedFilters((), {})
ROW_BY_ROW = {
    "contact": serialize.contact,
    "simple": serialize.simple_contact,
    "company": serialize.company,
}
PAGE = {
    "contact": serialize.contact_page,
    "simple": serialize.simple_contact_page,
    "company": serialize.company_page,
}


def statement(kind: str, limit: int) -> tuple[str, dict]:
    if kind == "company":
        return repository.company_page(
            NO_FILTERS, parse_ordering(None, COMPANY_ORDERING), limit=limit
        )
    view = "simple" if kind == "simple" else "full"
    ordering = parse_ordering(None, CONTACT_ORDERING)
    return repository.contact_page(NO_FILTERS, ordering, limit=limit, view=view)


def assert_same_bytes(kind: str, names, rows) -> None:
    by_row = [ROW_BY_ROW[kind](dict(zip(names, row, strict=True))) for row in rows]
    assert dumps(PAGE[kind](names, rows)) == dumps(by_row)


async def test_pages_of_the_seeded_data_are_byte_identical(api, seeded):
    resources = api.app[RESOURCES]
    for kind in ("contact", "simple", "company"):
        sql, params = statement(kind, limit=1000)
        (table,) = await reads.run(resources, (sql, params, "table"))
        assert len(table.rows) > 30
        if kind == "contact":  # the data has every case the serializer branches on
            rows = [dict(zip(table.names, r, strict=True)) for r in table.rows]
            assert any(r["co_uuid"] is None for r in rows)
            assert any(r["m_present"] for r in rows) and any(r["cm_present"] for r in rows)
            assert any(not r["m_present"] for r in rows)
            assert any(r["departments"] for r in rows) and any(r["city"] is None for r in rows)
        assert_same_bytes(kind, table.names, table.rows)


ZONES = st.sampled_from(
    [
        dt.UTC,
        dt.timezone(dt.timedelta(0)),
        dt.timezone(dt.timedelta(hours=2)),
        dt.timezone(dt.timedelta(hours=-5, minutes=-30)),
        dt.timezone(dt.timedelta(minutes=1)),
    ]
)
TIMES = st.one_of(
    st.none(),
    st.datetimes(
        min_value=dt.datetime(1970, 1, 2),
        max_value=dt.datetime(9998, 12, 30),
        timezones=ZONES,
    ),
)
VALUES = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(2**40), 2**40),
    st.lists(st.text(max_size=6), max_size=3),
    st.booleans(),
)
UUIDS = st.uuids().map(str)


def made_up_row(draw, names) -> tuple:
    row = []
    for name in names:
        if name == "uuid":  # the page's own row: never NULL
            row.append(draw(UUIDS))
        elif name.endswith(("created_at", "updated_at")):
            row.append(draw(TIMES))
        elif name.endswith(("uuid", "present")):  # a company, metadata or none
            row.append(draw(st.one_of(st.none(), UUIDS)))
        else:
            row.append(draw(VALUES))
    return tuple(row)


async def test_made_up_rows_in_every_zone_are_byte_identical(api):
    """The column lists of the real statements; values of every kind, times in
    UTC, zero offsets that are not ``UTC``, and other offsets (converted)."""
    resources = api.app[RESOURCES]
    names = {}
    for kind in PAGE:
        sql, params = statement(kind, limit=1)
        (table,) = await reads.run(resources, (sql, params, "table"))
        names[kind] = table.names

    @settings(max_examples=300, deadline=None)
    @given(st.data())
    def check(data):
        kind = data.draw(st.sampled_from(sorted(PAGE)))
        rows = [made_up_row(data.draw, names[kind]) for _ in range(data.draw(st.integers(0, 6)))]
        assert_same_bytes(kind, names[kind], rows)

    check()


def test_utc_texts_matches_the_one_by_one_format():
    values = [
        None,
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=dt.timezone(dt.timedelta(0))),
        dt.datetime(2026, 1, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    ]
    assert serialize.utc_texts(values) == [serialize._time(v) for v in values]
    assert serialize.utc_texts(values)[4] == "2025-12-31T23:30:00Z"
