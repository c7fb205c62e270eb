"""The batch writer's SQL: set-based statements over ``unnest`` of array literals.

Every statement reads its rows from ``unnest(%s::text[], ...)``, one PostgreSQL array
literal per column (built by :func:`literal`). The batch writer (``upsert``) has already
reduced each statement's input to one row per target row: a statement never meets the
same company, contact or metadata row twice (PostgreSQL refuses that with
``CardinalityViolation``), and owners are given by uuid.

An empty value never erases a stored one (``COALESCE``; a list replaces only when
non-empty), and an update that would change nothing is skipped.
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


def upsert_by_key(table: str, key: str, columns: tuple) -> str:
    """Upsert on the unique ``key``; answer (key, uuid, inserted) for every source row.

    Rows found unchanged are left out of the INSERT: ON CONFLICT would still lock them
    (a heap write each) and fire the table's BEFORE INSERT triggers, which made a
    re-import (all rows unchanged) cost nearly as much as a fresh one.
    """
    sets, changed = _merge(columns, "EXCLUDED", "c", touch=True, excluded=True)
    _, dirty = _merge(columns, "s", "c", touch=False, excluded=False)
    return f"""
WITH cur AS (
    SELECT s.*, c.uuid AS cur_uuid, (c.uuid IS NULL OR {dirty}) AS dirty
    FROM {_source((("k", "text"), *columns))} LEFT JOIN {table} c ON c.{key} = s.k
),
up AS (
    INSERT INTO {table} AS c ({key}, {_names(columns)})
    SELECT s.k, {_inserts(columns)} FROM cur s WHERE s.dirty ORDER BY s.k
    ON CONFLICT ({key}) WHERE {key} IS NOT NULL DO UPDATE
    SET {sets} WHERE {changed}
    RETURNING c.{key}, c.uuid, (c.xmax = 0) AS inserted
)
SELECT cur.k, COALESCE(up.uuid, cur.cur_uuid)::text, COALESCE(up.inserted, false)
FROM cur LEFT JOIN up ON up.{key} = cur.k
"""


def upsert_matched(table: str, match: str, columns: tuple, source: tuple) -> str:
    """Update the rows ``match`` finds (the oldest when several), insert the others with
    the uuid given in ``s.id``; answer (k, uuid, inserted) for every source row."""
    sets, changed = _merge(columns, "s", "c", touch=True, excluded=False)
    return f"""
WITH s AS (SELECT * FROM {_source((("k", "int"), ("id", "uuid"), *source))}),
found AS (
    SELECT DISTINCT ON (k) k, uuid FROM ({match}) matches ORDER BY k, rank, created_at, uuid
),
upd AS (
    UPDATE {table} c SET {sets} FROM s, found
    WHERE c.uuid = found.uuid AND found.k = s.k AND {changed}
    RETURNING c.uuid
),
ins AS (
    INSERT INTO {table} (uuid, {_names(columns)})
    SELECT s.id, {_inserts(columns)} FROM s
    WHERE NOT EXISTS (SELECT 1 FROM found WHERE found.k = s.k) ORDER BY s.k
    RETURNING uuid
)
SELECT s.k, COALESCE(found.uuid, s.id)::text, found.uuid IS NULL FROM s
LEFT JOIN found ON found.k = s.k
"""


def upsert_meta(table: str, key: str, columns: tuple) -> str:
    """Metadata rows by owner uuid (one source row per owner)."""
    sets, changed = _merge(columns, "EXCLUDED", "c", touch=False, excluded=True)
    return f"""
INSERT INTO {table} AS c ({key}, {_names(columns)})
SELECT s.k, {_inserts(columns)} FROM {_source((("k", "uuid"), *columns))} ORDER BY s.k
ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE {changed}
"""


# The stored companies a batch may resolve to: by domain, or by lower-case name (the
# batch's names; companies_domain_key and companies_lower_name_idx).
FIND_COMPANIES = """
SELECT uuid::text, domain, lower(name), created_at FROM companies
WHERE domain = ANY(%s::text[]) OR lower(name) = ANY(%s::text[])"""

_COMPANY_ROWS = (("uuid", "uuid"), ("domain", "text"), *COMPANY_COLUMNS)
# The batch's new companies, with the uuids the writer gave them (in creation order).
INSERT_COMPANIES = f"""
INSERT INTO companies (uuid, domain, {_names(COMPANY_COLUMNS)})
SELECT s.uuid, s.domain, {_inserts(COMPANY_COLUMNS)} FROM {_source(_COMPANY_ROWS)}"""


def _update_companies() -> str:
    sets, changed = _merge(COMPANY_COLUMNS, "s", "c", touch=True, excluded=False)
    # ``s.domain``: the domain a company without one takes from the batch.
    return f"""
UPDATE companies c SET domain = COALESCE(c.domain, s.domain), {sets}
FROM {_source(_COMPANY_ROWS)}
WHERE c.uuid = s.uuid AND ((c.domain IS NULL AND s.domain IS NOT NULL) OR {changed})"""


# The stored companies the batch resolved to, each once, with its merged values.
UPDATE_COMPANIES = _update_companies()

UPSERT_EMAIL_CONTACTS = upsert_by_key("contacts", "email", CONTACT_COLUMNS)
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
)

UPSERT_COMPANY_META = upsert_meta("company_metadata", "company_uuid", COMPANY_META_COLUMNS)
UPSERT_CONTACT_META = upsert_meta("contact_metadata", "contact_uuid", CONTACT_META_COLUMNS)

LOCK_KEYS = """
SELECT count(pg_advisory_xact_lock(%s, hashtext(k)))
FROM unnest(%s::text[]) WITH ORDINALITY AS t(k, n)
"""

INSERT_ERRORS = """
INSERT INTO import_errors (job_id, row_number, message, "row")
SELECT %s, n, m, r::jsonb FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS t(n, m, r)
ON CONFLICT (job_id, row_number) DO NOTHING
"""
