"""The dictionary values a broad filter term matches, stored in the database for
the statements that read every matching contact (counts, an attribute's counts).

A term matching more than ``dictionaries.MAX_IDS`` distinct values ("director":
~35k of 265k titles at 1M contacts) is too many ids to send as constants, so a
count used to find them on every request with the dictionary's trigram index: a
bitmap over common trigrams and a recheck of every candidate value, ~25 ms of a
31 ms count. Stored once (``contact_field_term_values``, migration
``contacts_0012_stored_terms.sql``), they are one index-only range sorted by value
id, which merge-joins with the contacts' ``(country_id, title_id)`` index: 7 ms for
the same count. Lists do not use them: a page walks its ordering's index and
tests the text on the rows it meets (``dictionaries``, "broad values").

A stored term is complete up to its *horizon*: every dictionary value with an id
at or below it that matches is stored, written in the transaction that sets the
horizon. The horizon is a settled maximum of the dictionary's ids
(``matched_ids.MatchedIds.settle``: no value below it can still appear). Values
added after it are read by id range on each request (``StoredTerm.newest``) and
written into the term, with a new horizon, when a later one is settled. A request
that cannot store (a read-only role or standby, more than ``MAX_TERMS`` terms or
``MAX_STORED_VALUES`` values stored, the dictionary emptied under it) uses the
lookup through the trigram index as before: only the plan depends on this module.

A full store makes room: the transaction storing a new term first removes the
terms unused for an hour (``IDLE_SECONDS``, migration ``contacts_0014``). A
request reads a term's id, then uses it in its next statement, where a removed
term would count nothing; so a request marks the term used before using it
(when its mark is ten minutes old or more), and a term can only be removed from
under a request stalled for fifty minutes between the two. Emptying the
dictionary empties the terms too (their horizon references a dictionary id).
"""

from __future__ import annotations

import functools
import logging
from typing import NamedTuple

import attrs
import psycopg2
import sqlalchemy as sa

from contacts_api.core.filters import AppliedFilters
from contacts_api.plugins.contacts import matched_ids
from contacts_api.plugins.contacts.sqltext import has_trigram, pattern
from contacts_api.plugins.contacts.tables import contact_field_term_values

log = logging.getLogger("contacts_api.contacts")

MAX_TERMS = 1000
MAX_STORED_VALUES = 2_000_000
# A term is marked used when a request reads it and its mark is older than
# TOUCH_SECONDS; a full store removes terms unused for IDLE_SECONDS (at most
# PRUNE_TERMS at a time). A request uses a term within its statement timeout of
# reading (and marking) it, so a term in use is never removed: that would take
# a request stalled for IDLE_SECONDS - TOUCH_SECONDS (50 minutes) in between.
TOUCH_SECONDS = 600
IDLE_SECONDS = 3600
PRUNE_TERMS = 100
# A request stores at most NEW_TERMS new terms (~0.3 s each at 265k titles, its
# statement waits for them) and reads the stored terms of a filter only when it
# has at most TERMS_PER_FILTER broad values (one lookup each): the others are
# looked up within its statement, as without stored terms, and the next
# requests store them. Else one count of 900 broad ``title_words`` would spend
# minutes storing (and fill the store).
NEW_TERMS = 2
TERMS_PER_FILTER = 8
# the values added after a term's horizon that a request reads by id range;
# beyond (no horizon settled for long), the term is not used
NEWEST_SPAN = matched_ids.REFRESH_SPAN


class _Found(NamedTuple):
    """A stored term as the lookup reads it."""

    id: int
    horizon: int
    newest: list[int]  # matching values added after the horizon
    beyond: bool  # more values added since than a request reads (NEWEST_SPAN)
    unmarked: bool  # not marked used for TOUCH_SECONDS


@attrs.frozen
class StoredTerm:
    """A stored term (``id``), and the matching values added after its horizon."""

    id: int
    newest: tuple[int, ...] = ()


def _parts(count: int, indexed: tuple[bool, ...] = ()) -> str:
    """Parts ``p0``, ``p1`` ... each contained in the dictionary value ``v``; a part
    not ``indexed`` is kept away from the trigram index (see ``sqltext.matches_pattern``)."""
    conditions = []
    for i in range(count):
        use_index = i < len(indexed) and indexed[i]
        value = "v.value_lower" if use_index else "coalesce(v.value_lower, '')"
        conditions.append(f"{value} LIKE lower(%(p{i})s) ESCAPE '\\'")
    return " AND ".join(conditions)


# A term's key: its parts lower-cased by PostgreSQL (as the values are matched),
# without repeats, sorted. "Director", "DIRECTOR" and the words "director
# director" are one term; else one client could fill the store with case variants.
_KEY = "ARRAY(SELECT DISTINCT lower(p) FROM unnest(%(parts)s::text[]) AS p ORDER BY 1)"


@functools.lru_cache(maxsize=16)
def _lookup_sql(count: int) -> str:
    # the newest values: a range of the dictionary's primary key after the horizon
    return f"""
SELECT t.id, t.horizon,
    ARRAY(SELECT v.id FROM contact_field_values v
          WHERE v.field = t.field AND v.id > t.horizon AND v.id <= t.horizon + %(span)s
          AND {_parts(count)} ORDER BY v.id),
    (SELECT max(id) FROM contact_field_values) > t.horizon + %(span)s,
    t.used_at < now() - %(touch)s * interval '1 second'
FROM contact_field_terms t WHERE t.field = %(field)s AND t.parts = {_KEY}"""


# A full store first removes (in the transaction that stores the new term) the
# terms unused for IDLE_SECONDS, least recently used first.
_PRUNE = """
DELETE FROM contact_field_terms WHERE id IN (
    SELECT id FROM contact_field_terms WHERE used_at < now() - %(idle)s * interval '1 second'
    ORDER BY used_at LIMIT %(prune)s)
AND (SELECT count(*) >= %(max_terms)s OR coalesce(sum(size), 0) >= %(max_values)s
     FROM contact_field_terms)"""
_TOUCH = "UPDATE contact_field_terms SET used_at = now() WHERE id = %(term)s"


_CREATE = f"""
INSERT INTO contact_field_terms (field, parts, horizon, size)
SELECT %(field)s, {_KEY}, %(until)s, 0
WHERE (SELECT count(*) < %(max_terms)s AND coalesce(sum(size), 0) < %(max_values)s
       FROM contact_field_terms)
ON CONFLICT (field, parts) DO NOTHING RETURNING id"""


@functools.lru_cache(maxsize=32)
def _fill_sql(indexed: tuple[bool, ...]) -> str:
    """The matching values in ``(after, until]`` into term ``term``; ``indexed``
    empty: by id range (a few new values), else through the trigram index."""
    return f"""
INSERT INTO contact_field_term_values (term_id, value_id)
SELECT %(term)s, v.id FROM contact_field_values v
WHERE v.field = %(field)s AND v.id > %(after)s AND v.id <= %(until)s
    AND {_parts(len(indexed), indexed)}
ON CONFLICT DO NOTHING"""


_SIZE = "UPDATE contact_field_terms SET size = %(size)s WHERE id = %(term)s"
_VACUUM = "VACUUM (ANALYZE) contact_field_term_values"
_GROW = """
UPDATE contact_field_terms SET horizon = %(until)s, size = size + %(added)s
WHERE id = %(term)s AND horizon < %(until)s"""

# Longer parts (title_words of hundreds of words) are not stored: a btree entry
# of (field, parts) holds about 2.7 kB, and such terms are too rare to pay for.
MAX_PARTS_CHARS = 1000

# the database refused to store: the request reads through the trigram index
_CANNOT_STORE = (
    psycopg2.errors.ProgramLimitExceeded,  # an index entry too large, despite the cap
    psycopg2.errors.InsufficientPrivilege,
    psycopg2.errors.ReadOnlySqlTransaction,
    psycopg2.errors.ForeignKeyViolation,  # the horizon is no id: the dictionary was emptied
    psycopg2.errors.UndefinedTable,  # contacts_0012 not applied
    psycopg2.extensions.TransactionRollbackError,  # a deadlock with another request storing
)


def _params(field: str, parts: tuple[str, ...]) -> dict:
    return {
        "field": field,
        "parts": list(parts),
        "span": NEWEST_SPAN,
        "touch": TOUCH_SECONDS,
        **{f"p{i}": pattern(part) for i, part in enumerate(parts)},
    }


async def _create(db, params: dict, parts: tuple[str, ...], until: int) -> None:
    async with db.transaction() as tx:
        limits = {"max_terms": MAX_TERMS, "max_values": MAX_STORED_VALUES}
        await tx.execute(_PRUNE, {**limits, "idle": IDLE_SECONDS, "prune": PRUNE_TERMS})
        rows = await tx.fetch_tuples(_CREATE, {**params, **limits, "until": until})
        if not rows:  # stored meanwhile by another request, or the store is full
            return
        term = rows[0][0]
        fill = _fill_sql(tuple(has_trigram(part) for part in parts))
        added = await tx.execute(fill, {**params, "term": term, "after": 0, "until": until})
        await tx.execute(_SIZE, {"term": term, "size": added})
    # Statistics that show the planner the new term's size (until autovacuum's
    # analyze, it would guess a few hundred values and probe the contacts once per
    # value), and a visibility map that lets it read the values index-only (else
    # it hashes them from the heap: 13-15 ms for that count instead of 7).
    await db.execute(_VACUUM)


async def _grow(db, params: dict, parts: tuple[str, ...], term: int, after: int, until: int):
    async with db.transaction() as tx:
        fill = _fill_sql((False,) * len(parts))
        added = await tx.execute(fill, {**params, "term": term, "after": after, "until": until})
        await tx.execute(_GROW, {"term": term, "until": until, "added": added})


async def _mark_used(db, term: int) -> bool:
    """Mark ``term`` used now; False when it was removed meanwhile."""
    try:
        return await db.execute(_TOUCH, {"term": term}) == 1
    except _CANNOT_STORE:  # a read-only database removes nothing either
        return True


@attrs.define
class Budget:
    """What one request may still store."""

    new_terms: int = NEW_TERMS


async def stored_term(
    db, field: str, parts: tuple[str, ...], budget: Budget | None = None
) -> StoredTerm | None:
    """The stored term of the values of ``field`` containing every one of
    ``parts``: stored now if it was not (and the request's ``budget`` allows),
    brought up to date if values were added since; None when it is not stored
    (see the module docstring)."""
    budget = Budget() if budget is None else budget
    if sum(map(len, parts)) > MAX_PARTS_CHARS:
        return None
    params = _params(field, parts)
    memory = matched_ids.matched_ids(db)
    for attempt in range(2):
        rows = await db.fetch_tuples(_lookup_sql(len(parts)), params)
        found = _Found(*rows[0]) if rows else None
        if found is not None and found.unmarked and not await _mark_used(db, found.id):
            found = None  # removed since the lookup: stored afresh
        if found is not None and not found.newest and not found.beyond:
            return StoredTerm(found.id)
        settled = None if memory is None else await memory.settle(db)
        if attempt == 1 or not settled:
            break
        try:
            if found is None:
                if budget.new_terms <= 0:
                    break
                budget.new_terms -= 1
                await _create(db, params, parts, settled)
            elif settled > found.horizon:
                await _grow(db, params, parts, found.id, found.horizon, settled)
            else:
                break  # the newest values are not settled yet
        except _CANNOT_STORE as error:
            log.debug("term not stored: %s", error.__class__.__name__)
            break
    if found is None or found.beyond:
        return None
    return StoredTerm(found.id, tuple(found.newest))


def condition(
    id_column: sa.ColumnElement, terms: list[StoredTerm], ids: tuple[int, ...], among
) -> sa.ColumnElement[bool]:
    """``id_column`` among the values of ``terms`` or among ``ids``
    (``among(id_column, ids)``: ``dictionaries.among_ids``): a semi-join with the
    stored values, which the planner merges with an index holding ``id_column``
    in order ("directors in France": the (country_id, title_id) index)."""
    values = contact_field_term_values
    term_ids = [term.id for term in terms]
    stored = sa.select(values.c.value_id).where(
        values.c.term_id == term_ids[0] if len(term_ids) == 1 else values.c.term_id.in_(term_ids)
    )
    extra = sorted({*ids, *(i for term in terms for i in term.newest)})
    if not extra:
        return id_column.in_(stored)
    return sa.or_(id_column.in_(stored), among(id_column, extra))


async def attach(db, applied: AppliedFilters) -> AppliedFilters:
    """``applied`` (prepared) with a stored term on each broad dictionary value,
    for a statement over every matching contact (``AGGREGATE_TABLES``)."""
    # dictionaries imports this module (its Matched holds a StoredTerm)
    from contacts_api.plugins.contacts.dictionaries import Matched

    budget = Budget()
    items = []
    for spec, values in applied.items:
        broad = sum(isinstance(v, Matched) and v.ids is None and not v.deferred for v in values)
        if 0 < broad <= TERMS_PER_FILTER:
            values = tuple([await attach_one(db, v, budget) for v in values])
        items.append((spec, values))
    return attrs.evolve(applied, items=tuple(items))


async def attach_one(db, value, budget: Budget | None = None):
    """``value`` (a ``dictionaries.Matched``) with its stored term, when broad."""
    if value.ids is not None or not value.parts or value.deferred:
        return value
    return attrs.evolve(value, stored=await stored_term(db, value.field, value.parts, budget))
