"""The dictionary of distinct titles and countries (plugins/contacts/dictionaries.py,
migration contacts_0007): kept by a trigger on every write, and the filters built
on it answer exactly what the plain "contains" filters answer."""

import threading
from urllib.parse import urlencode

import psycopg2
import pytest

from contacts_api.plugins.contacts import dictionaries
from tests.plugins.contacts.conftest import WRITE, sql
from tests.plugins.contacts.reference import matching
from tests.plugins.contacts.test_attributes import CONTACT_VALUES, all_values, expected_values
from tests.plugins.contacts.test_filters import assert_list_and_count_match_reference

DICTIONARY_CASES = [
    [("title", "engineer")],
    [("title", "sales"), ("title", "ceo")],
    [("title", "50%")],
    [("title", "zzz-nothing")],
    [("title", "é")],
    [("title_words", "sales director")],
    [("title_words", "software engineer,intern")],
    [("country", "united states,españa")],
    [("country", "an")],
    [("title", "manager"), ("country", "united states"), ("has_email", "true")],
]


@pytest.mark.parametrize("max_ids", [dictionaries.MAX_IDS, 1, 0])
@pytest.mark.parametrize("pairs", DICTIONARY_CASES, ids=[urlencode(c) for c in DICTIONARY_CASES])
async def test_ids_and_fallback_match_the_reference(api, seeded, monkeypatch, pairs, max_ids):
    """Through the ids, through the plain condition (a value matching more than
    MAX_IDS distinct values), and both in one filter."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", max_ids)
    await assert_list_and_count_match_reference(api, seeded, pairs)


async def test_every_contact_value_is_in_the_dictionary(api, seeded, settings):
    missing = sql(
        settings,
        """
        SELECT c.uuid FROM contacts c
          LEFT JOIN contact_field_values t ON t.id = c.title_id AND t.field = 'title'
          LEFT JOIN contact_field_values k ON k.id = c.country_id AND k.field = 'country'
         WHERE c.title IS DISTINCT FROM t.value OR c.country IS DISTINCT FROM k.value""",
    )
    assert missing == []
    assert sql(settings, "SELECT count(*) FROM contact_field_values")[0][0] == len(
        {("title", c.title) for c in seeded.contacts if c.title}
        | {("country", c.country) for c in seeded.contacts if c.country}
    )


async def _titles_found(api, title: str) -> list[str]:
    body = await (
        await api.get(f"/api/v1/contacts/?{urlencode({'title': title})}", headers=WRITE)
    ).json()
    return [r["uuid"] for r in body["results"]]


async def test_writes_keep_the_ids(api, settings):
    response = await api.post(
        "/api/v1/contacts/",
        json={"email": "kim@example.com", "title": "Chief Quokka Officer", "country": "Narnia"},
        headers=WRITE,
    )
    created = await response.json()
    assert response.status == 201, created
    assert await _titles_found(api, "quokka") == [created["uuid"]]
    response = await api.patch(
        f"/api/v1/contacts/{created['uuid']}/", json={"title": "Wombat Wrangler"}, headers=WRITE
    )
    assert response.status == 200, await response.text()
    assert await _titles_found(api, "quokka") == []
    assert await _titles_found(api, "wrangler") == [created["uuid"]]
    body = await (await api.get("/api/v1/contacts/?country=narn", headers=WRITE)).json()
    assert [r["uuid"] for r in body["results"]] == [created["uuid"]]
    # a title nobody holds any more stays in the dictionary and matches nobody
    assert (
        sql(
            settings,
            "SELECT count(*) FROM contact_field_values WHERE value = 'Chief Quokka Officer'",
        )[0][0]
        == 1
    )
    response = await api.patch(
        f"/api/v1/contacts/{created['uuid']}/", json={"title": None}, headers=WRITE
    )
    assert response.status == 200
    assert sql(settings, "SELECT title_id FROM contacts")[0][0] is None


def _insert_contact(url: str, email: str, title: str, started: threading.Event, done: list) -> None:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            started.set()
            cur.execute("INSERT INTO contacts (email, title) VALUES (%s, %s)", (email, title))
        done.append(True)
    finally:
        conn.close()


@pytest.mark.parametrize("first_commits", [True, False])
async def test_concurrent_writers_of_a_new_title_share_one_id(api, settings, first_commits):
    """The second writer waits on the first's uncommitted dictionary row, then
    uses it (or, when the first rolls back, adds its own)."""
    url = settings.database.url.reveal()
    first = psycopg2.connect(url)
    try:
        with first.cursor() as cur:
            cur.execute("INSERT INTO contacts (email, title) VALUES ('a@x.io', 'Brand New Role')")
        started, done = threading.Event(), []
        second = threading.Thread(
            target=_insert_contact, args=(url, "b@x.io", "Brand New Role", started, done)
        )
        second.start()
        started.wait(5)
        second.join(0.5)
        assert second.is_alive()  # waiting on the first's dictionary row
        first.commit() if first_commits else first.rollback()
        second.join(10)
        assert done == [True]
    finally:
        first.close()
    ids = sql(settings, "SELECT DISTINCT title_id FROM contacts")
    assert len(ids) == 1 and ids[0][0] is not None
    assert sql(settings, "SELECT count(*) FROM contacts")[0][0] == (2 if first_commits else 1)
    assert (
        sql(settings, "SELECT count(*) FROM contact_field_values WHERE value = 'Brand New Role'")[
            0
        ][0]
        == 1
    )


ATTRIBUTE_CASES = [
    ("title", [("search", "sales"), ("ordering", "-count")]),
    ("title", [("search", "ENGINEER"), ("country", "united"), ("ordering", "value")]),
    ("title", [("search", "zzz-nothing"), ("ordering", "value")]),
    ("country", [("search", "an"), ("ordering", "-value")]),
    ("country", [("title", "manager"), ("ordering", "count")]),
]


@pytest.mark.parametrize("max_ids", [dictionaries.MAX_IDS, 0])
@pytest.mark.parametrize(
    "attribute, pairs", ATTRIBUTE_CASES, ids=[f"{a}?{urlencode(p)}" for a, p in ATTRIBUTE_CASES]
)
async def test_dictionary_attribute_values(api, seeded, monkeypatch, attribute, pairs, max_ids):
    """Titles and countries are counted by id: same values, counts and order as the
    reference, with the search matched through the ids or on the contacts."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", max_ids)
    params = dict(pairs)
    rows = matching(seeded.contacts, [(k, v) for k, v in pairs if k not in ("search", "ordering")])
    expected = expected_values(
        rows, CONTACT_VALUES[attribute], params.get("search"), params["ordering"]
    )
    assert await all_values(api, f"/api/v1/contacts/{attribute}/", pairs) == expected


async def test_dictionary_lookups_never_scan_the_dictionary(api, settings):
    """The trigger's lookups are unique-key probes on any connection, even one that
    first used them while the dictionary was empty (a plan cached then scanned the
    whole table on every later call: a fresh import fell to 700 rows/s)."""
    conn = psycopg2.connect(settings.database.url.reveal())
    try:
        with conn, conn.cursor() as cur:
            cur.execute("ANALYZE contact_field_values")  # known empty, as when just migrated
            for i in range(10):  # past the plan cache's five custom plans
                cur.execute("SELECT contact_field_value_id('title', %s)", (f"early {i}",))
            cur.execute(
                "INSERT INTO contact_field_values (field, value) "
                "SELECT 'title', 'bulk ' || g FROM generate_series(1, 5000) g"
            )
            for i in range(0, 5000, 100):
                cur.execute("SELECT contact_field_value_id('title', %s)", (f"bulk {i + 1}",))
            cur.execute(
                "SELECT pg_stat_get_xact_numscans('contact_field_values'::regclass), "
                "pg_stat_get_xact_tuples_returned('contact_field_values'::regclass)"
            )
            scans, returned = cur.fetchone()
            # index probes return one row each; a sequential scan would return thousands
            assert returned < 200, (scans, returned)
    finally:
        conn.close()


async def test_a_broad_value_is_remembered_and_answers_the_same(api, seeded, monkeypatch):
    """After a value matched more than MAX_IDS distinct values, later requests skip
    the lookup (the dictionary only grows) and still answer what the reference does."""
    monkeypatch.setattr(dictionaries, "MAX_IDS", 2)
    lookups = []
    real_lookup = dictionaries._lookup
    monkeypatch.setattr(
        dictionaries, "_lookup", lambda shape: lookups.append(shape) or real_lookup(shape)
    )
    pairs = [("title", "e"), ("exclude_title_contains", "engineer")]
    await assert_list_and_count_match_reference(api, seeded, pairs)
    assert lookups  # found broad: "e" matches most titles
    lookups.clear()
    await assert_list_and_count_match_reference(api, seeded, pairs)
    assert lookups == []  # both remembered
    # a narrow value is looked up once, then refreshed with the titles added since
    # (new titles may match it: matched_ids, tests in test_matched_ids.py)
    refreshes = []
    real_refresh = dictionaries._refresh
    monkeypatch.setattr(
        dictionaries, "_refresh", lambda shape: refreshes.append(shape) or real_refresh(shape)
    )
    await assert_list_and_count_match_reference(api, seeded, [("title", "intern")])
    await assert_list_and_count_match_reference(api, seeded, [("title", "intern")])
    # the counts refresh it; the list pages check it within their statement
    # (gated_lookups, tests in test_gated_lookups.py)
    assert len(lookups) == 1 and len(refreshes) == 2


def test_broad_values_are_bounded():
    broad = dictionaries.BroadValues()
    for i in range(broad.MAX_REMEMBERED + 10):
        broad.add(("title", (str(i),)))
    assert ("title", ("0",)) not in broad
    assert ("title", (str(broad.MAX_REMEMBERED + 9),)) in broad
    assert len(broad._seen) == broad.MAX_REMEMBERED


BOUNDED_CASES = [
    [("title", "engineer,sales,ceo,intern,zzz-nothing")],
    [("title_words", "sales director,software engineer,intern,e")],
    [("exclude_title_contains", "engineer,sales,ceo")],
    # deferred values of several words, each word of them looked up laterally
    [("title_words", "intern,xx,sales director,ENGINEER software,zz qq")],
    [("title", "e"), ("exclude_title_contains", "xx,ceo,engineer,Sales,50%")],
]


@pytest.mark.parametrize(
    "bounds", [(2, dictionaries.LOOKUP_SECONDS), (dictionaries.MAX_LOOKUPS, 0.0)], ids=str
)
@pytest.mark.parametrize("pairs", BOUNDED_CASES, ids=[urlencode(c) for c in BOUNDED_CASES])
async def test_values_past_the_lookup_bounds_answer_the_same(
    api, seeded, monkeypatch, pairs, bounds
):
    """Found by a helper attacking the routes: every value of a filter was looked up
    before the statement, outside its timeout, so a count of 900 comma-separated
    broad ``title_words`` spent seconds of database time. Past ``MAX_LOOKUPS``
    values (or ``LOOKUP_SECONDS`` of lookups) the rest are tested in the statement,
    with the same answers."""
    max_lookups, seconds = bounds
    monkeypatch.setattr(dictionaries, "MAX_LOOKUPS", max_lookups)
    monkeypatch.setattr(dictionaries, "LOOKUP_SECONDS", seconds)
    looked_up = []
    real_match = dictionaries.match

    async def counted_match(db, field, value, parts=dictionaries.whole):
        looked_up.append(value)
        return await real_match(db, field, value, parts)

    monkeypatch.setattr(dictionaries, "match", counted_match)
    await assert_list_and_count_match_reference(api, seeded, pairs)
    if seconds == 0.0:
        assert looked_up == []
    else:  # list and count: two requests, each looking up the first values only
        values = [v for _, joined in pairs for v in joined.split(",")[:max_lookups]]
        assert looked_up == values * (len(looked_up) // len(values))
        assert looked_up
