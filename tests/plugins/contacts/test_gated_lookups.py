"""Remembered lookups checked within the list page's own statement
(plugins/contacts/gated_lookups.py): a page answers what a page after a fresh
lookup answers while writers add titles, hold them uncommitted (a lower id
than visible ones) or roll them back; a remembered lookup costs no statement of
its own, and a failed gate one refreshed page."""

import psycopg2
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts_api.core.app import create_app
from contacts_api.core.appkeys import FILTERS, SIGNER
from contacts_api.plugins.contacts import dictionaries, gated_lookups, service
from tests.plugins.contacts.dictionary_writers import WRITER_STEPS

INSERT = "INSERT INTO contacts (title) VALUES (%s) RETURNING uuid"
# terms without spaces (a value is not stripped here, and "" is no filter)
TERMS = st.text(st.sampled_from(["a", "b", "A", "é", "É", "%", "_"]), min_size=1, max_size=2)


class Titles:
    """Contacts with titles, written committed or held open, and list pages for
    "title contains" through the service, on the dictionary helper's loop."""

    def __init__(self, dictionary, settings):
        self.dictionary = dictionary
        self.app = create_app(settings)
        self.committed: dict[str, str] = {}  # uuid -> title
        self.held: list[tuple[psycopg2.extensions.connection, str, str]] = []

    def reset(self) -> None:
        with self.dictionary.writer.cursor() as cur:
            cur.execute("TRUNCATE contacts CASCADE")
        self.dictionary.reset()
        self.committed.clear()

    def add(self, title: str) -> None:
        with self.dictionary.writer.cursor() as cur:
            cur.execute(INSERT, (title,))
            self.committed[str(cur.fetchone()[0])] = title

    def hold(self, title: str) -> None:
        conn = psycopg2.connect(self.dictionary.url)
        with conn.cursor() as cur:
            cur.execute(INSERT, (title,))
            self.held.append((conn, str(cur.fetchone()[0]), title))

    def end_oldest(self, commit: bool) -> None:
        conn, uuid, title = self.held.pop(0)
        if commit:
            conn.commit()
            self.committed[uuid] = title
        else:
            conn.rollback()
        conn.close()

    def page(self, term: str) -> list[str]:
        applied = self.app[FILTERS].contacts.parse_mapping({"title": [term]})
        page = self.dictionary.loop.run_until_complete(
            service.list_contacts(self.dictionary.resources, self.app[SIGNER], applied, limit=100)
        )
        return sorted(r["uuid"] for r in page.results)

    def model(self, term: str) -> list[str]:
        return sorted(u for u, title in self.committed.items() if term.lower() in title.lower())

    def close(self) -> None:
        for conn, *_ in self.held:
            conn.close()


@pytest.fixture
def titles(dictionary, settings):
    titles = Titles(dictionary, settings)
    titles.reset()
    yield titles
    titles.close()


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    """The dictionary statements run before a page: ``lookup`` and ``refresh``."""
    ran = []
    for name in ("_lookup", "_refresh"):
        real = getattr(dictionaries, name)
        monkeypatch.setattr(
            dictionaries,
            name,
            lambda shape, real=real, name=name: ran.append(name.lstrip("_")) or real(shape),
        )
    return ran


def test_a_remembered_lookup_is_checked_within_the_page(titles, statements, monkeypatch):
    gated = []
    real_with_gates = gated_lookups.with_gates
    monkeypatch.setattr(
        gated_lookups, "with_gates", lambda a, g: gated.append(len(g)) or real_with_gates(a, g)
    )
    titles.add("Chief Quokka Officer")
    assert titles.page("quokka") == titles.model("quokka")
    assert statements == ["lookup"] and gated == []
    assert titles.page("quokka") == titles.model("quokka")
    assert statements == ["lookup"] and gated == [1]  # no statement of its own
    titles.add("Zebra Keeper")  # a new value the lookup does not match: the gate holds
    assert titles.page("quokka") == titles.model("quokka")
    assert statements == ["lookup"] and gated == [1, 1]
    titles.add("quokka herder")  # the gate fails: the page again, after a refresh
    assert titles.page("quokka") == titles.model("quokka") and len(titles.model("quokka")) == 2
    assert statements == ["lookup", "refresh"] and gated == [1, 1, 1]


def test_an_empty_page_is_answered_after_a_refresh(titles, statements):
    """An empty gated page cannot tell a failed gate from no match: the filters
    are prepared again without gates. The refresh found nothing new: the lookup
    did not fail and stays gated."""
    titles.add("Quokka One")  # without an email
    titles.page("quokka")
    with_email = titles.app[FILTERS].contacts.parse_mapping(
        {"title": ["quokka"], "has_email": True}
    )
    for _ in range(2):
        page = titles.dictionary.loop.run_until_complete(
            service.list_contacts(titles.dictionary.resources, titles.app[SIGNER], with_email)
        )
        assert page.results == []
    assert statements == ["lookup", "refresh", "refresh"]  # gated, empty, refreshed: twice
    assert titles.page("quokka") == titles.model("quokka")
    assert statements == ["lookup", "refresh", "refresh"]  # still gated


def test_a_gate_failing_below_an_unsettled_horizon_is_not_offered_again(titles, statements):
    """A writer in flight keeps the horizon from settling: a matching value added
    meanwhile lies past the remembered lookup's horizon for as long. Its gate
    failed once; the next pages refresh instead of failing it again."""
    titles.add("Quokka One")
    titles.page("quokka")
    titles.hold("Zebra")  # in flight: the horizon cannot settle past it
    titles.add("Quokka Two")
    for _ in range(3):
        assert titles.page("quokka") == titles.model("quokka")
    # gated, failed and refreshed; then refreshed, not gated, twice
    assert statements == ["lookup", "refresh", "refresh", "refresh"]
    titles.end_oldest(commit=True)
    titles.page("quokka")  # settles past the writer: a refresh moves the entry on
    assert titles.page("quokka") == titles.model("quokka")
    assert statements == ["lookup", "refresh", "refresh", "refresh", "refresh"]


STEPS = st.lists(
    st.one_of(
        *WRITER_STEPS,
        st.tuples(st.just("page"), TERMS),
        st.tuples(st.just("page"), TERMS),
    ),
    max_size=14,
)


def play(titles: Titles, steps) -> None:
    titles.reset()
    used, terms = set(), set()
    for kind, value in steps:
        if kind in ("add", "hold") and value not in used:
            used.add(value)  # a second writer of one value would wait on the first
            titles.add(value) if kind == "add" else titles.hold(value)
        elif kind in ("commit", "rollback") and titles.held:
            titles.end_oldest(kind == "commit")
        elif kind == "page":
            terms.add(value)
            assert titles.page(value) == titles.model(value), (value, titles.committed)
    while titles.held:
        titles.end_oldest(True)
    for term in sorted(terms):  # every writer has ended: nothing missed
        assert titles.page(term) == titles.model(term), (term, titles.committed)


def test_gated_pages_match_the_model(titles):
    @hypothesis_settings(
        max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(STEPS)
    def run(steps):
        play(titles, steps)

    run()


def test_shrunk_a_held_lower_id_committed_after_a_gated_page(titles):
    """The held title's id is below the visible one's: the horizon stays below it,
    so the gate still sees it once committed."""
    play(titles, [("hold", "a"), ("add", "ab"), ("page", "a"), ("page", "a"), ("commit", "")])
    play(titles, [("add", "b"), ("page", "b"), ("hold", "ab"), ("page", "b"), ("commit", "")])
