"""Filters answered through the dictionary of distinct contact field values
(``contact_field_values``, migration ``contacts_0007_value_dictionaries.sql``).

A million contacts hold some tens of thousands of distinct titles and a few
dozen countries. "title contains director" is cheap on the distinct titles
(a trigram index over ~31k short rows) and expensive on the contacts (long
posting lists, then a recheck of every candidate row on the heap). So the
filter is answered in two steps:

1. ``prepare`` (before any SQL of the request is built) reads the ids of the
   distinct values that match, one small query per filter value; ids found once
   are remembered and refreshed with the values added since (``matched_ids``);
2. ``build`` compares the contact's ``<field>_id`` with those ids, written
   into the statement as constants, so the planner knows how many rows they
   hold; a title with a country is read from one btree of
   ``(country_id, title_id)``, index-only.

An exclusion (``dictionary_exclusion_filter``: "the title contains none of
them") looks the ids up the same way and keeps the contacts whose id is not
among them: a condition on ``<field>_id`` alone, which the btree of the ids and
the default ordering's index (it carries the ids) answer without the heap.

A value matching more than ``MAX_IDS`` distinct values (e.g. ``"an"``) is
tested on the contacts as before (``fallback``): a long constant list costs
planning time and its bitmap is no cheaper than a scan of the walked index.
The ids and the rows are read in two statements, so a title first written
between them is missed by that one request, as if written a moment later.

A broad value is remembered (``BroadValues``, per database handle, bounded):
values are never removed from the dictionary, so a value that matched more
than ``MAX_IDS`` distinct values always will, and the next request goes
straight to the fallback. That matters for common terms: "manager" matches
tens of thousands of distinct titles, and reading the first 5,001 of them
costs a trigram bitmap over all of them (tens of ms at 250k distinct titles),
while the fallback walks the ordering's index and stops after a page (the
planner's statistics see that ~14% of contacts match, ``ILIKE`` on the
column's histogram). Only the plan depends on it: the fallback condition is
exact whatever the dictionary holds.
"""

import functools
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from contacts_api.core.filters import FilterSpec
from contacts_api.core.sql import Prepared
from contacts_api.plugins.contacts import gated_lookups, stored_terms
from contacts_api.plugins.contacts.matched_ids import GATE_SPAN, REFRESH_SPAN, Entry, matched_ids
from contacts_api.plugins.contacts.sqltext import SEPARATOR, has_trigram, pattern
from contacts_api.plugins.contacts.stored_terms import StoredTerm
from contacts_api.plugins.contacts.tables import ContactTables, contact_field_values

MAX_IDS = 5000
# A filter's values are looked up one statement each, before the request's own
# statement and outside its timeout. Beyond MAX_LOOKUPS values, or once the
# lookups of one filter took LOOKUP_SECONDS, the rest are *deferred*: looked up
# within the request's statement (``deferred_ids``: one trigram lookup per
# value, joined laterally), or tested on the contacts when they have no trigram
# (``has_trigram``: the dictionary's index cannot find them either). Without a
# bound, 900 comma-separated ``title_words`` cost 900 lookups: seconds of
# database time that no timeout stops. Only the plan depends on it.
MAX_LOOKUPS = 32
LOOKUP_SECONDS = 0.25

# What a distinct value must contain to match a filter value: every part, each
# anywhere, case-insensitively (``whole``: the value itself; ``words``: each word).
Parts = Callable[[str], list[str]]


def whole(value: str) -> list[str]:
    return [value]


def words(value: str) -> list[str]:
    return value.split()


@attrs.frozen
class Matched:
    """A filter value and the ids of the distinct field values it matches
    (``None``: more than ``MAX_IDS``, so it is tested on the contacts). A broad
    value keeps its ``field`` and ``parts``, for a statement over every match to
    find its stored term (``stored_terms.attach``: then ``stored``)."""

    value: str
    ids: tuple[int, ...] | None
    field: str = ""
    parts: tuple[str, ...] = ()
    stored: StoredTerm | None = None
    # not looked up (past the lookup bounds): its ids are read within the statement
    deferred: bool = False


@attrs.frozen
class AggregateTables(ContactTables):
    """The contact tables, for a statement that reads every matching contact (a
    count, an attribute's counts) instead of walking an ordering until a page is
    full. A broad value (more than ``MAX_IDS`` distinct values) is then a
    semi-join with the ids of the dictionary's matching values (``broad_ids``):
    one pass over the distinct values and a hash of their ids, which the other
    filters' index scans probe ("directors in France": the 48k French contacts'
    (country_id, title_id) index-only, against the ~35k titles holding
    "director"), instead of the text condition rechecked on the heap of every
    candidate contact (6,200 heap pages for that count)."""

    aggregate: bool = True


def _value_contains(like: object, indexed: bool) -> sa.ColumnElement[bool]:
    """The dictionary value contains the ``pattern()`` (or bind parameter) ``like``,
    case-insensitively: ``value_lower LIKE lower(like)``, which is what ILIKE
    computes (migration contacts_0009), without lower-casing the value on every
    test. Without a trigram (``indexed`` False) the condition is kept away from the
    index (see ``sqltext.matches_pattern``)."""
    value = contact_field_values.c.value_lower
    if not indexed:
        value = sa.func.coalesce(value, "")
    return value.like(sa.func.lower(like), escape="\\")


def _parts_condition(split: list[str]) -> sa.ColumnElement[bool]:
    return sa.and_(*(_value_contains(pattern(part), has_trigram(part)) for part in split))


def broad_ids(field: str, values: list[str], parts: Parts, known: list[int] = ()) -> sa.Select:
    """The ids of the values of ``field`` that contain every one of the ``parts``
    of one of ``values``, and the ``known`` ids (for a semi-join:
    ``<field>_id IN (...)``)."""
    matches = [_parts_condition(parts(value)) for value in values]
    if known:
        matches.append(contact_field_values.c.id == sa.any_(ids_literal(list(known))))
    return sa.select(contact_field_values.c.id).where(
        contact_field_values.c.field == field, sa.or_(*matches)
    )


def deferred_ids(field: str, values: list[str], parts: Parts) -> sa.Select:
    """The ids of the values of ``field`` that contain every one of the ``parts``
    of one of ``values`` (each with a part that has a trigram), for a semi-join.

    Each value is looked up on its own, through the trigram index by its first
    indexed part, in a lateral join over the values sent as two arrays. The same
    values as one OR (``broad_ids``) cost a recheck of every candidate against
    all of them: 7.5 s for 972 values at 265k titles, against 0.22 s."""
    leads, all_parts = [], []
    for value in values:
        split = parts(value)
        leads.append(pattern(next(part for part in split if has_trigram(part))))
        all_parts.append(SEPARATOR.join(pattern(part) for part in split))
    text_array = ARRAY(sa.Text)
    given = (
        sa.func.unnest(sa.literal(leads, text_array), sa.literal(all_parts, text_array))
        .table_valued("lead", "parts")
        .render_derived()
        .alias("given")
    )
    v = contact_field_values
    # LIKE's default escape character is the backslash pattern() escapes with
    matching = (
        sa.select(v.c.id)
        .where(
            v.c.field == field,
            v.c.value_lower.like(sa.func.lower(given.c.lead)),
            v.c.value_lower.like(
                sa.all_(sa.func.string_to_array(sa.func.lower(given.c.parts), SEPARATOR))
            ),
        )
        .lateral("matching")
    )
    return sa.select(matching.c.id).select_from(given).join(matching, sa.true())


def _lookup_statement(shape: tuple[bool, ...]) -> sa.Select:
    conditions = [
        _value_contains(sa.bindparam(f"p{i}", type_=sa.Text), indexed)
        for i, indexed in enumerate(shape)
    ]
    return (
        sa.select(contact_field_values.c.id)
        .where(contact_field_values.c.field == sa.bindparam("field"), *conditions)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


@functools.lru_cache(maxsize=64)
def _lookup(shape: tuple[bool, ...]) -> Prepared:
    """The ids of one field's values containing parts ``p0``, ``p1`` ...;
    ``shape`` says which parts have a trigram (``sqltext.has_trigram``)."""
    return Prepared(_lookup_statement(shape))


@functools.lru_cache(maxsize=64)
def _refresh(shape: tuple[bool, ...]) -> Prepared:
    """``_lookup`` among the values added after id ``after`` (``matched_ids``):
    a range of the primary key, the newest values only. The parts' conditions
    are kept away from the trigram index (``_value_contains(indexed=False)``)
    so the planner cannot prefer a bitmap over all matching values."""
    id_ = contact_field_values.c.id
    newest = _lookup_statement((False,) * len(shape)).where(
        id_ > sa.bindparam("after", type_=sa.Integer),
        id_ <= sa.bindparam("until", type_=sa.Integer),
    )
    # -1 when values were added past ``until``: more than REFRESH_SPAN values
    # since the horizon (writers kept it from settling), looked up afresh instead
    beyond = sa.select(sa.literal(-1)).where(id_ > sa.bindparam("until")).limit(1)
    return Prepared(sa.union_all(newest, beyond))


@functools.lru_cache(maxsize=1024)
def _nothing_added_since(
    field: str, split: tuple[str, ...], horizon: int
) -> sa.ColumnElement[bool]:
    """No value of ``field`` added after ``horizon`` contains every part of
    ``split``, nor lies past ``horizon + GATE_SPAN`` (``gated_lookups``).
    Kept away from the trigram index as ``_refresh``: a range of the newest ids.
    Built once per lookup and horizon: building it took more of the server's
    time than the round trip it saves (SQLAlchemy constructs; a construct reused
    keeps its cache key too)."""
    id_ = contact_field_values.c.id
    matching = sa.and_(
        contact_field_values.c.field == field,
        *(_value_contains(pattern(part), False) for part in split),
    )
    return ~sa.exists().where(id_ > horizon, sa.or_(id_ > horizon + GATE_SPAN, matching))


class BroadValues:
    """The ``(field, parts)`` found to match more than ``MAX_IDS`` distinct
    values, least recently used first, at most ``MAX_REMEMBERED``."""

    MAX_REMEMBERED = 1024

    def __init__(self):
        self._seen: OrderedDict[tuple, None] = OrderedDict()

    def __contains__(self, key: tuple) -> bool:
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        return False

    def add(self, key: tuple) -> None:
        self._seen[key] = None
        self._seen.move_to_end(key)
        while len(self._seen) > self.MAX_REMEMBERED:
            self._seen.popitem(last=False)


# per database handle: a test's fresh database (or a truncated one in a new
# app) starts with nothing remembered
_BROAD: "weakref.WeakKeyDictionary[object, BroadValues]" = weakref.WeakKeyDictionary()


def broad_memory(db, store: "weakref.WeakKeyDictionary[object, BroadValues]") -> BroadValues:
    """The ``BroadValues`` of ``db`` in ``store`` (one store per kind of lookup)."""
    try:
        return store.setdefault(db, BroadValues())
    except TypeError:  # a handle without weak references: remember nothing
        return BroadValues()


def _broad_values(db) -> BroadValues:
    return broad_memory(db, _BROAD)


async def match(db, field: str, value: str, parts: Parts = whole) -> Matched:
    """``value`` with the ids of the distinct values of ``field`` that contain
    each of its ``parts`` (``ids`` None: more than ``MAX_IDS``, known or found)."""
    split = parts(value)
    broad = _broad_values(db)
    key = (field, tuple(split))
    if key in broad:
        return Matched(value, None, field, tuple(split))
    shape = tuple(has_trigram(part) for part in split)
    parts_params = {f"p{i}": pattern(part) for i, part in enumerate(split)}
    memory = matched_ids(db)
    # settled before the lookup below starts: every id up to it is visible to it
    horizon = None if memory is None else await memory.settle(db)
    known = None if memory is None else memory.get(key)
    if known is not None and known.ids:
        # an empty page could not tell a failed gate from no match: ids needed
        fresh = functools.partial(_nothing_added_since, field, tuple(split), known.horizon)
        if gated_lookups.offer(memory, key, known, fresh):
            return Matched(value, known.ids)  # checked within the page's statement
    if known is None:
        lookup = _lookup(shape)
        params = lookup.params(field=field, limit=MAX_IDS + 1, **parts_params)
    else:
        lookup = _refresh(shape)
        until = known.horizon + REFRESH_SPAN
        params = lookup.params(
            field=field, limit=MAX_IDS + 1, after=known.horizon, until=until, **parts_params
        )
    found = {row[0] for row in await db.fetch_tuples(lookup.sql, params)}
    if -1 in found:  # too many values added since: as if nothing were remembered
        known = None
        lookup = _lookup(shape)
        params = lookup.params(field=field, limit=MAX_IDS + 1, **parts_params)
        found = {row[0] for row in await db.fetch_tuples(lookup.sql, params)}
    if known is not None:
        found.update(known.ids)
    if len(found) > MAX_IDS:
        broad.add(key)
        if memory is not None:
            memory.drop(key)
        return Matched(value, None, field, tuple(split))
    ids = tuple(sorted(found))
    if horizon is not None:
        memory.put(key, Entry(ids, max(horizon, known.horizon if known else horizon)))
    return Matched(value, ids)


async def match_all(db, field: str, values: list[str], parts: Parts = whole) -> list[Matched]:
    """``match`` for each of ``values``, within the lookup bounds (``MAX_LOOKUPS``,
    ``LOOKUP_SECONDS``). A value past them is ``deferred`` (looked up within the
    statement, ``deferred_ids``), or broad when no trigram index can find it."""
    started = time.monotonic()
    matched = []
    for value in values:
        if len(matched) >= MAX_LOOKUPS or time.monotonic() - started >= LOOKUP_SECONDS:
            split = tuple(parts(value))
            indexed = any(has_trigram(part) for part in split)
            matched.append(Matched(value, None, field, split, deferred=indexed))
        else:
            matched.append(await match(db, field, value, parts))
    return matched


@functools.lru_cache(maxsize=64)
def _array_text(ids: tuple[int, ...]) -> str:
    # the same remembered ids come back request after request (matched_ids)
    return "{" + ",".join(map(str, ids)) + "}"


def ids_literal(ids: list[int] | tuple[int, ...]) -> sa.ColumnElement:
    """``ids`` as one ``int[]`` constant, sent as the text of the array: psycopg2
    adapts a list element by element in Python (1.4 ms of CPU for the 1,100 ids
    of "marketing manager"), one string in C. The planner sees the same constant
    array either way (the cast of a literal is folded)."""
    return sa.cast(sa.literal(_array_text(tuple(ids))), ARRAY(sa.Integer))


def among_ids(column: sa.ColumnElement, ids: list[int] | tuple[int, ...]) -> sa.ColumnElement:
    """``column`` is one of ``ids``. One id is an equality: the planner knows
    that an index scan for ``country_id = 8`` returns the next column in order
    (a merge join, an ordered walk), not for ``country_id = ANY('{8}')``."""
    if len(ids) == 1:
        return column == ids[0]
    return column == sa.any_(ids_literal(ids))


def matched_condition(
    id_column: sa.ColumnElement,
    values: list[Matched],
    fallback: Callable[[list[str]], sa.ColumnElement[bool]],
    lookup_deferred: Callable[[list[str]], sa.Select],
    semi_join: Callable[[list[str], list[int]], sa.Select] | None = None,
) -> sa.ColumnElement[bool]:
    """The contacts matching one of ``values``: ``id_column`` among the ids,
    ``fallback(broad values)`` for the values that matched too many, and
    ``id_column IN lookup_deferred(deferred values)`` (``deferred_ids``) for the
    values not looked up.

    With ``semi_join(broad values, known ids)`` (``broad_ids``; a statement over
    every match) the broad values are ``id_column IN semi_join(...)`` instead: an
    IN at the top of the condition, which the planner turns into a semi-join
    (under an OR it would be a subplan, hashed only while it fits work_mem); when
    every broad value has a stored term (``stored_terms.attach``), the semi-join
    reads the stored ids instead of the dictionary's trigram index."""
    narrow = [m.ids for m in values if m.ids is not None]
    # one value's ids are sorted already: no set and sort of thousands of ids
    ids = narrow[0] if len(narrow) == 1 else tuple(sorted({i for n in narrow for i in n}))
    broad = [m for m in values if m.ids is None and not m.deferred]
    deferred = [m.value for m in values if m.deferred]
    parts = [id_column.in_(lookup_deferred(deferred))] if deferred else []
    if broad and semi_join is not None:
        terms = [m.stored for m in broad]
        if all(terms):
            parts.append(stored_terms.condition(id_column, terms, ids, among_ids))
        else:
            parts.append(id_column.in_(semi_join([m.value for m in broad], ids)))
        return sa.or_(*parts)
    if broad:
        parts.append(fallback([m.value for m in broad]))
    if ids:
        parts.append(among_ids(id_column, ids))
    return sa.or_(*parts) if parts else sa.false()


def aggregating(tables: object) -> bool:
    """Whether ``tables`` are ``AggregateTables`` (a statement over every match)."""
    return getattr(tables, "aggregate", False)


def dictionary_filter(
    name: str,
    field: str,
    parts: Parts,
    description: str,
    fallback: Callable[[list[str], object], sa.ColumnElement[bool]],
    aliases: tuple[str, ...] = (),
) -> FilterSpec:
    """A contact filter on ``field`` (which has a ``<field>_id`` column kept by
    the dictionary trigger): a contact passes when its field's value contains
    every one of the ``parts`` of one of the filter values.
    ``fallback(values, tables)`` tests the same on the contacts themselves."""

    async def prepare(db, values: list[str]) -> list[Matched]:
        return await match_all(db, field, values, parts)

    def semi_join(broad: list[str], known: list[int]) -> sa.Select:
        return broad_ids(field, broad, parts, known)

    def build(values: list[Matched], t) -> sa.ColumnElement[bool]:
        return matched_condition(
            t.contacts.c[f"{field}_id"],
            values,
            lambda broad: fallback(broad, t),
            lambda deferred: deferred_ids(field, deferred, parts),
            semi_join if aggregating(t) else None,
        )

    return FilterSpec(name, "text", build, description, aliases, prepare=prepare)


def dictionary_exclusion_filter(
    name: str,
    field: str,
    description: str,
    fallback: Callable[[list[str], object], sa.ColumnElement[bool]],
) -> FilterSpec:
    """A contact filter on ``field``: a contact passes when its field's value
    contains none of the filter values, or when it has no value at all (the
    trigger keeps ``<field>_id`` NULL exactly when the field is NULL).
    ``fallback(values, tables)`` is "contains one of" on the contacts themselves."""

    async def prepare(db, values: list[str]) -> list[Matched]:
        return await match_all(db, field, values)

    def build(values: list[Matched], t) -> sa.ColumnElement[bool]:
        id_column = t.contacts.c[f"{field}_id"]
        excluded = matched_condition(
            id_column,
            values,
            lambda broad: fallback(broad, t),
            lambda deferred: deferred_ids(field, deferred, whole),
        )
        return sa.or_(id_column.is_(None), sa.not_(excluded))

    return FilterSpec(name, "text", build, description, prepare=prepare)
