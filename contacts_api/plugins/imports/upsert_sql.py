"""The batch writer's SQL: set-based statements over ``unnest`` of array literals.

Every statement reads its rows from ``unnest(%s::text[], ...)``, one PostgreSQL array
literal per column (built by :func:`literal`). The batch writer (``upsert``) has already
reduced each statement's input to one row per target row: a statement never meets the
same company, contact or metadata row twice (PostgreSQL refuses that with
``CardinalityViolation``), and owners are given by uuid.

An empty value never erases a stored one (``COALESCE``; a list replaces only when
non-empty), and an update that would change nothing is skipped.

The statements writing contacts also fill the columns the per-row BEFORE triggers of
contacts fill for other writers (``FILLED_COLUMNS``: the copy of the company's name and
sizes, the dictionary ids of the title and country), with one join per statement, and
run with those triggers skipped (``FILL_DONE_ON``, migration ``contacts_0009``). The
values are exactly the triggers': the copy of the contact's company, re-read whenever a
row is written; a dictionary id computed again only when the value changes. The new
dictionary values are added first, by ``INSERT_FIELD_VALUES``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SEP = "\x1f"  # joins list items into one text cell; split again in SQL
_NULL = "\x1dNULL\x1d"  # stands for None while a literal is built
_ITEM = "\x1e"  # separates the items while a literal is built

# (column, kind): kind is "text", "int" (integer), "big" (bigint), "list" (text[], sent
# as text joined by SEP) or "uuid".
COMPANY_COLUMNS = (
    ("name", "text"),
    ("employees_count", "int"),
    ("industries", "list"),
    ("keywords", "list"),
    ("technologies", "list"),
    ("annual_revenue", "big"),
    ("total_funding", "big"),
    ("address", "text"),
    ("city", "text"),
    ("state", "text"),
    ("country", "text"),
)
COMPANY_META_COLUMNS = (
    ("website", "text"),
    ("linkedin_url", "text"),
    ("phone_number", "text"),
    ("company_name_for_emails", "text"),
    ("latest_funding", "text"),
    ("latest_funding_amount", "big"),
    ("last_raised_at", "text"),
)
# What is written to contacts (the company already resolved to its uuid).
CONTACT_COLUMNS = (
    ("first_name", "text"),
    ("last_name", "text"),
    ("title", "text"),
    ("seniority", "text"),
    ("departments", "list"),
    ("email_status", "text"),
    ("mobile_phone", "text"),
    ("city", "text"),
    ("state", "text"),
    ("country", "text"),
    ("linkedin_url", "text"),
    ("company_uuid", "uuid"),
)
CONTACT_META_COLUMNS = (
    ("work_direct_phone", "text"),
    ("home_phone", "text"),
    ("other_phone", "text"),
    ("twitter_url", "text"),
    ("facebook_url", "text"),
    ("stage", "text"),
)
# The triggers' columns, written by the import itself (see the module docstring).
FILLED_COLUMNS = (
    "company_name",
    "company_employees",
    "company_annual_revenue",
    "company_total_funding",
    "title_id",
    "country_id",
)
# The transaction-local setting whose value 'on' skips the BEFORE triggers of contacts
# (their WHEN condition), set only around the writer's own statements: set back to off
# once the batch is written, and undone with the batch's savepoint when it fails.
FILL_DONE_ON = "SET LOCAL contacts.fill_done = 'on'"
FILL_DONE_OFF = "SET LOCAL contacts.fill_done = 'off'"
# Sent before the batch's first statement. A batch's statements are cheap (index probes)
# but their cost estimates grow with the batch: FIND_COMPANIES of 2,000 rows is
# estimated above jit_above_cost, and compiling it took longer than running it (about
# 10 ms a batch: 5 us/row of backend CPU for a re-import).
JIT_OFF = "SET LOCAL jit = off"
# The filled columns of source rows ``s`` (company_uuid, title, country), from the
# joins of _FILL_JOINS.
_FILL_VALUES = """fco.name, fco.employees_count, fco.annual_revenue, fco.total_funding,
    fti.id, fci.id"""
# One index probe per source row each (``OFFSET 0`` lateral subqueries): plain joins
# let the planner hash all the companies and all the titles of the dictionary for
# every batch, however few rows it writes. The company is read FOR SHARE, as the
# trigger does (contacts_0011): it waits for a concurrent import's uncommitted rename
# of the company and reads the new name, where a plain read kept the old one for
# good (the rename's refresh of the copies cannot see this uncommitted contact).
_FILL_JOINS = """
    LEFT JOIN LATERAL (
        SELECT name, employees_count, annual_revenue, total_funding FROM companies
        WHERE uuid = s.company_uuid OFFSET 0 FOR SHARE) fco ON true
    LEFT JOIN LATERAL (
        SELECT id FROM contact_field_values WHERE field = 'title' AND value = s.title
        OFFSET 0) fti ON true
    LEFT JOIN LATERAL (
        SELECT id FROM contact_field_values WHERE field = 'country' AND value = s.country
        OFFSET 0) fci ON true"""


def _fill_sets(new: str, old: str) -> str:
    """The SET list of the filled columns when row ``old`` is updated with source row
    ``new`` (its own filled columns given): the triggers' rules. The copy follows the
    company the row keeps (the stored one when the source names none, whose copy is
    the stored copy); an id changes only with its value."""
    copies = ", ".join(
        f"{name} = CASE WHEN {new}.company_uuid IS NULL THEN {old}.{name} ELSE {new}.{name} END"
        for name in FILLED_COLUMNS[:4]
    )
    ids = ", ".join(
        f"{name}_id = CASE WHEN {new}.{name} IS NULL OR {new}.{name} = {old}.{name} "
        f"THEN {old}.{name}_id ELSE {new}.{name}_id END"
        for name in ("title", "country")
    )
    return f"{copies}, {ids}"


# The dictionary values (contacts_0007) of the titles and countries a statement will
# write, added when new: before the contacts statements, in one sorted statement (two
# imports add shared values in one order, so they wait for each other, never
# deadlock; titles before countries, the order of the trigger of an API write, which
# adds its contact's title then its country: neither waits for the other holding a
# value the other needs); NOT EXISTS first, as the trigger did, so that values already known do not
# take an id from the sequence (ON CONFLICT alone draws one per proposed row); ``OFFSET
# 0`` keeps it one index probe per value (as an anti join the planner hashed the whole
# dictionary, 26k titles at 50k contacts, for every batch). A value
# a concurrent transaction adds meanwhile: ON CONFLICT waits for it, and the contacts
# statement (a new snapshot) sees it. Each distinct value is probed once (a batch
# repeats its countries and many titles).
INSERT_FIELD_VALUES = """
INSERT INTO contact_field_values (field, value)
SELECT f, v FROM (
    SELECT DISTINCT 'title' AS f, v FROM unnest(%s::text[]) AS t(v) WHERE v IS NOT NULL
    UNION ALL
    SELECT DISTINCT 'country', v FROM unnest(%s::text[]) AS t(v) WHERE v IS NOT NULL
) new
WHERE NOT EXISTS (
    SELECT 1 FROM contact_field_values d WHERE d.field = new.f AND d.value = new.v OFFSET 0)
ORDER BY f DESC, v
ON CONFLICT (field, value) DO NOTHING
"""

_CAST = {"text": "text", "int": "integer", "big": "bigint", "list": "text", "uuid": "uuid"}


def _quote(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(values: Sequence[Any], text: bool = False) -> str:
    """A PostgreSQL array literal (``{"a",NULL,"b"}``): one string for the server's fast
    array parser, instead of psycopg2's ``ARRAY[...]`` of one constant per value.

    ``text``: every value is a str or None, so it is escaped on the joined string (a
    few C-speed passes) rather than value by value.
    """
    if not values:
        return "{}"
    if not text:
        return "{" + ",".join(map(_quote, values)) + "}"
    joined = _ITEM.join([_NULL if value is None else value for value in values])
    if joined.count(_ITEM) != len(values) - 1 or (
        "\x1d" in joined and joined.count("\x1d") != 2 * values.count(None)
    ):
        return "{" + ",".join(map(_quote, values)) + "}"  # a cell holds our markers
    if "\\" in joined:
        joined = joined.replace("\\", "\\\\")
    if '"' in joined:
        joined = joined.replace('"', '\\"')
    joined = '{"' + joined.replace(_ITEM, '","') + '"}'
    return joined.replace(f'"{_NULL}"', "NULL") if _NULL in joined else joined


def arrays(records: list[dict], columns: tuple) -> list[str]:
    """One array literal per column of ``records``."""
    if not records:
        return ["{}"] * len(columns)
    names = [name for name, _ in columns]
    # Row by row in C (map of dict.get), then transposed by zip: one Python step per
    # record instead of one per record and column.
    by_column = zip(*[list(map(record.get, names)) for record in records], strict=True)
    out = []
    for (_, kind), values in zip(columns, by_column, strict=True):
        if kind == "list":
            values = [None if items is None else SEP.join(items) for items in values]
        out.append(literal(values, text=kind in ("text", "list", "uuid")))
    return out


def _names(columns: tuple) -> str:
    return ", ".join(name for name, _ in columns)


def _source(columns: tuple) -> str:
    """The rows: ``unnest`` of one array parameter per column, as ``s``."""
    casts = ", ".join(f"%s::{_CAST[kind]}[]" for _, kind in columns)
    return f"(SELECT * FROM unnest({casts}) AS src({_names(columns)})) AS s"


def _inserts(columns: tuple) -> str:
    return ", ".join(
        f"COALESCE(string_to_array(s.{name}, E'\\x1f'), '{{}}')" if kind == "list" else f"s.{name}"
        for name, kind in columns
    )


def _merge(columns: tuple, new: str, old: str, *, touch: bool, excluded: bool) -> tuple:
    """``("col = merged, ...", "(old cols) IS DISTINCT FROM (merged)")``. ``excluded``:
    the new values are ON CONFLICT's EXCLUDED row (lists already arrays)."""
    merged = []
    for name, kind in columns:
        if kind != "list":
            merged.append(f"COALESCE({new}.{name}, {old}.{name})")
        elif excluded:
            merged.append(
                f"CASE WHEN cardinality({new}.{name}) > 0 THEN {new}.{name} ELSE {old}.{name} END"
            )
        else:
            merged.append(
                f"CASE WHEN {new}.{name} IS NULL THEN {old}.{name} "
                f"ELSE string_to_array({new}.{name}, E'\\x1f') END"
            )
    names = [name for name, _ in columns]
    sets = ", ".join(f"{n} = {v}" for n, v in zip(names, merged, strict=True))
    if touch:
        sets += ", updated_at = now()"
    olds = ", ".join(f"{old}.{n}" for n in names)
    return sets, f"({olds}) IS DISTINCT FROM ({', '.join(merged)})"


def upsert_by_key(table: str, key: str, columns: tuple, fill: bool = False) -> str:
    """Upsert on the unique ``key``; answer (key, uuid, inserted) for every source row.

    Rows found unchanged are left out of the INSERT: ON CONFLICT would still lock them
    (a heap write each) and fire the table's BEFORE INSERT triggers, which made a
    re-import (all rows unchanged) cost nearly as much as a fresh one.

    The stored rows are found by one probe of the key's index per source row (an
    ``OFFSET 0`` lateral subquery, as FIND_COMPANIES): a plain join let the planner
    hash the whole table instead, a sequential scan of contacts per batch (a re-import
    of 50k rows into 50k contacts: 34 us/row of backend CPU, 8.7 with the probes).

    ``fill``: also write FILLED_COLUMNS (contacts), joined for the changed rows only.
    """
    sets, changed = _merge(columns, "EXCLUDED", "c", touch=True, excluded=True)
    _, dirty = _merge(columns, "s", "c", touch=False, excluded=False)
    names, values, joins = _names(columns), _inserts(columns), ""
    if fill:
        names += ", " + ", ".join(FILLED_COLUMNS)
        values += ", " + _FILL_VALUES
        joins = _FILL_JOINS
        sets += ", " + _fill_sets("EXCLUDED", "c")
    return f"""
WITH cur AS (
    SELECT s.*, c.uuid AS cur_uuid, (c.uuid IS NULL OR {dirty}) AS dirty
    FROM {_source((("k", "text"), *columns))}
    LEFT JOIN LATERAL (SELECT * FROM {table} WHERE {key} = s.k OFFSET 0) c ON true
),
up AS (
    INSERT INTO {table} AS c ({key}, {names})
    SELECT s.k, {values} FROM cur s {joins} WHERE s.dirty ORDER BY s.k
    ON CONFLICT ({key}) WHERE {key} IS NOT NULL DO UPDATE
    SET {sets} WHERE {changed}
    RETURNING c.{key}, c.uuid, (c.xmax = 0) AS inserted
)
SELECT cur.k, COALESCE(up.uuid, cur.cur_uuid)::text, COALESCE(up.inserted, false)
FROM cur LEFT JOIN up ON up.{key} = cur.k
"""


def upsert_matched(
    table: str, match: str, columns: tuple, source: tuple, fill: bool = False
) -> str:
    """Update the rows ``match`` finds (the oldest when several), insert the others with
    the uuid given in ``s.id``; answer (k, uuid, inserted) for every source row.
    ``fill``: also write FILLED_COLUMNS (contacts)."""
    sets, changed = _merge(columns, "s", "c", touch=True, excluded=False)
    rows = f"SELECT * FROM {_source((('k', 'int'), ('id', 'uuid'), *source))}"
    names, values = _names(columns), _inserts(columns)
    if fill:
        filled = ", ".join(
            f"{value} AS {name}"
            for name, value in zip(FILLED_COLUMNS, _FILL_VALUES.split(","), strict=True)
        )
        rows = f"SELECT s.*, {filled} FROM {_source((('k', 'int'), ('id', 'uuid'), *source))}"
        rows += _FILL_JOINS
        names += ", " + ", ".join(FILLED_COLUMNS)
        values += ", " + ", ".join(f"s.{name}" for name in FILLED_COLUMNS)
        sets += ", " + _fill_sets("s", "c")
    return f"""
WITH s AS ({rows}),
found AS (
    SELECT DISTINCT ON (k) k, uuid FROM ({match}) matches ORDER BY k, rank, created_at, uuid
),
upd AS (
    UPDATE {table} c SET {sets} FROM s, found
    WHERE c.uuid = found.uuid AND found.k = s.k AND {changed}
    RETURNING c.uuid
),
ins AS (
    INSERT INTO {table} (uuid, {names})
    SELECT s.id, {values} FROM s
    WHERE NOT EXISTS (SELECT 1 FROM found WHERE found.k = s.k) ORDER BY s.k
    RETURNING uuid
)
SELECT s.k, COALESCE(found.uuid, s.id)::text, found.uuid IS NULL FROM s
LEFT JOIN found ON found.k = s.k
"""


def upsert_meta(table: str, key: str, columns: tuple, returning: bool = False) -> str:
    """Metadata rows by owner uuid (one source row per owner). ``returning``: answer
    the owners whose row it inserted or changed.

    A source row whose stored row it would not change is left out before the INSERT
    (one probe of the key per row), as in :func:`upsert_by_key`: ON CONFLICT would
    lock the stored row anyway, a heap write for every row of a re-import."""
    sets, changed = _merge(columns, "EXCLUDED", "c", touch=False, excluded=True)
    _, dirty = _merge(columns, "s", "o", touch=False, excluded=False)
    return f"""
INSERT INTO {table} AS c ({key}, {_names(columns)})
SELECT s.k, {_inserts(columns)} FROM {_source((("k", "uuid"), *columns))}
WHERE NOT EXISTS (SELECT 1 FROM {table} o WHERE o.{key} = s.k AND NOT ({dirty}) OFFSET 0)
ORDER BY s.k
ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE {changed}
{f"RETURNING c.{key}::text" if returning else ""}
"""


# The stored companies a batch may resolve to: by domain, or by lower-case name (the
# batch's names), one probe of companies_domain_key / companies_lower_name_idx per key.
# Written as ``OFFSET 0`` lateral subqueries so that the planner keeps the probes: with
# ``domain = ANY(...) OR lower(name) = ANY(...)`` and a batch's ~1,600 keys of each kind
# it chose a sequential scan of the whole table (146 ms a batch at 100k companies, the
# table mostly out of shared_buffers), against a few ms of probes.
FIND_COMPANIES = """
SELECT f.* FROM unnest(%s::text[]) AS d(v), LATERAL (
    SELECT uuid::text, domain, lower(name), created_at FROM companies
    WHERE domain = d.v OFFSET 0) f
UNION
SELECT f.* FROM unnest(%s::text[]) AS n(v), LATERAL (
    SELECT uuid::text, domain, lower(name), created_at FROM companies
    WHERE lower(name) = n.v OFFSET 0) f"""

_COMPANY_ROWS = (("uuid", "uuid"), ("domain", "text"), *COMPANY_COLUMNS)
# The batch's new companies, with the uuids the writer gave them (in creation order).
INSERT_COMPANIES = f"""
INSERT INTO companies (uuid, domain, {_names(COMPANY_COLUMNS)})
SELECT s.uuid, s.domain, {_inserts(COMPANY_COLUMNS)} FROM {_source(_COMPANY_ROWS)}"""


def _update_companies() -> str:
    sets, changed = _merge(COMPANY_COLUMNS, "s", "c", touch=True, excluded=False)
    _, dirty = _merge(COMPANY_COLUMNS, "s", "o", touch=False, excluded=False)
    # ``s.domain``: the domain a company without one takes from the batch. The rows
    # that would change their company are found first, one probe of companies_pkey
    # each (``OFFSET 0``), so that a batch changing few or none (a re-import) does not
    # join the whole companies table (the planner hashed it for every batch); the
    # UPDATE checks its condition again on the row it locks.
    return f"""
WITH changing AS MATERIALIZED (
    SELECT s.* FROM {_source(_COMPANY_ROWS)}
    WHERE EXISTS (
        SELECT 1 FROM companies o WHERE o.uuid = s.uuid
        AND ((o.domain IS NULL AND s.domain IS NOT NULL) OR {dirty}) OFFSET 0)
)
UPDATE companies c SET domain = COALESCE(c.domain, s.domain), {sets}
FROM changing s
WHERE c.uuid = s.uuid AND ((c.domain IS NULL AND s.domain IS NOT NULL) OR {changed})
RETURNING c.uuid::text"""


# The stored companies the batch resolved to, each once, with its merged values;
# answers the uuids of those it changed.
UPDATE_COMPANIES = _update_companies()

UPSERT_EMAIL_CONTACTS = upsert_by_key("contacts", "email", CONTACT_COLUMNS, fill=True)
FIND_EMAIL_CONTACTS = "SELECT email, uuid::text FROM contacts WHERE email = ANY(%s::text[])"

# Contacts without an email: the contact without email of the same lower-case names and
# company (imports_contacts_without_email_idx), or of the same names without company.
_NAME_MATCH = (
    "c.email IS NULL AND lower(coalesce(c.first_name, '')) = s.lfn"
    " AND lower(coalesce(c.last_name, '')) = s.lln"
)
UPSERT_NAMED_CONTACTS = upsert_matched(
    "contacts",
    f"""
    SELECT s.k, c.uuid, c.created_at, 0 AS rank FROM s JOIN contacts c
        ON c.company_uuid = s.company_uuid AND {_NAME_MATCH}
    UNION ALL
    SELECT s.k, c.uuid, c.created_at, 0 AS rank FROM s JOIN contacts c
        ON s.company_uuid IS NULL AND c.company_uuid IS NULL AND {_NAME_MATCH}""",
    CONTACT_COLUMNS,
    (("lfn", "text"), ("lln", "text"), *CONTACT_COLUMNS),
    fill=True,
)

UPSERT_COMPANY_META = upsert_meta(
    "company_metadata", "company_uuid", COMPANY_META_COLUMNS, returning=True
)
UPSERT_CONTACT_META = upsert_meta("contact_metadata", "contact_uuid", CONTACT_META_COLUMNS)

# With parallel writers (pipeline.py): the stored companies a batch's contacts will
# name, locked FOR SHARE in uuid order once its companies are written, so that a
# later batch changing one waits for this batch's end (the contacts statements lock
# them so too, later; a transaction holding the lock already takes it at no cost).
SHARE_COMPANIES = """
SELECT count(*) FROM (
    SELECT 1 FROM companies WHERE uuid = ANY(%s::uuid[]) ORDER BY uuid FOR SHARE) locked
"""

LOCK_KEYS = """
SELECT count(pg_advisory_xact_lock(%s, hashtext(k)))
FROM unnest(%s::text[]) WITH ORDINALITY AS t(k, n)
"""

INSERT_ERRORS = """
INSERT INTO import_errors (job_id, row_number, message, "row")
SELECT %s, n, m, r::jsonb FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS t(n, m, r)
ON CONFLICT (job_id, row_number) DO NOTHING
"""
