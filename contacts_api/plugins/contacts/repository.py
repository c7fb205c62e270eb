"""SQL for contacts and companies: statements built with SQLAlchemy Core.

Lists are one statement per page: an inner query on the listed table (joined
to companies / metadata only when a filter needs it) applies the filters, the
ordering, the keyset and the limit; the outer query joins the page's rows to
their company and metadata (only what the view shows): for contacts, a database
function whose plan each session keeps (``page_rows``). Orderings use columns
of the listed table only, so the inner query can walk a btree index; an
ordering by one nullable field walks it twice (``keyset.two_walks``).
"""

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.util import find_tables

from contacts_api.core.filters import AppliedFilters
from contacts_api.core.sql import compile_sql
from contacts_api.plugins.contacts.company_sets import CompanySide
from contacts_api.plugins.contacts.dictionaries import AggregateTables
from contacts_api.plugins.contacts.keyset import cursor_params, cursor_shape, split_key, two_walks
from contacts_api.plugins.contacts.ordering import Ordering
from contacts_api.plugins.contacts.reads import GROUPS, ROWS, Sql, markers, render
from contacts_api.plugins.contacts.tables import (
    CompanyTables,
    ContactTables,
    companies,
    company_metadata,
    contact_metadata,
    contacts,
)

CONTACT_TABLES = ContactTables()
# for counts and attribute counts: every match is read (dictionaries.AggregateTables)
AGGREGATE_TABLES = AggregateTables()
# for conditions that must hold on the company alone (company_groups)
COMPANY_SIDE = CompanySide()
COMPANY_TABLES = CompanyTables()

CONTACT_META_FIELDS = (
    "work_direct_phone",
    "home_phone",
    "other_phone",
    "twitter_url",
    "facebook_url",
    "website",
    "stage",
)
COMPANY_META_FIELDS = (
    "website",
    "linkedin_url",
    "facebook_url",
    "twitter_url",
    "phone_number",
    "company_name_for_emails",
    "latest_funding",
    "latest_funding_amount",
    "last_raised_at",
)
CONTACT_FIELDS = (
    "uuid",
    "first_name",
    "last_name",
    "email",
    "title",
    "seniority",
    "departments",
    "email_status",
    "mobile_phone",
    "city",
    "state",
    "country",
    "linkedin_url",
    "company_uuid",
    "created_at",
    "updated_at",
)
COMPANY_FIELDS = (
    "uuid",
    "name",
    "domain",
    "employees_count",
    "industries",
    "keywords",
    "technologies",
    "annual_revenue",
    "total_funding",
    "address",
    "city",
    "state",
    "country",
    "created_at",
    "updated_at",
)


# What a contact page's row holds, by view: the columns of the functions of
# migration contacts_0020 (company_domain is the company's domain; m_, co_ and
# cm_ are the contact's metadata, its company and the company's metadata).
_SIMPLE_COLUMNS = (
    *CONTACT_FIELDS,
    "company_name",
    "company_employees",
    "company_annual_revenue",
    "company_total_funding",
    "company_domain",
)
PAGE_COLUMNS = {
    "simple": _SIMPLE_COLUMNS,
    "full": (
        *_SIMPLE_COLUMNS,
        "m_present",
        *(f"m_{f}" for f in CONTACT_META_FIELDS),
        *(f"co_{f}" for f in COMPANY_FIELDS),
        "cm_present",
        *(f"cm_{f}" for f in COMPANY_META_FIELDS),
    ),
}


def contacts_from(needs: frozenset[str]) -> sa.FromClause:
    """``contacts`` with the joins the filters need (LEFT: exclusions let
    contacts without a company or metadata through)."""
    source: sa.FromClause = contacts
    if needs & {"company", "company_metadata"}:
        source = source.outerjoin(companies, companies.c.uuid == contacts.c.company_uuid)
    if "company_metadata" in needs:
        source = source.outerjoin(
            company_metadata, company_metadata.c.company_uuid == companies.c.uuid
        )
    if "contact_metadata" in needs:
        source = source.outerjoin(
            contact_metadata, contact_metadata.c.contact_uuid == contacts.c.uuid
        )
    return source


def companies_from(needs: frozenset[str]) -> sa.FromClause:
    source: sa.FromClause = companies
    if "company_metadata" in needs:
        source = source.outerjoin(
            company_metadata, company_metadata.c.company_uuid == companies.c.uuid
        )
    return source


def contact_where(
    applied: AppliedFilters,
    company_uuid: Any = None,
    *,
    ordering: Ordering | None = None,
    after: list | None = None,
    uuid: Any = None,
    tables: ContactTables = CONTACT_TABLES,
) -> sa.ColumnElement:
    """The filters, the company scope, the keyset and a single uuid, ANDed
    (``tables``: ``AGGREGATE_TABLES`` for a statement reading every match)."""
    if company_uuid is None and uuid is None and after is None:
        return filters_condition(applied, tables)
    parts = [filters_condition(applied, tables)]
    if company_uuid is not None:
        parts.append(contacts.c.company_uuid == str(company_uuid))
    if uuid is not None:
        parts.append(contacts.c.uuid == str(uuid))
    if after is not None:
        parts.append(ordering.after(contacts, after))
    return sa.and_(*parts)


def filters_condition(applied: AppliedFilters, tables: object) -> sa.ColumnElement:
    """``applied.condition(tables)``, the same construct for the same filters and
    values when every filter's ``build`` is pure (``filterkit.memoized``): its
    compiled form's cache key is then remembered on it too (``core.sql``), which
    was ~6% of a list page's server time under load."""
    if all(getattr(spec.build, "pure", False) for spec, _ in applied.items):
        try:
            return _pure_condition(applied.items, tables)
        except TypeError:  # a value without a hash
            pass
    return applied.condition(tables)


@functools.lru_cache(maxsize=512)
def _pure_condition(items: tuple, tables: object) -> sa.ColumnElement:
    return AppliedFilters(items, {}, ready=True).condition(tables)


def company_where(
    applied: AppliedFilters, *, ordering: Ordering | None = None, after: list | None = None
) -> sa.ColumnElement:
    parts = [applied.condition(COMPANY_TABLES)]
    if after is not None:
        parts.append(ordering.after(companies, after))
    return sa.and_(*parts)


def _labelled(table: sa.Table, prefix: str, fields: tuple[str, ...]) -> list:
    return [table.c[f].label(f"{prefix}{f}") for f in fields]


def contact_page_statement(
    needs: frozenset[str],
    ordering: Ordering,
    view: str,
    where,
    limit,
    offset,
    *,
    walks: str | None = None,
    grouped: bool = False,
) -> sa.Select:
    """The page's contacts, in order, with company (and metadata for ``full``).

    The inner query selects only ``uuid`` and the sort keys (late row lookup):
    with the ``INCLUDE (company_uuid)`` keyset indexes it walks the ordering as an
    index-only scan, checking company filters through a memoized join, and the
    wide rows are read for the page's rows only (``page_rows``)."""
    keys = _key_columns(contacts, ordering)
    if walks:  # an ordering by one nullable field: keyset.two_walks, cursor shape ``walks``
        groups = None
        if grouped:  # the key values of the companies that pass the company filters
            value = companies.c[GROUPED_KEYS[ordering.keys[0].column]]
            groups = sa.select(value).where(sa.text(GROUPS), value.isnot(None))
        page = two_walks(
            contacts,
            contacts_from(needs),
            keys,
            where,
            ordering,
            walks,
            sa.literal_column(ROWS),
            limit,
            offset,
            groups=groups,
        ).subquery("page")
    else:
        inner = (
            sa.select(*keys)
            .select_from(contacts_from(needs))
            .where(where)
            .order_by(*ordering.order_by(contacts))
            .limit(limit)
            .offset(offset)
        )
        page = inner.subquery("page")
    return page_rows(view, page, ordering)


def page_rows(view: str, page: sa.Subquery, ordering: Ordering) -> sa.Select:
    """The rows of ``view`` for the contacts of ``page`` (a subquery of their
    ``uuid`` and sort keys), in ``ordering``: ``contacts_page_rows_<view>``
    (migration ``contacts_0020``) of their uuids in order. The function's join
    keeps its plan for the session; this statement plans only ``page``."""
    uuids = sa.select(
        sa.func.array_agg(aggregate_order_by(page.c.uuid, *ordering.order_by(page)))
    ).scalar_subquery()
    rows = (
        getattr(sa.func, f"contacts_page_rows_{view}")(uuids)
        .table_valued(*PAGE_COLUMNS[view], with_ordinality="position")
        .render_derived("page_rows")
    )
    return sa.select(*(rows.c[name] for name in PAGE_COLUMNS[view])).order_by(rows.c.position)


def contact_page(
    applied: AppliedFilters,
    ordering: Ordering,
    *,
    limit: int,
    offset: int = 0,
    after: list | None = None,
    view: str = "full",
    company_uuid: Any = None,
    uuid: Any = None,
) -> Sql:
    """``(sql, params)`` of a page of contacts (template cached by shape)."""
    needs = applied.needs
    walks = cursor_shape(after) if split_key(ordering) else None
    groups = None
    if walks and company_uuid is None and uuid is None:
        groups = company_groups(applied, ordering)
    grouped = groups is not None

    def build():
        return contact_page_statement(
            needs, ordering, view, *markers(), walks=walks, grouped=grouped
        )

    if walks:
        where = contact_where(applied, company_uuid, uuid=uuid)
        return render(
            ("contact_page", needs, ordering, view, walks, grouped),
            build,
            where,
            limit,
            offset,
            cursor_params(after),
            groups=groups,
        )
    where = contact_where(applied, company_uuid, ordering=ordering, after=after, uuid=uuid)
    return render(("contact_page", needs, ordering, view), build, where, limit, offset)


# contact columns copied from the company (trigger-maintained) -> the company's
# own column, each with a (column, uuid) btree on companies
GROUPED_KEYS = {
    "company_employees": "employees_count",
    "company_annual_revenue": "annual_revenue",
    "company_total_funding": "total_funding",
}


def company_groups(applied: AppliedFilters, ordering: Ordering) -> sa.ColumnElement | None:
    """For an ordering by a company field's copy on contacts, with filters on
    the company alone: their condition on ``companies`` (every contact of the
    page has a company that passes it, with the key's value), else None.

    Each filter of the AND that only needs the company and refers to no other
    table holds for the contact's company; the contact's copy of the key equals
    the company's (the ``contacts_fill_company`` trigger keeps it so)."""
    if ordering.keys[0].column not in GROUPED_KEYS or applied.needs != {"company"}:
        return None
    parts = []
    for spec, values in applied.items:
        if spec.needs != {"company"}:
            continue
        condition = spec.build(list(values), COMPANY_SIDE)
        if {t.name for t in find_tables(condition, check_columns=True)} == {"companies"}:
            parts.append(condition)
    return sa.and_(*parts) if parts else None


def _key_columns(table: sa.Table, ordering: Ordering) -> list:
    return [table.c[k] for k in dict.fromkeys(k.column for k in ordering.keys)]


def company_page_statement(
    needs: frozenset[str], ordering: Ordering, where, limit, offset, *, walks: str | None = None
) -> sa.Select:
    if walks:  # an ordering by one nullable field: keyset.two_walks, cursor shape ``walks``
        page = two_walks(
            companies,
            companies_from(needs),
            list(companies.c),
            where,
            ordering,
            walks,
            sa.literal_column(ROWS),
            limit,
            offset,
        ).subquery("page")
    else:
        inner = sa.select(companies).select_from(companies_from(needs)).where(where)
        page = (
            inner.order_by(*ordering.order_by(companies))
            .limit(limit)
            .offset(offset)
            .subquery("page")
        )
    source = page.outerjoin(company_metadata, company_metadata.c.company_uuid == page.c.uuid)
    columns = [
        *(page.c[f] for f in COMPANY_FIELDS),
        company_metadata.c.company_uuid.label("cm_present"),
        *_labelled(company_metadata, "cm_", COMPANY_META_FIELDS),
    ]
    return sa.select(*columns).select_from(source).order_by(*ordering.order_by(page))


def company_page(
    applied: AppliedFilters,
    ordering: Ordering,
    *,
    limit: int,
    offset: int = 0,
    after: list | None = None,
) -> Sql:
    needs = applied.needs
    walks = cursor_shape(after) if split_key(ordering) else None

    def build():
        return company_page_statement(needs, ordering, *markers(), walks=walks)

    if walks:
        return render(
            ("company_page", needs, ordering, walks),
            build,
            company_where(applied),
            limit,
            offset,
            cursor_params(after),
        )
    where = company_where(applied, ordering=ordering, after=after)
    return render(("company_page", needs, ordering), build, where, limit, offset)


def contact_count(applied: AppliedFilters, company_uuid: Any = None) -> Sql:
    needs = applied.needs

    def build():
        return sa.select(sa.func.count()).select_from(contacts_from(needs)).where(markers()[0])

    return render(
        ("contact_count", needs),
        build,
        contact_where(applied, company_uuid, tables=AGGREGATE_TABLES),
    )


def company_count(applied: AppliedFilters) -> Sql:
    needs = applied.needs

    def build():
        return sa.select(sa.func.count()).select_from(companies_from(needs)).where(markers()[0])

    return render(("company_count", needs), build, company_where(applied))


def contact_uuids(
    applied: AppliedFilters, ordering: Ordering, limit: int, company_uuid: Any = None
) -> Sql:
    return compile_sql(
        sa.select(contacts.c.uuid)
        .select_from(contacts_from(applied.needs))
        .where(contact_where(applied, company_uuid))
        .order_by(*ordering.order_by(contacts))
        .limit(limit)
    )


def company_uuids(applied: AppliedFilters, ordering: Ordering, limit: int) -> Sql:
    return compile_sql(
        sa.select(companies.c.uuid)
        .select_from(companies_from(applied.needs))
        .where(company_where(applied))
        .order_by(*ordering.order_by(companies))
        .limit(limit)
    )


def sort_values(row: dict[str, Any], ordering: Ordering) -> list[Any]:
    return [row[key.column] for key in ordering.keys]


def contact_by_uuid(uuid: Any) -> Sql:
    from contacts_api.plugins.contacts.ordering import CONTACT_ORDERING, parse_ordering

    return contact_page(
        AppliedFilters((), {}), parse_ordering(None, CONTACT_ORDERING), limit=1, uuid=uuid
    )


def company_by_uuid(uuid: Any) -> Sql:
    from contacts_api.plugins.contacts.ordering import COMPANY_ORDERING, parse_ordering

    ordering = parse_ordering(None, COMPANY_ORDERING)

    def build():
        return company_page_statement(frozenset(), ordering, *markers())

    return render(
        ("company_page", frozenset(), ordering), build, companies.c.uuid == str(uuid), 1, 0
    )
