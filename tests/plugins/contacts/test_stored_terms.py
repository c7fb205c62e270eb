"""Stored broad terms (plugins/contacts/stored_terms.py): the values a term's
condition selects are the values a fresh lookup finds, while writers of the
dictionary commit, hold lower ids uncommitted or roll back, and after the term
was stored; counts and attribute counts through the HTTP routes agree with the
plain model."""

import asyncio
import random
import string
from urllib.parse import urlencode

import psycopg2
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts_api.core.sql import compile_sql
from contacts_api.plugins.contacts import dictionaries, matched_ids, stored_terms
from contacts_api.plugins.contacts.tables import contact_field_values
from tests.plugins.contacts.conftest import WRITE
from tests.plugins.contacts.dictionary_writers import LETTERS, WRITER_STEPS, Dictionary, play
from tests.plugins.contacts.test_attributes import all_values

PARTS = {"whole": dictionaries.whole, "words": dictionaries.words}


def selected(dictionary: Dictionary, term: str, parts: str) -> list[int] | None:
    """The ids the stored term's condition selects (None: not stored)."""
    split = tuple(PARTS[parts](term))
    stored = dictionary.loop.run_until_complete(
        stored_terms.stored_term(dictionary.db, "title", split)
    )
    if stored is None:
        return None
    values = contact_field_values
    condition = stored_terms.condition(values.c.id, [stored], (), dictionaries.among_ids)
    sql, params = compile_sql(
        sa.select(values.c.id).where(values.c.field == "title", condition).order_by(values.c.id)
    )
    return [
        row[0]
        for row in dictionary.loop.run_until_complete(dictionary.db.fetch_tuples(sql, params))
    ]


def check(dictionary: Dictionary, term: str, parts: str, stored: bool = False) -> None:
    """The term selects what the model finds (``stored``: it must be stored)."""
    got = selected(dictionary, term, parts)
    if got is None:
        assert not stored, term
        return
    assert got == dictionary.model(term, PARTS[parts]), (term, parts)


TERMS = st.text(LETTERS, min_size=1, max_size=2).filter(lambda term: term.split())
STEPS = st.lists(
    st.one_of(
        *WRITER_STEPS,
        st.tuples(st.just("count"), TERMS, st.sampled_from(sorted(PARTS))),
    ),
    max_size=14,
)


def run_steps(dictionary: Dictionary, steps) -> None:
    # once every writer has ended, every term is stored, and exact
    play(
        dictionary,
        steps,
        lambda term, parts, final: check(dictionary, term, parts, stored=final),
        settle_on="zz",
    )


def test_stored_terms_select_what_a_lookup_finds(dictionary):
    @hypothesis_settings(
        max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(STEPS)
    def run(steps):
        run_steps(dictionary, steps)

    run()


def test_a_term_stored_under_a_held_writer_finds_its_value_once_committed(dictionary):
    dictionary.add("Quokka One")
    check(dictionary, "quokka", "whole", stored=True)
    held = dictionary.hold("Quokka Two")  # id 2, not visible yet: no horizon past 1
    try:
        dictionary.add("Quokka Three")  # read by id range, after the horizon
        check(dictionary, "quokka", "whole", stored=True)
        with dictionary.writer.cursor() as cur:
            cur.execute("SELECT horizon FROM contact_field_terms")
            assert cur.fetchone()[0] == 1
        held.commit()
    finally:
        held.close()
    assert selected(dictionary, "quokka", "whole") == [1, 2, 3]
    with dictionary.writer.cursor() as cur:  # the next request settled past them
        cur.execute("SELECT horizon, size FROM contact_field_terms")
        assert cur.fetchone() == (3, 3)


def test_emptying_the_dictionary_empties_the_stored_terms(dictionary):
    dictionary.add("Quokka One")
    check(dictionary, "quokka", "whole", stored=True)
    with dictionary.writer.cursor() as cur:
        cur.execute("TRUNCATE contact_field_values RESTART IDENTITY CASCADE")
        cur.execute("SELECT count(*) FROM contact_field_terms")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM contact_field_term_values")
        assert cur.fetchone()[0] == 0


def test_a_full_store_stores_nothing_more(dictionary, monkeypatch):
    monkeypatch.setattr(stored_terms, "MAX_TERMS", 1)
    dictionary.add("Quokka One")
    dictionary.add("Wombat One")
    check(dictionary, "quokka", "whole", stored=True)
    assert selected(dictionary, "wombat", "whole") is None
    monkeypatch.setattr(stored_terms, "MAX_TERMS", 2)
    monkeypatch.setattr(stored_terms, "MAX_STORED_VALUES", 1)
    assert selected(dictionary, "wombat", "whole") is None


def test_a_read_only_database_reads_through_the_dictionary(dictionary, settings):
    """A standby, or a database set read-only: no term stored, no error."""
    dictionary.add("Quokka One")
    with dictionary.writer.cursor() as cur:
        cur.execute("SELECT current_database()")
        name = cur.fetchone()[0]
        cur.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    reader = None
    try:
        reader = Dictionary(settings)  # new connections: read-only
        assert selected(reader, "quokka", "whole") is None
    finally:
        if reader is not None:
            reader.close()
        with dictionary.writer.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')


# Through the routes: titles sharing "quo" and "ok"; MAX_IDS 1 makes them broad.
TITLE_ROWS = [
    ("Quokka Officer", "France"),
    ("quokka herder", "France"),
    ("Chief Quokka", "Spain"),
    ("Book keeper", "France"),
    ("Quokka Officer", "Spain"),
]


async def _create(api, email: str, title: str, country: str) -> None:
    body = {"email": email, "title": title, "country": country}
    response = await api.post("/api/v1/contacts/", json=body, headers=WRITE)
    assert response.status == 201, await response.text()


async def _get(api, path: str, pairs) -> dict:
    response = await api.get(f"{path}?{urlencode(pairs)}", headers=WRITE)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_counts_with_a_broad_term_match_the_model(api, settings, monkeypatch):
    monkeypatch.setattr(dictionaries, "MAX_IDS", 1)
    monkeypatch.setattr(matched_ids, "SETTLE_SECONDS", 0.0)
    rows = list(TITLE_ROWS)
    for i, (title, country) in enumerate(rows):
        await _create(api, f"{i}@x.io", title, country)

    async def agree() -> None:
        for term, country in (("quokka", "France"), ("ok", None), ("quo", "Spain")):
            pairs = [("title", term)] + ([("country", country)] if country else [])
            expected = [
                t for t, c in rows if term in t.lower() and (country is None or c == country)
            ]
            body = await _get(api, "/api/v1/contacts/count/", pairs)
            assert body["count"] == len(expected), (term, country)
            page = await _get(api, "/api/v1/contacts/", [*pairs, ("include_count", "true")])
            assert page["count"] == len(expected)
            search = [("search", term)] + ([("country", country)] if country else [])
            values = await _get(api, "/api/v1/contacts/title/", [*search, ("limit", "100")])
            counted = {r["value"]: r["count"] for r in values["results"]}
            assert counted == {t: expected.count(t) for t in expected}, (term, country)

    await agree()
    with psycopg2.connect(settings.database.url.reveal()) as conn, conn.cursor() as cur:
        cur.execute("SELECT parts FROM contact_field_terms ORDER BY parts")
        assert [row[0] for row in cur.fetchall()] == [["ok"], ["quo"], ["quokka"]]
    # values first written after the terms were stored
    for i, (title, country) in enumerate([("Quokka Tamer", "France"), ("Wok cook", "Spain")]):
        rows.append((title, country))
        await _create(api, f"new{i}@x.io", title, country)
    await agree()


@pytest.mark.parametrize("max_ids", [1, dictionaries.MAX_IDS])
async def test_attribute_pages_of_a_search_match_the_model(api, monkeypatch, max_ids):
    """Ordered by count, only the groups that can reach the page are named
    (attributes._searched_values_query), for a stored term (``max_ids`` 1) and for
    the ids of a narrow search: every page, at every size and ordering, with ties
    at the page's edge, is what the model lists."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", max_ids)
    titles = {"Quokka A": 3, "Quokka B": 2, "quokka b2": 2, "Quokka C": 1, "Quokka D": 1}
    titles |= {"Book keeper": 2}
    made = 0
    for title, times in titles.items():
        for _ in range(times):
            await _create(api, f"{made}@x.io", title, "France")
            made += 1
    for term in ("quokka", "ok"):
        for ordering in ("-count", "count", "value", "-value"):
            expected = expected_values(
                [t for t, n in titles.items() for _ in range(n)], term, ordering
            )
            for limit in (1, 2, 3, 100):
                pairs = [("search", term), ("ordering", ordering)]
                got = await all_values(api, "/api/v1/contacts/title/", pairs, limit)
                assert got == expected, (term, ordering, limit)


def expected_values(titles: list[str], term: str, ordering: str) -> list[dict]:
    counts = {}
    for title in titles:
        if term in title.lower():
            counts[title] = counts.get(title, 0) + 1
    items = sorted(counts.items())
    if ordering == "-value":
        items.reverse()
    elif ordering in ("count", "-count"):
        items.sort(key=lambda item: item[1], reverse=ordering == "-count")
    return [{"value": value, "count": count} for value, count in items]


async def test_a_term_too_long_to_store_is_counted_through_the_dictionary(
    api, settings, monkeypatch
):
    """title_words of hundreds of distinct words, each contained in the titles:
    longer than stored terms hold (``MAX_PARTS_CHARS``). Not stored, still counted."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", 1)
    title = "".join(random.Random(7).choices(string.ascii_lowercase, k=290))
    for i in range(3):
        await _create(api, f"{i}@x.io", f"{title} {i}", "France")
    words = " ".join(dict.fromkeys(title[i : i + 16] for i in range(0, 274)))
    assert len(words) > stored_terms.MAX_PARTS_CHARS
    body = await _get(api, "/api/v1/contacts/count/", [("title_words", words)])
    assert body["count"] == 3
    with psycopg2.connect(settings.database.url.reveal()) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM contact_field_terms")
        assert cur.fetchone()[0] == 0


async def test_concurrent_first_counts_store_the_term_once(api, settings, monkeypatch):
    monkeypatch.setattr(dictionaries, "MAX_IDS", 1)
    monkeypatch.setattr(matched_ids, "SETTLE_SECONDS", 0.0)
    for i, title in enumerate(("Quokka a", "Quokka b", "Chief Quokka", "Book keeper")):
        await _create(api, f"{i}@x.io", title, "France")
    bodies = await asyncio.gather(
        *(_get(api, "/api/v1/contacts/count/", [("title", "quokka")]) for _ in range(8))
    )
    assert [body["count"] for body in bodies] == [3] * 8
    with psycopg2.connect(settings.database.url.reveal()) as conn, conn.cursor() as cur:
        cur.execute("SELECT parts, size FROM contact_field_terms")
        assert cur.fetchall() == [(["quokka"], 3)]


def _used(dictionary: Dictionary, age_s: int = 0) -> dict[tuple, float]:
    """Age the marks by ``age_s`` seconds; ``{parts: seconds since last used}``."""
    with dictionary.writer.cursor() as cur:
        cur.execute(
            "UPDATE contact_field_terms SET used_at = used_at - %s * interval '1 second'",
            (age_s,),
        )
        cur.execute("SELECT parts, extract(epoch FROM now() - used_at) FROM contact_field_terms")
        return {tuple(parts): float(age) for parts, age in cur.fetchall()}


def test_a_full_store_removes_a_term_unused_for_an_hour(dictionary, monkeypatch):
    monkeypatch.setattr(stored_terms, "MAX_TERMS", 1)
    for title in ("Quokka One", "Wombat One", "Numbat One"):
        dictionary.add(title)
    check(dictionary, "quokka", "whole", stored=True)
    _used(dictionary, stored_terms.IDLE_SECONDS - 60)  # used 59 minutes ago
    assert selected(dictionary, "wombat", "whole") is None  # full, nothing idle
    # reading a term marks it used (its mark was older than TOUCH_SECONDS)
    check(dictionary, "quokka", "whole", stored=True)
    assert _used(dictionary)[("quokka",)] < 60
    _used(dictionary, stored_terms.IDLE_SECONDS + 60)
    check(dictionary, "wombat", "whole", stored=True)  # quokka made room
    assert list(_used(dictionary)) == [("wombat",)]
    check(dictionary, "quokka", "whole")  # exact, whether stored again or not


def test_a_term_removed_between_lookup_and_mark_is_stored_again(dictionary, monkeypatch):
    """The lookup saw an old mark; the term was removed before the request marked
    it: the request must not use its id."""
    dictionary.add("Quokka One")
    check(dictionary, "quokka", "whole", stored=True)
    _used(dictionary, stored_terms.IDLE_SECONDS + 60)
    real_mark = stored_terms._mark_used

    async def removed_first(db, term):
        with dictionary.writer.cursor() as cur:
            cur.execute("DELETE FROM contact_field_terms")
        return await real_mark(db, term)

    monkeypatch.setattr(stored_terms, "_mark_used", removed_first)
    got = dictionary.loop.run_until_complete(
        stored_terms.stored_term(dictionary.db, "title", ("quokka",))
    )
    monkeypatch.setattr(stored_terms, "_mark_used", real_mark)
    with dictionary.writer.cursor() as cur:
        cur.execute("SELECT id FROM contact_field_terms")
        assert got is None or [got.id] == [row[0] for row in cur.fetchall()]
    check(dictionary, "quokka", "whole")


async def test_case_and_repeated_words_share_one_stored_term(api, settings, monkeypatch):
    """Found by a helper attacking the routes: "director", "DIRECTOR" and the
    words "director director" were three terms, so case variants filled the store."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", 1)
    for i, title in enumerate(("Quokka a", "QUOKKA b", "Chief quokka", "Book keeper")):
        await _create(api, f"{i}@x.io", title, "France")
    for pairs in (
        [("title", "quokka")],
        [("title", "QUOKKA")],
        [("title", "QuOkKa")],
        [("title_words", "quokka QUOKKA quokka")],
    ):
        assert (await _get(api, "/api/v1/contacts/count/", pairs))["count"] == 3, pairs
    with psycopg2.connect(settings.database.url.reveal()) as conn, conn.cursor() as cur:
        cur.execute("SELECT parts FROM contact_field_terms")
        assert cur.fetchall() == [(["quokka"],)]


def _stored_parts(settings) -> list[list[str]]:
    with psycopg2.connect(settings.database.url.reveal()) as conn, conn.cursor() as cur:
        cur.execute("SELECT parts FROM contact_field_terms ORDER BY parts")
        return [row[0] for row in cur.fetchall()]


async def test_a_request_stores_at_most_new_terms(api, settings, monkeypatch):
    """Storing a term costs ~0.3 s at 265k titles, which the request waits for: a
    request stores at most ``NEW_TERMS``; its other broad values are looked up in
    its statement, and the next request stores the next ones."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", 0)  # every matching value is broad
    monkeypatch.setattr(matched_ids, "SETTLE_SECONDS", 0.0)
    for i, (title, country) in enumerate(TITLE_ROWS):
        await _create(api, f"{i}@x.io", title, country)
    terms = ["quokka", "ok", "quo", "keeper", "chief"]
    expected = sum(any(term in t.lower() for term in terms) for t, _ in TITLE_ROWS)
    pairs = [("title", ",".join(terms))]
    for stored in (2, 4, 5, 5):
        body = await _get(api, "/api/v1/contacts/count/", pairs)
        assert body["count"] == expected
        assert len(_stored_parts(settings)) == stored


async def test_a_filter_of_many_broad_values_reads_no_stored_term(api, settings, monkeypatch):
    """A filter with more than ``TERMS_PER_FILTER`` broad values (one term lookup
    each) is looked up in the statement: 900 broad ``title_words`` stored nothing."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", 0)  # every matching value is broad
    monkeypatch.setattr(matched_ids, "SETTLE_SECONDS", 0.0)
    monkeypatch.setattr(stored_terms, "TERMS_PER_FILTER", 2)
    for i, (title, country) in enumerate(TITLE_ROWS):
        await _create(api, f"{i}@x.io", title, country)
    terms = ["quokka", "ok", "keeper"]
    expected = sum(any(term in t.lower() for term in terms) for t, _ in TITLE_ROWS)
    body = await _get(api, "/api/v1/contacts/count/", [("title", ",".join(terms))])
    assert body["count"] == expected
    assert _stored_parts(settings) == []
