"""Distinct values of one attribute among the matching rows, with counts
(``GET /api/v1/contacts/{attribute}/``, ``GET /api/v1/companies/{attribute}/``).

List attributes are split into their elements; empty values are not listed.
"""

import sqlalchemy as sa

from core.errors import ValidationError
from core.filters import AppliedFilters
from plugins.contacts.repository import (
    COMPANY_TABLES,
    companies_from,
    contact_where,
    contacts_from,
)
from plugins.contacts.sqltext import contains
from plugins.contacts.tables import companies, contacts

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
ATTRIBUTE_ORDERINGS = ("value", "-value", "count", "-count")


def parse_attribute_ordering(text: str | None) -> str:
    text = (text or "").strip() or "-count"
    if text not in ATTRIBUTE_ORDERINGS:
        raise ValidationError.single(
            ("query", "ordering"), f"must be one of {', '.join(ATTRIBUTE_ORDERINGS)}")
    return text


def _values_query(source, where, expr, is_list: bool, search: str | None) -> sa.Select:
    value = sa.func.unnest(expr) if is_list else expr
    inner = sa.select(value.label("value")).select_from(source).where(where)
    if search and not is_list:
        inner = inner.where(contains(expr, search))
    inner = inner.subquery("v")
    query = sa.select(inner.c.value, sa.func.count().label("count")).where(
        inner.c.value.isnot(None), inner.c.value != "")
    if search and is_list:
        query = query.where(contains(inner.c.value, search))
    return query.group_by(inner.c.value)


def _ordered(query: sa.Select, ordering: str, limit: int, offset: int) -> sa.Select:
    order = {
        "value": 'v.value COLLATE "C" ASC', "-value": 'v.value COLLATE "C" DESC',
        "count": 'count(*) ASC, v.value COLLATE "C" ASC',
        "-count": 'count(*) DESC, v.value COLLATE "C" ASC',
    }[ordering]
    return query.order_by(sa.text(order)).limit(limit).offset(offset or None)


def contact_values(attribute: str, applied: AppliedFilters, *, search: str | None,
                   ordering: str, limit: int, offset: int, company_uuid=None) -> sa.Select:
    build, needs, is_list = CONTACT_ATTRIBUTES[attribute]
    source = contacts_from(applied.needs | needs)
    query = _values_query(source, contact_where(applied, company_uuid), build(), is_list, search)
    return _ordered(query, ordering, limit, offset)


def company_values(attribute: str, applied: AppliedFilters, *, search: str | None,
                   ordering: str, limit: int, offset: int) -> sa.Select:
    build, needs, is_list = COMPANY_ATTRIBUTES[attribute]
    source = companies_from(applied.needs | needs)
    query = _values_query(source, applied.condition(COMPANY_TABLES), build(), is_list, search)
    return _ordered(query, ordering, limit, offset)
