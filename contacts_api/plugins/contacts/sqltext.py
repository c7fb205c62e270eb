"""SQL building blocks for "contains" filters, shared by the contact and company
filters (and usable by third-party filters).

Text matches are ``ILIKE '%value%'`` with the LIKE wildcards of the value
escaped (``LIKE lower(...)`` on a key stored lower-cased: ``matches_pattern``).
Several fields, or the elements of a list, are matched through the generated key
columns of ``migrations/contacts/contacts_0002_search.sql``: they
join values with ``chr(31)``, which no search value contains (it is whitespace to
``str.split``), so a match never spans two fields; ``contacts_0003_indexes.sql`` indexes
them with pg_trgm.
"""

import re
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement

from contacts_api.plugins.contacts.tables import companies, contacts

__all__ = [
    "SEPARATOR",
    "company_search_key",
    "contact_search_key",
    "contains",
    "contains_any",
    "contains_any_via",
    "contains_every_word",
    "fold_technology",
    "has_trigram",
    "list_key",
    "lowered_key",
    "matches_pattern",
    "none_of",
    "pattern",
    "tech_key",
]

SEPARATOR = "\x1f"
_FOLD = re.compile(r"[_. ]+")


def pattern(value: str) -> str:
    """``%value%`` with ``\\``, ``%`` and ``_`` escaped (escape character ``\\``)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.replace(SEPARATOR, ' ')}%"


_WORD3 = re.compile(r"\w{3}")


def has_trigram(value: str) -> bool:
    """Whether pg_trgm can use its index for ``value`` (three word characters in a row)."""
    return _WORD3.search(value) is not None


def contains(expr: ColumnElement, value: str) -> ColumnElement[bool]:
    """``expr`` contains ``value``, case-insensitively."""
    return matches_pattern(expr, pattern(value), has_trigram(value))


def matches_pattern(expr: ColumnElement, like: object, indexed: bool) -> ColumnElement[bool]:
    """``expr ILIKE like`` (a ``pattern()``, or a bind parameter that will hold one).
    Without a trigram (``indexed`` False: ``has_trigram`` of the value) pg_trgm can
    find nothing, so the condition is kept away from the index, which would return
    every row and mislead the planner's estimate.

    A field with a key stored lower-cased (``LOWERED_KEYS``) is matched through
    the key with ``LIKE lower(like)`` instead: what ILIKE computes, without
    lower-casing each value, which made the planner's estimate of a word (tested
    on every entry of the column's histogram) cost 2.8 ms for two words in the
    search key, and 0.8 ms for one in the company name."""
    key = lowered_key(expr)
    if key is not None:
        expr = key
    if not indexed:
        expr = sa.func.coalesce(expr, "")
    if key is not None:
        return expr.like(sa.func.lower(like), escape="\\")
    return expr.ilike(like, escape="\\")


# (field, the key PostgreSQL stores lower-cased for it): contacts_0015 and contacts_0021
LOWERED_KEYS = (
    (contacts.c.search_key, contacts.c.search_key),
    (contacts.c.company_name, contacts.c.company_name_key),
)


def lowered_key(expr: ColumnElement) -> ColumnElement | None:
    """The lower-cased key that ``expr`` is matched through (``LOWERED_KEYS``), or None."""
    for field, key in LOWERED_KEYS:
        if expr is field or expr is key:
            return key
    return None


# Past this many words in all, a "contains" condition is one array parameter
# instead of an expression per word: building and compiling 12,000 of them took
# 4 s of the server's CPU, on its event loop (found by a black-box check), and
# no index serves such an OR anyway.
MAX_WORD_EXPRESSIONS = 64


def contains_every_word(expr: ColumnElement, groups: list[list[str]]) -> ColumnElement[bool]:
    """``expr`` contains every text of one of ``groups``, case-insensitively.
    Up to ``MAX_WORD_EXPRESSIONS`` texts: ``contains`` for each (which the trigram
    indexes serve); more: ``contacts_contains_every(expr, groups)`` (migration
    ``contacts_0017``) of the groups sent as one array, each group's patterns
    joined by ``SEPARATOR`` (which ``pattern`` never leaves)."""
    if sum(map(len, groups)) <= MAX_WORD_EXPRESSIONS:
        return sa.or_(*(sa.and_(*(contains(expr, text) for text in group)) for group in groups))
    joined = [SEPARATOR.join(pattern(text) for text in group) for group in groups]
    # a function (contacts_0017): a subquery here would name the field's table in
    # its own FROM when the condition is compiled on its own (core.sql's shapes).
    # ILIKE on a key stored lower-cased means the same as LIKE lower(...).
    key = lowered_key(expr)
    return sa.func.contacts_contains_every(
        expr if key is None else key, sa.literal(joined, ARRAY(sa.Text)), type_=sa.Boolean
    )


def contains_any(expr: ColumnElement, values: Iterable[str]) -> ColumnElement[bool]:
    return contains_every_word(expr, [[value] for value in values])


def none_of(field: ColumnElement, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Exclusions: rows whose field is empty (NULL, also through an outer join) pass."""
    return sa.or_(field.is_(None), sa.not_(condition))


def contact_search_key() -> ColumnElement:
    """Every searchable contact field joined, lower-cased (generated column
    ``search_key``, trigram-indexed): first/last name, email, title, city, state,
    country, company name."""
    return contacts.c.search_key


def company_search_key() -> ColumnElement:
    """Name, domain, address, city, state and country (``companies.search_key``)."""
    return companies.c.search_key


def list_key(column: ColumnElement) -> ColumnElement:
    """The elements of a list joined: the generated ``<name>_key`` column
    (``industries``, ``keywords``, ``departments``; trigram-indexed for the company lists)."""
    return column.table.c[f"{column.name}_key"]


def tech_key(column: ColumnElement) -> ColumnElement:
    """Technologies joined, lower-cased, ``_``, ``.`` and spaces folded."""
    return column.table.c[f"{column.name}_key"]


def fold_technology(value: str) -> str:
    """The search value folded like ``tech_key``: ``shopify_plus`` -> ``shopify plus``."""
    return _FOLD.sub(" ", value.lower()).strip() or value


def contains_via(key: ColumnElement, field: ColumnElement, value: str) -> ColumnElement[bool]:
    """``field`` contains ``value``, with the indexed ``key`` (which includes the
    field) as a prefilter the planner can use."""
    return sa.and_(contains(key, value), contains(field, value))


def contains_any_via(
    key: ColumnElement, field: ColumnElement, values: list[str]
) -> ColumnElement[bool]:
    """``field`` contains one of ``values`` (``contains_via`` each); past
    ``MAX_WORD_EXPRESSIONS`` values, ``contains_any`` on the field alone (one array,
    which no index serves anyway)."""
    if len(values) > MAX_WORD_EXPRESSIONS:
        return contains_any(field, values)
    return sa.or_(*(contains_via(key, field, value) for value in values))
