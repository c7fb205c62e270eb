"""Remembered dictionary lookups (plugins/contacts/matched_ids.py): refreshed with
the values added since a settled horizon, they answer what a fresh lookup answers,
also when a writer of the dictionary was in flight (an uncommitted lower id),
rolled back (a gap) or added matching values meanwhile."""

import contextlib
import uuid
from urllib.parse import urlencode

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts_api.plugins.contacts import dictionaries, matched_ids
from tests.plugins.contacts.conftest import WRITE
from tests.plugins.contacts.dictionary_writers import (
    TERMS,
    TITLES,
    WRITER_STEPS,
    Dictionary,
    play,
)


def check(dictionary: Dictionary, term: str, parts, max_ids: int) -> None:
    found = dictionary.match(term, parts)
    expected = dictionary.model(term, parts)
    if found.ids is None:
        assert len(expected) > max_ids, (term, expected)
    else:
        assert list(found.ids) == expected, term


def test_a_remembered_lookup_sees_values_added_since(dictionary):
    dictionary.add("Chief Quokka Officer")
    assert dictionary.match("quokka", dictionaries.whole).ids == (1,)
    assert matched_ids._MEMORY[dictionary.db].get(("title", ("quokka",))) is not None
    dictionary.add("Zebra Keeper")
    dictionary.add("quokka wrangler")
    check(dictionary, "quokka", dictionaries.whole, dictionaries.MAX_IDS)
    assert dictionary.match("quokka", dictionaries.whole).ids == (1, 3)


def test_a_writer_in_flight_keeps_the_horizon_below_its_id(dictionary):
    """A writer holds id 2 uncommitted while id 3 is committed: the horizon must
    not pass 2, or the lookup after the writer commits would miss it for good."""
    dictionary.add("Quokka One")
    check(dictionary, "quokka", dictionaries.whole, dictionaries.MAX_IDS)
    held = dictionary.hold("Quokka Two")  # id 2, not visible yet
    try:
        dictionary.add("Quokka Three")  # id 3, visible
        assert dictionary.match("quokka", dictionaries.whole).ids == (1, 3)
        memory = matched_ids._MEMORY[dictionary.db]
        assert memory.horizon == 1  # the lock was refused: not settled past the writer
        held.commit()
    finally:
        held.close()
    assert dictionary.match("quokka", dictionaries.whole).ids == (1, 2, 3)
    assert memory.horizon == 3


def test_a_lookup_turning_broad_is_forgotten(dictionary, monkeypatch):
    monkeypatch.setattr(dictionaries, "MAX_IDS", 2)
    dictionary.add("a1")
    assert dictionary.match("a", dictionaries.whole).ids == (1,)
    dictionary.add("a2")
    dictionary.add("a3")
    assert dictionary.match("a", dictionaries.whole).ids is None
    assert matched_ids._MEMORY[dictionary.db].get(("title", ("a",))) is None


def test_memory_is_bounded_by_ids_held(monkeypatch):
    monkeypatch.setattr(matched_ids, "MAX_IDS_HELD", 5)
    memory = matched_ids.MatchedIds()
    memory.put(("title", ("a",)), matched_ids.Entry((1, 2, 3), 3))
    memory.put(("title", ("b",)), matched_ids.Entry((4, 5), 5))
    assert memory.get(("title", ("a",))) is not None  # now the most recently used
    memory.put(("title", ("c",)), matched_ids.Entry((6,), 6))
    assert memory.get(("title", ("b",))) is None
    assert memory.get(("title", ("a",))) is not None
    assert memory._held == 4


STEPS = st.lists(
    st.one_of(
        *WRITER_STEPS,
        st.tuples(st.just("hold"), TITLES),  # more writers in flight
        st.tuples(st.just("match"), TERMS, st.sampled_from(["whole", "words"])),
    ),
    max_size=14,
)


def run_steps(dictionary: Dictionary, steps, max_ids: int, monkeypatch, span: int = 20_000) -> None:
    monkeypatch.setattr(dictionaries, "MAX_IDS", max_ids)
    monkeypatch.setattr(dictionaries, "REFRESH_SPAN", span)
    parts_of = {"whole": dictionaries.whole, "words": dictionaries.words}
    play(
        dictionary,
        steps,
        lambda term, parts, final: check(dictionary, term, parts_of[parts], max_ids),
    )


def test_remembered_lookups_match_the_model(dictionary, monkeypatch):
    @hypothesis_settings(
        max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(STEPS, st.sampled_from([1, 3, dictionaries.MAX_IDS]), st.sampled_from([1, 20_000]))
    def run(steps, max_ids, span):
        run_steps(dictionary, steps, max_ids, monkeypatch, span)

    run()


def test_shrunk_a_held_lower_id_then_a_lookup_of_everything(dictionary, monkeypatch):
    """Found by the property test against a horizon taken without the lock."""
    steps = [("hold", "a"), ("add", "b"), ("match", "", "whole"), ("commit", "")]
    run_steps(dictionary, steps, 1, monkeypatch)
    run_steps(dictionary, steps, dictionaries.MAX_IDS, monkeypatch)


async def test_a_title_written_after_a_remembered_lookup_is_found(api):
    async def found(title: str) -> list[str]:
        response = await api.get(f"/api/v1/contacts/?{urlencode({'title': title})}", headers=WRITE)
        return sorted(r["uuid"] for r in (await response.json())["results"])

    created = []
    for title in ("Chief Quokka Officer", "quokka herder"):
        response = await api.post(
            "/api/v1/contacts/",
            json={"email": f"{len(created)}@x.io", "title": title},
            headers=WRITE,
        )
        assert response.status == 201
        created.append((await response.json())["uuid"])
        assert await found("quokka") == sorted(created)  # the second: through the refresh


def test_a_role_that_cannot_lock_the_dictionary_looks_up_every_time(dictionary, settings):
    """SHARE mode needs UPDATE, DELETE or TRUNCATE on the table: a reader role
    without them gets exact lookups, never a 500."""
    role = f"reader_{uuid.uuid4().hex[:12]}"  # roles are shared by every database
    with dictionary.writer.cursor() as cur:
        cur.execute(f"CREATE ROLE {role}")
        cur.execute(f"GRANT SELECT ON contact_field_values TO {role}")
    dictionary.add("Quokka One")
    memory = matched_ids.MatchedIds()

    class ReaderDb:
        """The service's helper, as a role with SELECT only on the dictionary."""

        def __init__(self, db):
            self.db = db

        @contextlib.asynccontextmanager
        async def transaction(self):
            async with self.db.transaction() as tx:
                await tx.execute(f"SET LOCAL ROLE {role}")
                yield tx

    try:
        horizon = dictionary.loop.run_until_complete(memory.settle(ReaderDb(dictionary.db)))
        assert horizon is None
        assert dictionary.match("quokka", dictionaries.whole).ids == (1,)
    finally:
        with dictionary.writer.cursor() as cur:
            cur.execute(f"REVOKE ALL ON contact_field_values FROM {role}")
            cur.execute(f"DROP ROLE {role}")


def test_more_values_than_a_refresh_reads_are_looked_up_afresh(dictionary, monkeypatch):
    monkeypatch.setattr(dictionaries, "REFRESH_SPAN", 2)
    lookups = []
    real_lookup = dictionaries._lookup
    monkeypatch.setattr(
        dictionaries, "_lookup", lambda shape: lookups.append(shape) or real_lookup(shape)
    )
    dictionary.add("Quokka One")
    assert dictionary.match("quokka", dictionaries.whole).ids == (1,)
    held = dictionary.hold("Zebra")  # keeps the horizon at 1
    try:
        for value in ("Quokka Two", "Emu", "Quokka Three"):
            dictionary.add(value)
        assert dictionary.match("quokka", dictionaries.whole).ids == (1, 3, 5)
        assert len(lookups) == 2  # ids 3 to 5 are past 1 + REFRESH_SPAN: afresh
    finally:
        held.rollback()
        held.close()
