"""Distinct values of one attribute among the matching rows, with counts
(``GET /api/v1/contacts/{attribute}/``, ``GET /api/v1/companies/{attribute}/``).

List attributes are split into their elements; empty values are not listed.
Titles and countries are counted by their dictionary id
(``plugins.contacts.dictionaries``) and named afterwards.
"""

import sqlalchemy as sa

from contacts_api.core.errors import ValidationError
from contacts_api.core.filters import AppliedFilters
from contacts_api.plugins.contacts import stored_terms
from contacts_api.plugins.contacts.dictionaries import (
    Matched,
    among_ids,
    broad_ids,
    whole,
)
from contacts_api.plugins.contacts.repository import (
    AGGREGATE_TABLES,
    COMPANY_TABLES,
    companies_from,
    contact_where,
    contacts_from,
)
from contacts_api.plugins.contacts.sqltext import contains
from contacts_api.plugins.contacts.tables import companies, contact_field_values, contacts

# attribute -> (expression builder, needs, is a list)
CONTACT_ATTRIBUTES = {
    "title": (lambda: contacts.c.title, frozenset(), False),
    "company": (lambda: contacts.c.company_name, frozenset(), False),
    "industry": (lambda: companies.c.industries, frozenset({"company"}), True),
    "keywords": (lambda: companies.c.keywords, frozenset({"company"}), True),
    "technologies": (lambda: companies.c.technologies, frozenset({"company"}), True),
    "seniority": (lambda: contacts.c.seniority, frozenset(), False),
    "department": (lambda: contacts.c.departments, frozenset(), True),
    "city": (lambda: contacts.c.city, frozenset(), False),
    "state": (lambda: contacts.c.state, frozenset(), False),
    "country": (lambda: contacts.c.country, frozenset(), False),
    "company_city": (lambda: companies.c.city, frozenset({"company"}), False),
    "company_state": (lambda: companies.c.state, frozenset({"company"}), False),
    "company_country": (lambda: companies.c.country, frozenset({"company"}), False),
}
COMPANY_ATTRIBUTES = {
    "name": (lambda: companies.c.name, frozenset(), False),
    "industry": (lambda: companies.c.industries, frozenset(), True),
    "keywords": (lambda: companies.c.keywords, frozenset(), True),
    "technologies": (lambda: companies.c.technologies, frozenset(), True),
    "city": (lambda: companies.c.city, frozenset(), False),
    "state": (lambda: companies.c.state, frozenset(), False),
    "country": (lambda: companies.c.country, frozenset(), False),
}
# contact attributes with a dictionary of distinct values (contact_field_values)
DICTIONARY_ATTRIBUTES = ("title", "country")
ATTRIBUTE_ORDERINGS = ("value", "-value", "count", "-count")


def parse_attribute_ordering(text: str | None) -> str:
    text = (text or "").strip() or "-count"
    if text not in ATTRIBUTE_ORDERINGS:
        raise ValidationError.single(
            ("query", "ordering"), f"must be one of {', '.join(ATTRIBUTE_ORDERINGS)}"
        )
    return text


def _values_query(source, where, expr, is_list: bool, search: str | None) -> sa.Select:
    value = sa.func.unnest(expr) if is_list else expr
    inner = sa.select(value.label("value")).select_from(source).where(where)
    if search and not is_list:
        inner = inner.where(contains(expr, search))
    inner = inner.subquery("v")
    query = sa.select(inner.c.value, sa.func.count().label("count")).where(
        inner.c.value.isnot(None), inner.c.value != ""
    )
    if search and is_list:
        query = query.where(contains(inner.c.value, search))
    return query.group_by(inner.c.value)


def _broad_values_query(source, where, field: str, search: Matched) -> sa.Select:
    """Counts of the values matching a broad ``search`` (more than ``MAX_IDS``
    distinct values): the matching dictionary entries, ids and values, are read
    once into a hash that the matching contacts' ids probe, then grouped ("head
    of" among the contacts in Spain: 39k index-only entries against 25k titles),
    instead of "contains" rechecked on the heap of every candidate contact."""
    v = (
        broad_ids(field, [search.value], whole)
        .add_columns(contact_field_values.c.value)
        .subquery("v")
    )
    return (
        sa.select(v.c.value, sa.func.count().label("count"))
        .select_from(source.join(v, v.c.id == contacts.c[f"{field}_id"]))
        .where(where, v.c.value != "")
        .group_by(v.c.id, v.c.value)
    )


def _searched_values_query(
    source, where, id_column: sa.ColumnElement, matches: sa.ColumnElement, ordering: str, top: int
) -> sa.Select:
    """Counts of the dictionary values a search found (``matches``: the condition
    on ``id_column``, the values' ids or a stored term), grouped by id, then named
    by one probe of the dictionary's primary key per group: a join hashed the whole
    dictionary ("marketing manager": 1,106 groups against 265k values, 80 ms; "head
    of" in Spain through its stored term: 1,259 groups). Ordered by count, only the
    groups that can be among the ``top`` (limit + offset) are named: those counting
    at least the ``top``-th count (naming all 1,259 was 5 of 14 ms). No group is
    dropped after that cut: the empty value cannot contain a search."""
    counts = (
        sa.select(id_column.label("id"), sa.func.count().label("count"))
        .select_from(source)
        .where(where, matches)
        .group_by(id_column)
        .cte("g")
        .prefix_with("MATERIALIZED")  # read twice: the groups, and the cut
    )
    v = (
        sa.select(contact_field_values.c.value)
        .where(contact_field_values.c.id == counts.c.id)
        .offset(0)  # a probe per group, not a join the planner may turn into a hash
        .lateral("v")
    )
    query = sa.select(v.c.value, counts.c.count).select_from(counts.join(v, sa.true()))
    if ordering in ("count", "-count"):
        other = counts.alias("cut")
        nth = (
            sa.select(other.c.count)
            .order_by(other.c.count.desc() if ordering == "-count" else other.c.count)
            .offset(top - 1)
            .limit(1)
            .scalar_subquery()
        )
        if ordering == "-count":
            query = query.where(counts.c.count >= sa.func.coalesce(nth, 0))
        else:
            query = query.where(sa.or_(nth.is_(None), counts.c.count <= nth))
    return query


def _dictionary_values_query(
    source, where, field: str, search: Matched | None, ordering: str, top: int
) -> sa.Select:
    """Counts grouped by the field's dictionary id, then named: an int key, and
    the contacts read only through indexes holding the ids."""
    id_column = contacts.c[f"{field}_id"]
    if search is not None and search.ids is None:
        if search.stored is None:
            return _broad_values_query(source, where, field, search)
        matches = stored_terms.condition(id_column, [search.stored], (), among_ids)
        return _searched_values_query(source, where, id_column, matches, ordering, top)
    if search is not None:  # at most MAX_IDS values: as many groups at most
        matches = among_ids(id_column, search.ids) if search.ids else sa.false()
        return _searched_values_query(source, where, id_column, matches, ordering, top)
    inner = (
        sa.select(id_column.label("id"), sa.func.count().label("count"))
        .select_from(source)
        .where(where, id_column.isnot(None))
    )
    counts = inner.group_by(id_column).subquery("g")
    v = contact_field_values.alias("v")
    return (
        sa.select(v.c.value, counts.c.count)
        .select_from(counts.join(v, v.c.id == counts.c.id))
        .where(v.c.value != "")
    )


def _ordered(
    query: sa.Select, ordering: str, limit: int, offset: int, count: str = "count(*)"
) -> sa.Select:
    order = {
        "value": 'v.value COLLATE "C" ASC',
        "-value": 'v.value COLLATE "C" DESC',
        "count": f'{count} ASC, v.value COLLATE "C" ASC',
        "-count": f'{count} DESC, v.value COLLATE "C" ASC',
    }[ordering]
    return query.order_by(sa.text(order)).limit(limit).offset(offset or None)


def contact_values(
    attribute: str,
    applied: AppliedFilters,
    *,
    search: str | Matched | None,
    ordering: str,
    limit: int,
    offset: int,
    company_uuid=None,
) -> sa.Select:
    """The values of ``attribute`` among the contacts ``applied`` selects. For a
    dictionary attribute (``DICTIONARY_ATTRIBUTES``) ``search`` must be
    ``dictionaries.match(db, field, search)``."""
    build, needs, is_list = CONTACT_ATTRIBUTES[attribute]
    source = contacts_from(applied.needs | needs)
    where = contact_where(applied, company_uuid, tables=AGGREGATE_TABLES)
    if attribute in DICTIONARY_ATTRIBUTES:
        if isinstance(search, str):
            raise TypeError(f"the {attribute} search must be matched first")
        query = _dictionary_values_query(source, where, attribute, search, ordering, limit + offset)
        looked_up = search is not None and search.ids is None and search.stored is None
        return _ordered(
            query, ordering, limit, offset, count="count(*)" if looked_up else "g.count"
        )
    query = _values_query(source, where, build(), is_list, search)
    return _ordered(query, ordering, limit, offset)


def company_values(
    attribute: str,
    applied: AppliedFilters,
    *,
    search: str | None,
    ordering: str,
    limit: int,
    offset: int,
) -> sa.Select:
    build, needs, is_list = COMPANY_ATTRIBUTES[attribute]
    source = companies_from(applied.needs | needs)
    query = _values_query(source, applied.condition(COMPANY_TABLES), build(), is_list, search)
    return _ordered(query, ordering, limit, offset)
