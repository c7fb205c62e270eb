"""Every filter is served by an index when its value is selective (issue 4: "no
filter in the table may fall back to a sequential scan of contacts at 1M rows").

Scale-free: with ``enable_seqscan = off`` the planner still scans a whole table when
no index can answer the condition (the only plan left), and otherwise never does.
So a plan of the count query that scans contacts (or companies) whole, as a
``Seq Scan`` or as an index scan without an index condition, means that this
filter would read the whole table at any size.

Exclusions (``exclude_*``) select everything but a few rows, and ``has_email=true``
most rows: they are never selective, and the table is read whatever the indexes.
"""

import json
import re

import psycopg2
import pytest

from contacts_api.core.appkeys import FILTERS, RESOURCES
from contacts_api.plugins.contacts import dictionaries, repository, stored_terms

DICTIONARY_FIELDS = ("title", "country")

UUID = "5b0e6c1e-2d3f-4a5b-8c7d-9e0f1a2b3c4d"
# a selective value for each kind of filter
SAMPLES = {
    "text": "zqxwvy",
    "uuid": UUID,
    "range": "1000000,1000001",
    "datetime": "2999-01-01",
}
BOUNDS = {"_min": "2000000000", "_max": "-1"}
# selective values of the filters whose kind alone does not say it
SPECIAL = {
    "seniority": "intern",
    "email_status": "bounced",
    "has_email": "false",
    "has_phone": ("true", "false"),
    "created_at_before": "1970-01-02",
    "updated_at_before": "1970-01-02",
}
NEVER_SELECTIVE = {"has_email=true"}


def samples(spec) -> tuple[str, ...]:
    if spec.name in SPECIAL:
        value = SPECIAL[spec.name]
        return value if isinstance(value, tuple) else (value,)
    for suffix, value in BOUNDS.items():
        if spec.name.endswith(suffix):
            return (value,)
    return (SAMPLES[spec.kind],)


def full_scans(plan: dict, tables: set[str], partial: frozenset[str] = frozenset()) -> list[str]:
    """Nodes reading a whole table: seq scans, or index scans without a condition
    (unless on a ``partial`` index, whose predicate is the condition)."""
    found = []
    node, table = plan.get("Node Type"), plan.get("Relation Name")
    if table in tables and (
        node == "Seq Scan"
        or (
            node in ("Index Scan", "Index Only Scan")
            and "Index Cond" not in plan
            and plan.get("Index Name") not in partial
        )
    ):
        found.append(f"{node} on {table}")
    for child in plan.get("Plans", []):
        found += full_scans(child, tables, partial)
    return found


def selective_filters(registry):
    for spec in registry.specs.values():
        if spec.name.startswith("exclude_"):
            continue
        for value in samples(spec):
            if f"{spec.name}={value}" not in NEVER_SELECTIVE:
                yield spec.name, value


async def prepared_samples(db, registry) -> list:
    """``[("name=value", applied)]`` for each selective filter of ``registry``,
    prepared (dictionary lookups) on ``db``."""
    return [
        (f"{name}={value}", await registry.parse([(name, value)]).prepared(db))
        for name, value in selective_filters(registry)
    ]


def whole_table_scans(database_url: str, samples_: list, count_sql, tables: set[str]) -> dict:
    """``{"name=value": [scans]}`` for each ``(label, applied)`` sample whose count
    (``count_sql(applied)``) reads one of ``tables`` whole."""
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indpred IS NOT NULL")
            partial = frozenset(name for (name,) in cur.fetchall())
            cur.execute("SET enable_seqscan = off")
            scans = {}
            for label, applied in samples_:
                sql, params = count_sql(applied)
                cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                found = full_scans(cur.fetchone()[0][0]["Plan"], tables, partial)
                if found:
                    scans[label] = found
            return scans
    finally:
        conn.close()


async def seed_dictionary(db) -> None:
    """Distinct values holding the text sample, so that the dictionary filters
    (title, country ...) compare ids rather than answer "no such value"."""
    await db.execute(
        "INSERT INTO contact_field_values (field, value) "
        "SELECT field, 'a zqxwvy b' FROM unnest(%(fields)s::text[]) AS field",
        {"fields": list(DICTIONARY_FIELDS)},
    )


def by_ids(sql: str) -> bool:
    """A condition on dictionary ids: among several (``= ANY``) or one (``=``)."""
    return re.search(r"contacts\.\w+_id = (ANY|%\()", sql) is not None


def excludes_ids(sql: str) -> bool:
    """An exclusion of title ids: of several, or of one (``!=``)."""
    return re.search(r"NOT \(contacts\.title_id = ANY|contacts\.title_id != %\(", sql) is not None


async def test_every_contact_filter_is_served_by_an_index(api, migrated_database_url):
    db = api.app[RESOURCES].db
    await seed_dictionary(db)
    samples_ = await prepared_samples(db, api.app[FILTERS].contacts)
    through_ids = [
        label for label, applied in samples_ if by_ids(repository.contact_count(applied)[0])
    ]
    assert len(through_ids) == 3, through_ids  # title, title_words, country: through their ids
    scans = whole_table_scans(
        migrated_database_url,
        samples_,
        repository.contact_count,
        {"contacts", "companies", "contact_metadata"},
    )
    assert scans == {}, json.dumps(scans, indent=1)


@pytest.mark.parametrize("stored", [False, True])
async def test_broad_dictionary_values_are_served_by_an_index(
    api, migrated_database_url, monkeypatch, stored
):
    """A value matching more than MAX_IDS distinct values is counted through a
    semi-join with the dictionary's matching ids (dictionaries.AggregateTables),
    or with the ids stored for the term (``stored``: plugins/contacts/stored_terms.py)."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", 0)
    db = api.app[RESOURCES].db
    await seed_dictionary(db)
    samples_ = [
        (label, await stored_terms.attach(db, applied) if stored else applied)
        for label, applied in await prepared_samples(db, api.app[FILTERS].contacts)
        if any(isinstance(v, dictionaries.Matched) for _, values in applied.items for v in values)
    ]
    assert len(samples_) == 3
    assert not any(by_ids(repository.contact_count(a)[0]) for _, a in samples_)
    assert all(
        ("contact_field_term_values" in repository.contact_count(a)[0]) == stored
        for _, a in samples_
    )
    scans = whole_table_scans(
        migrated_database_url,
        samples_,
        repository.contact_count,
        {"contacts", "companies", "contact_metadata"},
    )
    assert scans == {}, json.dumps(scans, indent=1)


async def test_every_company_filter_is_served_by_an_index(api, migrated_database_url):
    samples_ = await prepared_samples(api.app[RESOURCES].db, api.app[FILTERS].companies)
    scans = whole_table_scans(
        migrated_database_url, samples_, repository.company_count, {"companies", "company_metadata"}
    )
    assert scans == {}, json.dumps(scans, indent=1)


@pytest.mark.parametrize(
    "plan, expected",
    [
        ({"Node Type": "Seq Scan", "Relation Name": "contacts"}, ["Seq Scan on contacts"]),
        (
            {"Node Type": "Index Only Scan", "Relation Name": "contacts"},
            ["Index Only Scan on contacts"],
        ),
        (
            {
                "Node Type": "Index Only Scan",
                "Relation Name": "contacts",
                "Index Name": "a_partial_idx",
            },
            [],
        ),
        (
            {
                "Node Type": "Aggregate",
                "Plans": [
                    {
                        "Node Type": "Index Scan",
                        "Relation Name": "contacts",
                        "Index Cond": "(uuid = $1)",
                    }
                ],
            },
            [],
        ),
    ],
)
def test_full_scans_finds_whole_table_reads(plan, expected):
    assert full_scans(plan, {"contacts"}, frozenset({"a_partial_idx"})) == expected


def scans_of(plan: dict, table: str) -> list[tuple[str, str | None]]:
    """``(node type, index name)`` of every node reading ``table``."""
    found = []
    if plan.get("Relation Name") == table:
        found.append((plan["Node Type"], plan.get("Index Name")))
    for child in plan.get("Plans", []):
        found += scans_of(child, table)
    return found


def plans(database_url: str, samples_: list, count_sql, seqscan: bool) -> dict[str, dict]:
    """``{"name=value": plan}`` of each sample's count."""
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET enable_seqscan = {'on' if seqscan else 'off'}")
            found = {}
            for label, applied in samples_:
                sql, params = count_sql(applied)
                cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                found[label] = cur.fetchone()[0][0]["Plan"]
            return found
    finally:
        conn.close()


def seed_vacuumed_contacts(database_url: str, rows: int) -> None:
    """``rows`` contacts with a few hundred distinct titles, vacuumed and analyzed as
    a settled table is (its pages all-visible, so an index can answer alone)."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO contacts (first_name, last_name, email, title, city, country) "
                "SELECT 'First' || i, 'Last' || i, 'p' || i || '@example.com', "
                "(ARRAY['Software Engineer', 'Marketing Intern', 'Sales Director', 'CEO', "
                "'Account Executive'])[1 + i %% 5] || ' ' || (i %% 200), "
                "'City' || (i %% 50), 'Country' || (i %% 20) "
                "FROM generate_series(1, %(rows)s) AS i",
                {"rows": rows},
            )
            cur.execute("VACUUM ANALYZE contacts")
            cur.execute("VACUUM ANALYZE contact_field_values")
    finally:
        conn.close()


async def test_title_exclusion_is_answered_from_the_title_ids(api, migrated_database_url):
    """``exclude_title_contains`` (Apollo's personNotTitles[]) keeps most rows, so
    alone it reads every contact; but as a condition on the title ids only, which a
    settled table answers from the btree of the ids alone (index-only, no heap, no
    text: a count at 60,000 contacts took 35 ms, measured), and the excluded titles
    are looked up in the dictionary first."""
    seed_vacuumed_contacts(migrated_database_url, 3000)
    db = api.app[RESOURCES].db
    applied = (
        await api.app[FILTERS]
        .contacts.parse([("exclude_title_contains", "intern,assistant")])
        .prepared(db)
    )
    assert excludes_ids(repository.contact_count(applied)[0])
    plan = plans(migrated_database_url, [("alone", applied)], repository.contact_count, True)
    # an index of the ids: (title_id), or (country_id, title_id) when smaller
    scans = scans_of(plan["alone"], "contacts")
    assert [node for node, _ in scans] == ["Index Only Scan"], json.dumps(plan, indent=1)
    assert scans[0][1] in ("contacts_title_id_idx", "contacts_country_title_idx")


@pytest.mark.parametrize("max_ids", [dictionaries.MAX_IDS, 0])
async def test_title_exclusion_beside_a_selective_filter_uses_its_index(
    api, migrated_database_url, monkeypatch, max_ids
):
    """Beside a selective filter, the exclusion is checked on the rows that filter's
    index finds, including for values matching too many titles (``max_ids`` 0),
    which are tested on the title itself."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", max_ids)
    db = api.app[RESOURCES].db
    await seed_dictionary(db)
    registry = api.app[FILTERS].contacts
    exclusion = ("exclude_title_contains", "zqxwvy,intern")
    samples_ = [
        (label, await registry.parse(pairs).prepared(db))
        for label, pairs in {
            "with seniority": [exclusion, ("seniority", "intern")],
            "with title": [exclusion, ("title", "zqxwvy")],
            "with country": [exclusion, ("country", "zqxwvy")],
            "with search": [exclusion, ("search", "zqxwvy")],
        }.items()
    ]
    sql = repository.contact_count(samples_[0][1])[0]
    assert excludes_ids(sql) == (max_ids > 0), sql
    scans = whole_table_scans(
        migrated_database_url, samples_, repository.contact_count, {"contacts"}
    )
    assert scans == {}, json.dumps(scans, indent=1)
