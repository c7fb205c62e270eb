"""The dictionary of titles with writers in every state, for the tests of
remembered lookups (test_matched_ids) and stored terms (test_stored_terms): the
service's database helper on a loop of its own, writers that commit, hold an id
uncommitted or roll back, and ``play``, which runs hypothesis' steps of them."""

import asyncio

import psycopg2
from hypothesis import strategies as st

from contacts_api.core.plugins import Plugins
from contacts_api.core.resources import open_resources
from contacts_api.plugins.contacts import dictionaries, matched_ids

ADD = "INSERT INTO contact_field_values (field, value) VALUES ('title', %s) ON CONFLICT DO NOTHING"


class Dictionary:
    """The service's database helper on a loop of its own, plus plain psycopg2
    connections writing the dictionary (one committing, others held open)."""

    def __init__(self, settings):
        self.url = settings.database.url.reveal()
        self.loop = asyncio.new_event_loop()
        self.context = open_resources(settings, Plugins.load(settings))
        self.resources = self.loop.run_until_complete(self.context.__aenter__())
        self.db = self.resources.db
        self.writer = psycopg2.connect(self.url)
        self.writer.autocommit = True

    def reset(self) -> None:
        """An empty dictionary, and a fresh memory (as a new database handle has)."""
        with self.writer.cursor() as cur:
            cur.execute("TRUNCATE contact_field_values RESTART IDENTITY CASCADE")
        matched_ids._MEMORY.clear()
        dictionaries._BROAD.clear()

    def add(self, value: str) -> None:
        with self.writer.cursor() as cur:
            cur.execute(ADD, (value,))

    def hold(self, value: str):
        """A connection that added ``value`` and has not committed yet."""
        conn = psycopg2.connect(self.url)
        with conn.cursor() as cur:
            cur.execute(ADD, (value,))
        return conn

    def match(self, term: str, parts) -> dictionaries.Matched:
        return self.loop.run_until_complete(dictionaries.match(self.db, "title", term, parts))

    def model(self, term: str, parts) -> list[int]:
        """The plain model: ids of the visible titles containing every part."""
        with self.writer.cursor() as cur:
            cur.execute("SELECT id, value FROM contact_field_values WHERE field = 'title'")
            rows = cur.fetchall()
        wanted = [p.lower() for p in parts(term)]
        return sorted(i for i, v in rows if all(p in v.lower() for p in wanted))

    def close(self) -> None:
        self.writer.close()
        self.loop.run_until_complete(self.context.__aexit__(None, None, None))
        self.loop.close()


# Small colliding vocabulary: titles and terms share letters, case, an accent and
# LIKE's special characters.
LETTERS = st.sampled_from(["a", "b", "A", "é", "É", "%", "_", " "])
TITLES = st.text(LETTERS, min_size=1, max_size=4)
TERMS = st.text(LETTERS, min_size=0, max_size=2)
# a writer's steps, for ``st.one_of(*WRITER_STEPS, <the test's own steps>)``
WRITER_STEPS = (
    st.tuples(st.just("add"), TITLES),
    st.tuples(st.just("hold"), TITLES),
    st.tuples(st.just("commit"), st.just("")),
    st.tuples(st.just("rollback"), st.just("")),
)


def play(dictionary: Dictionary, steps, check_term, settle_on: str | None = None) -> None:
    """Writer steps (``add``, ``hold``, ``commit``, ``rollback``) on an emptied
    dictionary, and ``check_term(term, parts, final=False)`` for any other step
    ``(kind, term, parts)``; then every held writer commits (and ``settle_on`` is
    added: a value to settle on, should every writer have rolled back) and each
    term is checked again with ``final=True``."""
    dictionary.reset()
    held, used, terms = [], set(), set()
    try:
        for kind, value, *rest in steps:
            if kind in ("add", "hold") and value not in used:
                used.add(value)  # a second writer of one value would wait on the first
                if kind == "add":
                    dictionary.add(value)
                else:
                    held.append(dictionary.hold(value))
            elif kind in ("commit", "rollback") and held:
                conn = held.pop(0)
                conn.commit() if kind == "commit" else conn.rollback()
                conn.close()
            elif kind not in ("add", "hold", "commit", "rollback"):
                terms.add((value, rest[0]))
                check_term(value, rest[0], False)
        for conn in held:
            conn.commit()
        held = []
        if settle_on is not None:
            dictionary.add(settle_on)
        for value, parts in sorted(terms):  # every writer has ended: nothing missed
            check_term(value, parts, True)
    finally:
        for conn in held:
            conn.close()
