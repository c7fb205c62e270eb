"""A page's rows come from the functions of migration ``contacts_0020``
(``contacts_page_rows_full`` / ``_simple``, ``repository.page_rows``): their
columns are ``repository.PAGE_COLUMNS``, and for any uuids in any order they
answer what a plain join of the same tables answers, row for row, in the
uuids' order (contacts without a company or metadata included, unknown uuids
left out)."""

import uuid

import psycopg2
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts_api.core.sql import compile_sql
from contacts_api.plugins.contacts import repository
from contacts_api.plugins.contacts.tables import (
    companies,
    company_metadata,
    contact_metadata,
    contacts,
)

VIEWS = ("full", "simple")


def plain_join(view: str) -> str:
    """The model: the page's uuids (``%(uuids)s``, in order) joined to the tables
    with SQLAlchemy, as list pages did before ``contacts_0020``."""
    page = (
        sa.func.unnest(sa.bindparam("uuids"))
        .table_valued("uuid", with_ordinality="position")
        .render_derived("page")
    )
    source = page.join(contacts, contacts.c.uuid == page.c.uuid).outerjoin(
        companies, companies.c.uuid == contacts.c.company_uuid
    )
    columns = [
        *(contacts.c[f] for f in repository.CONTACT_FIELDS),
        contacts.c.company_name,
        contacts.c.company_employees,
        contacts.c.company_annual_revenue,
        contacts.c.company_total_funding,
        companies.c.domain.label("company_domain"),
    ]
    if view == "full":
        source = source.outerjoin(
            contact_metadata, contact_metadata.c.contact_uuid == contacts.c.uuid
        ).outerjoin(company_metadata, company_metadata.c.company_uuid == companies.c.uuid)
        columns += [
            contact_metadata.c.contact_uuid.label("m_present"),
            *(contact_metadata.c[f].label(f"m_{f}") for f in repository.CONTACT_META_FIELDS),
            *(companies.c[f].label(f"co_{f}") for f in repository.COMPANY_FIELDS),
            company_metadata.c.company_uuid.label("cm_present"),
            *(company_metadata.c[f].label(f"cm_{f}") for f in repository.COMPANY_META_FIELDS),
        ]
    statement = sa.select(*columns).select_from(source).order_by(page.c.position)
    return compile_sql(statement)[0].replace("%(uuids)s", "%(uuids)s::uuid[]")


def function_rows(view: str) -> str:
    return f"SELECT * FROM contacts_page_rows_{view}(%(uuids)s::uuid[])"


@pytest.fixture
def db(settings, seeded):
    conn = psycopg2.connect(settings.database.url.reveal())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT uuid::text FROM contacts ORDER BY uuid")
        known = [r[0] for r in cur.fetchall()]
        # every kind of row: with and without company, with and without metadata
        cur.execute(
            "SELECT count(*) FILTER (WHERE company_uuid IS NULL),"
            " count(*) FILTER (WHERE uuid IN (SELECT contact_uuid FROM contact_metadata)),"
            " count(*) FILTER (WHERE company_uuid IN (SELECT company_uuid FROM company_metadata))"
            " FROM contacts"
        )
        assert all(cur.fetchone()), "the dataset lacks a kind of row"
    yield conn, known
    conn.close()


def _read(conn, query: str, uuids: list[str]) -> tuple[list[str], list[tuple]]:
    with conn.cursor() as cur:
        cur.execute(query, {"uuids": uuids})
        return [(c.name, c.type_code) for c in cur.description], cur.fetchall()


@pytest.mark.parametrize("view", VIEWS)
def test_the_functions_columns_are_the_page_columns(db, view):
    conn, _known = db
    described, _ = _read(conn, function_rows(view), [])
    assert [name for name, _ in described] == list(repository.PAGE_COLUMNS[view])
    assert described == _read(conn, plain_join(view), [])[0]  # and their types


@pytest.mark.parametrize("view", VIEWS)
def test_every_contact_reads_as_the_plain_join_reads_it(db, view):
    conn, known = db
    assert _read(conn, function_rows(view), known) == _read(conn, plain_join(view), known)


UNKNOWN = str(uuid.UUID(int=1))


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    picks=st.lists(st.one_of(st.integers(0, 10_000), st.just(-1)), max_size=30, unique=True),
    view=st.sampled_from(VIEWS),
)
@example(picks=[], view="full")  # an empty page: no rows, not an error
@example(picks=[-1], view="full")  # only a contact that is gone
def test_any_page_of_uuids_reads_as_the_plain_join(db, picks, view):
    conn, known = db
    uuids = [UNKNOWN if p < 0 else known[p % len(known)] for p in picks]
    uuids = list(dict.fromkeys(uuids))  # a page holds a contact once
    got = _read(conn, function_rows(view), uuids)[1]
    assert got == _read(conn, plain_join(view), uuids)[1]
    assert [row[0] for row in got] == [u for u in uuids if u != UNKNOWN]


def test_a_null_page_has_no_rows(db):
    """``array_agg`` of no rows is NULL: an empty page."""
    conn, _known = db
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM contacts_page_rows_full(NULL)")
        assert cur.fetchone()[0] == 0
