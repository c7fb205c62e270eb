"""Parallel batch writers (plugins/imports/pipeline.py, issue 16): the scheduler's rules
on stand-in batches, then on the real database: batches of one import written side by
side, and an earlier batch rolled back under a later one that ran beside it.

The row-by-row model's property tests (test_import_model.py) run with two writers
and with one: the result of an import never depends on how many batches were in
flight."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from contacts_api.plugins.imports.pipeline import Flight, WritePipeline
from contacts_api.plugins.imports.upsert import Batch, CompanyWrites
from tests.plugins.imports.conftest import count, import_bytes, query

# --- the scheduler, on stand-in batches ----------------------------------------------


def _batch(start: int, emails=(), domains=(), names=()) -> Batch:
    batch = Batch(start_row=start, end_row=start + 10)
    batch.params.update(
        email_keys=frozenset(emails), domain_keys=frozenset(domains), name_keys=frozenset(names)
    )
    return batch


class _Writes:
    """A stand-in for the task's write: announces the batch's company writes, holds
    the batch ``hold_s``, and records which batches were being written at once."""

    def __init__(self, writes: dict[int, CompanyWrites] | None = None, hold_s: float = 0.05):
        self.writes = writes or {}
        self.hold_s = hold_s
        self.active: set[int] = set()
        self.most_at_once = 0
        self.events: list[tuple[str, int]] = []
        self.fail: set[int] = set()

    async def __call__(self, flight: Flight) -> None:
        start = flight.batch.start_row  # type: ignore[union-attr]
        self.events.append(("begin", start))
        self.active.add(start)
        self.most_at_once = max(self.most_at_once, len(self.active))
        try:
            flight.on_companies(self.writes.get(start, CompanyWrites()))
            await asyncio.sleep(self.hold_s)
            if start in self.fail:
                raise RuntimeError(f"batch {start} failed")
        finally:
            self.active.discard(start)
            self.events.append(("end", start))


async def _run(writers: int, batches: list[Batch], write: _Writes) -> WritePipeline:
    pipeline = WritePipeline(writers, "job", write)
    for batch in batches:
        await pipeline.submit(batch)
    await pipeline.drain()
    return pipeline


async def test_independent_batches_are_written_two_at_a_time():
    write = _Writes()
    batches = [_batch(n * 10, emails=[f"p{n}@x.com"]) for n in range(6)]
    pipeline = await _run(2, batches, write)
    assert write.most_at_once == 2
    assert (pipeline.batches, pipeline.waited) == (6, 0)
    # submit() returns once the oldest landed: at least every other batch begins
    # beside the one before it
    assert pipeline.beside >= 3


async def test_one_writer_writes_one_batch_at_a_time():
    write = _Writes()
    pipeline = await _run(1, [_batch(n * 10) for n in range(4)], write)
    assert write.most_at_once == 1
    assert pipeline.beside == 0


async def test_a_batch_sharing_an_email_begins_after_the_earlier_one_ends():
    write = _Writes()
    await _run(2, [_batch(0, emails=["a@x.com"]), _batch(10, emails=["a@x.com"])], write)
    assert write.events == [("begin", 0), ("end", 0), ("begin", 10), ("end", 10)]


async def test_a_batch_looking_up_a_company_the_earlier_one_wrote_waits_for_it():
    write = _Writes({0: CompanyWrites({"acme.com"}, {"acme"})})
    by_domain = [_batch(0, domains=["acme.com"]), _batch(10, domains=["acme.com"])]
    await _run(2, by_domain, write)
    assert write.most_at_once == 1
    write = _Writes({0: CompanyWrites({"acme.com"}, {"acme"})})
    by_name = [_batch(0, domains=["acme.com"]), _batch(10, names=["acme"])]
    await _run(2, by_name, write)
    assert write.most_at_once == 1


async def test_a_company_the_earlier_batch_only_read_does_not_hold_the_next_one():
    write = _Writes({0: CompanyWrites({"other.com"}, set())})
    await _run(2, [_batch(0, domains=["acme.com"]), _batch(10, domains=["acme.com"])], write)
    assert write.most_at_once == 2


async def test_a_batch_begins_once_the_earlier_one_wrote_its_companies():
    """Companies are written in file order: the stand-in announces them at once, so
    the second batch begins after the first began, never before."""
    write = _Writes()
    await _run(2, [_batch(0), _batch(10)], write)
    assert write.events.index(("begin", 0)) < write.events.index(("begin", 10))


async def test_a_failed_batch_fails_the_import_and_cancels_the_others():
    write = _Writes(hold_s=0.2)
    write.fail.add(0)
    pipeline = WritePipeline(2, "job", write)
    with pytest.raises(RuntimeError, match="batch 0 failed"):
        for start in (0, 10, 20):
            await pipeline.submit(_batch(start))
        await pipeline.drain()
    assert pipeline.flights == []
    assert ("begin", 20) not in write.events  # never began
    assert write.active == set()  # batch 10 was cancelled mid-write


async def test_a_landed_batch_lets_go_of_its_rows():
    """A flight keeps the earlier ones it waits for; once landed, it drops them and
    its batch, so a long import never holds a chain of every batch read."""
    write = _Writes()
    pipeline = WritePipeline(2, "job", write)
    await pipeline.submit(_batch(0))
    first = pipeline.flights[0]
    await pipeline.submit(_batch(10))
    await pipeline.drain()
    assert (first.batch, first.earlier) == (None, ())


# --- the real database -------------------------------------------------------------


@pytest.fixture
def probe(settings):
    """``probe(body)``: a BEFORE INSERT trigger on contacts running the PL/pgSQL
    ``body`` (NEW is the row), with three sequences it may use as counters and flags
    that transactions do not undo (SEQ_A, SEQ_B, SEQ_C in ``body``; ``<name>_a`` ...
    outside). Dropped afterwards (the database is shared by the whole run); answers
    the name."""
    name = f"pipeline_{uuid.uuid4().hex[:8]}"

    def install(body: str) -> str:
        query(
            settings,
            f"""
            CREATE SEQUENCE {name}_a; CREATE SEQUENCE {name}_b; CREATE SEQUENCE {name}_c;
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {
                body.replace("SEQ_", f"{name}_")
                .replace(f"{name}_A", f"{name}_a")
                .replace(f"{name}_B", f"{name}_b")
                .replace(f"{name}_C", f"{name}_c")
            }
            RETURN NEW; END $$;
            CREATE TRIGGER {name} BEFORE INSERT ON contacts
                FOR EACH ROW EXECUTE FUNCTION {name}();""",
        )
        return name

    yield install
    query(
        settings,
        f"""DROP TRIGGER IF EXISTS {name} ON contacts; DROP FUNCTION IF EXISTS {name}();
            DROP SEQUENCE IF EXISTS {name}_a, {name}_b, {name}_c""",
    )


def _rows_without_companies(rows: int, marks: dict[int, str]) -> bytes:
    """``rows`` new contacts without a company, each batch of 50 with its own title (so
    no batch waits for another: a new dictionary value two batches write is written by
    the second once the first committed), the rows of ``marks`` (1-based) replaced
    by the given cells."""
    lines = ["first_name,last_name,email,title,city"]
    for n in range(1, rows + 1):
        cells = f"P{n},Q{n},person{n}@example.com,Title {(n - 1) // 50},Oslo"
        lines.append(marks.get(n, cells))
    return ("\n".join(lines) + "\n").encode()


def _batches_of_50(settings_factory, writers: int):
    return settings_factory(
        CONTACTS_API__IMPORTS__BATCH_SIZE="50", CONTACTS_API__IMPORTS__WRITERS=str(writers)
    )


def _sequence(settings, name: str) -> tuple[int, bool]:
    row = query(settings, f"SELECT last_value, is_called FROM {name}")[0]
    return row["last_value"], row["is_called"]


@pytest.mark.parametrize("writers", [1, 2])
async def test_batches_of_one_import_are_written_side_by_side(
    import_client, settings_factory, probe, writers
):
    """The second batch's rows go in while the first batch's statement is still
    running (held by the trigger on its first row until they do, 4 s at most: rows
    go in by email) with two writers; never with one. Done first, the second batch
    waits for the first in the database: it is written once."""
    settings = _batches_of_50(settings_factory, writers)
    name = probe("""
        IF NEW.email = 'a-slow@example.com' THEN
            -- held until the second batch's row went in (4 s at most: with one
            -- writer it cannot): a loaded machine may take a while to begin it
            PERFORM setval('SEQ_A', 2);
            FOR i IN 1..80 LOOP
                EXIT WHEN (SELECT is_called FROM SEQ_C);
                PERFORM pg_sleep(0.05);
            END LOOP;
            PERFORM setval('SEQ_A', 1);
        ELSIF NEW.email = 'z-beside@example.com' THEN
            IF (SELECT last_value FROM SEQ_A) = 2 THEN PERFORM setval('SEQ_B', 7); END IF;
            PERFORM nextval('SEQ_C');
        END IF;""")
    client = await import_client(settings)
    content = _rows_without_companies(
        120,
        {1: "S,S,a-slow@example.com,Title 0,Oslo", 60: "B,B,z-beside@example.com,Title 1,Oslo"},
    )
    job = await import_bytes(client, content)
    assert (job["status"], job["created_count"], job["error_count"]) == ("completed", 120, 0)
    assert count(settings, "contacts") == 120
    assert (_sequence(settings, f"{name}_b") == (7, True)) is (writers == 2)
    assert _sequence(settings, f"{name}_c") == (1, True)


async def test_a_batch_beside_one_whose_rows_were_refused_is_written_again(
    import_client, settings_factory, probe
):
    """The database refuses a row of the first batch after the second began beside
    it: the first is written again in halves (what it announced of its companies no
    longer holds), so the second is written again after it. One row error, the rest
    exact."""
    settings = _batches_of_50(settings_factory, writers=2)
    name = probe("""
        IF NEW.email = 'refused@example.com' THEN
            PERFORM pg_sleep(0.5);
            RAISE EXCEPTION 'not this one';
        ELSIF NEW.email = 'beside@example.com' THEN
            PERFORM nextval('SEQ_C');
        END IF;""")
    client = await import_client(settings)
    content = _rows_without_companies(
        100,
        {10: "R,R,refused@example.com,Title 0,Oslo", 70: "B,B,beside@example.com,Title 1,Oslo"},
    )
    job = await import_bytes(client, content)
    assert (job["status"], job["created_count"], job["error_count"]) == ("completed", 99, 1)
    assert count(settings, "contacts") == 99
    assert _sequence(settings, f"{name}_c") == (2, True)


async def test_an_earlier_batch_rolled_back_under_a_later_one_gives_the_serial_result(
    import_client, settings_factory, probe
):
    """The first batch loses a deadlock once, after the second began beside it: the
    second waits for it in the database, finds it rolled back, rolls back too, and is
    written again once the first has committed. Counts and rows are exact, and a
    contact without email of both batches takes the second's values (file order)."""
    settings = _batches_of_50(settings_factory, writers=2)
    name = probe("""
        IF NEW.email = 'fails@example.com' THEN
            PERFORM pg_sleep(0.7);
            IF nextval('SEQ_A') = 1 THEN
                RAISE EXCEPTION 'injected' USING ERRCODE = '40P01';
            END IF;
        ELSIF NEW.email = 'beside@example.com' THEN
            PERFORM nextval('SEQ_B');
        END IF;""")
    client = await import_client(settings)
    content = _rows_without_companies(
        150,
        {
            10: "F,F,fails@example.com,Title 0,Oslo",
            20: "Ann,Lee,,Title 0,Paris",
            70: "B,B,beside@example.com,Title 1,Oslo",
            80: "Ann,Lee,,Title 1,Rome",
        },
    )
    job = await import_bytes(client, content)
    assert (job["status"], job["created_count"], job["updated_count"]) == ("completed", 149, 1)
    assert count(settings, "contacts") == 149
    assert _sequence(settings, f"{name}_a")[0] == 2  # the first batch: written twice
    assert _sequence(settings, f"{name}_b")[0] == 2  # the second: written again after it
    rows = query(settings, "SELECT title, city FROM contacts WHERE last_name = 'Lee'")
    assert rows == [{"title": "Title 1", "city": "Rome"}]
