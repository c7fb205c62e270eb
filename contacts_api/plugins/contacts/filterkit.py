"""Builders of FilterSpecs shared by the contact and company filters."""

import functools

import attrs
import sqlalchemy as sa

from contacts_api.core.filters import FilterSpec, Range
from contacts_api.plugins.contacts.sqltext import (
    company_search_key,
    contact_search_key,
    contains_any,
    contains_any_via,
    contains_every_word,
    fold_technology,
    list_key,
    none_of,
    tech_key,
)

COMPANY = frozenset({"company"})


def memoized(specs: list[FilterSpec], size: int = 256) -> list[FilterSpec]:
    """``specs`` with each ``build`` remembered per ``(values, tables)``.

    Every built-in ``build`` is a function of its arguments alone (times arrive
    parsed, absolute), and a SQLAlchemy construct can go into any number of
    statements, so a request repeating a filter's values (the same seniority, a
    remembered lookup's ids) reuses the condition built before. Building them
    was 7-12% of a list page's server time under load at 1M contacts (py-spy:
    SQLAlchemy's operators, ``in_`` the costliest). Values that cannot be hashed
    are built every time. A plugin's own filters are left as they are: the
    contract does not ask their ``build`` to be pure."""

    def remember(build):
        cached = functools.lru_cache(maxsize=size)(lambda values, t: build(list(values), t))

        def memo(values, t):
            try:
                return cached(tuple(values), t)
            except TypeError:  # unhashable: a value of a type without a hash
                return build(values, t)

        memo.pure = True  # read by repository.filters_condition
        memo.__wrapped__ = build
        return memo

    return [attrs.evolve(spec, build=remember(spec.build)) for spec in specs]


OWN_INDEX = frozenset({"title", "company_name", "mobile_phone"})


def text_condition(field: str):
    """``build(values, tables)``: a contact field contains one of the values, through
    the field's own trigram index, else the search key's as a prefilter."""

    def build(values, t):
        col = t.contacts.c[field]
        if field in OWN_INDEX:
            return contains_any(col, values)
        return contains_any_via(contact_search_key(), col, values)

    return build


def text_filter(field: str, description: str, aliases: tuple[str, ...] = ()) -> FilterSpec:
    """A contact field contains one of the values (``text_condition``)."""
    return FilterSpec(field, "text", text_condition(field), description, aliases)


def company_text_filter(
    name: str, field: str, description: str, needs: frozenset[str] = COMPANY
) -> FilterSpec:
    def build(values, t):
        return contains_any_via(company_search_key(), t.companies.c[field], values)

    return FilterSpec(name, "text", build, description, needs=needs)


def search_words(key, values):
    """Each word of a value is in the key; values are ORed."""
    return contains_every_word(key, [v.split() for v in values])


def contact_location(t):
    return [t.contacts.c.city, t.contacts.c.state, t.contacts.c.country]


def company_location(t):
    c = t.companies.c
    return [c.address, c.city, c.state, c.country]


def list_contains(attr: str, fold: bool = False):
    def build(values, t):
        col = t.companies.c[attr]
        key = tech_key(col) if fold else list_key(col)
        return contains_any(key, [fold_technology(v) for v in values] if fold else values)

    return build


def list_excludes(attr: str, fold: bool = False):
    contains_build = list_contains(attr, fold)
    return lambda values, t: none_of(t.companies.c.uuid, contains_build(values, t))


def departments_key(t):
    return list_key(t.contacts.c.departments)


def range_condition(col, r: Range):
    parts = []
    if r.low is not None:
        parts.append(col >= r.low)
    if r.high is not None:
        parts.append(col <= r.high)
    return sa.and_(*parts) if parts else sa.true()


def bound_filters(prefix: str, col_of, description: str, needs=frozenset()) -> list[FilterSpec]:
    """``<prefix>_min``/``<prefix>_max``: inclusive bounds."""
    return [
        FilterSpec(
            f"{prefix}_min",
            "integer",
            lambda v, t: col_of(t) >= v[0],
            f"{description}: at least this (inclusive).",
            needs=needs,
            multiple=False,
        ),
        FilterSpec(
            f"{prefix}_max",
            "integer",
            lambda v, t: col_of(t) <= v[0],
            f"{description}: at most this (inclusive).",
            needs=needs,
            multiple=False,
        ),
    ]


def time_filters(table: str) -> list[FilterSpec]:
    """``created_at``/``updated_at`` ``_after``/``_before``: inclusive; a date is
    the whole UTC day. ``table`` is the attribute of ``tables`` to filter."""

    def after(field):
        return lambda v, t: getattr(t, table).c[field] >= v[0].start

    def before(field):
        def build(v, t):
            col, bound = getattr(t, table).c[field], v[0]
            return col < bound.end if bound.whole_day else col <= bound.start

        return build

    specs = []
    for field in ("created_at", "updated_at"):
        specs += [
            FilterSpec(
                f"{field}_after",
                "datetime",
                after(field),
                f"{field} on or after this (RFC 3339 or a date).",
                multiple=False,
            ),
            FilterSpec(
                f"{field}_before",
                "datetime",
                before(field),
                f"{field} on or before this (a date includes the whole day).",
                multiple=False,
            ),
        ]
    return specs
