"""The bulk path (issue 16, ``plugins/imports/bulk.py``): a large import defers the
secondary indexes of contacts and builds them again at its end.

- the bulk path and the batch path leave the same database for the same file
  (hypothesis files over small colliding vocabularies: case variants of one email,
  one company by domain and by name, rows with errors, empty fields, formula cells,
  quoted newlines), the job's counters and row errors included, and every index back;
- a real worker killed (SIGKILL) mid bulk load leaves the committed batches intact and
  the deferral recorded; the next worker finishes the job to exact counts and puts
  every index back;
- API reads and writes during a bulk load answer correctly, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import signal
import time

import psutil
import psycopg2
import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts_api.plugins.imports.bulk import should_bulk
from tests.plugins.imports.conftest import (
    WRITE,
    assert_completed_with,
    count,
    generate_csv,
    query,
    start_job,
    upload,
    wait_job,
)
from tests.plugins.imports.model import COLUMNS
from tests.plugins.imports.test_import_model import Importer, import_file
from tests.plugins.imports.workers import start_import_worker
from tests.plugins.imports.workers import stop_worker as _stop

# The first value of each column is the one hypothesis shrinks to.
VOCABULARY: dict[str, list[str]] = {
    "first_name": ["", "Ann", "ann", "Bob"],
    "last_name": ["", "One", "ONE"],
    "email": ["", "ann@x.com", "ANN@X.com ", "bob@y.org", "not-an-email"],
    "title": ["", "CEO", '=HYPERLINK("http://x")', "+cmd"],
    "city": ["", "Paris", "Oslo\nNorth", 'Rome "old"'],
    "stage": ["", "Cold", "Warm"],
    "employees": ["", "10", "-3", "many"],
    "industry": ["", "software", "Software, Retail"],
    "company_phone": ["", "+1 1", "@sum"],
}
COMPANIES: list[tuple[list[str], list[str]]] = [
    ([""], [""]),
    (["Acme", "ACME"], ["acme.com", "www.acme.com", ""]),
    (["Acme"], ["acme.de"]),
    (["Blue Fox"], [""]),
]
# The bulk path as early as possible: decided after the first batch of two rows.
BULK = {
    "CONTACTS_API__IMPORTS__BATCH_SIZE": "2",
    "CONTACTS_API__IMPORTS__BULK_MIN_ROWS": "1",
    "CONTACTS_API__IMPORTS__BULK_FRACTION": "0",
    "CONTACTS_API__IMPORTS__BULK_PROBE_ROWS": "1",
}
BATCH = {"CONTACTS_API__IMPORTS__BATCH_SIZE": "2", "CONTACTS_API__IMPORTS__BULK_MIN_ROWS": "0"}

_INDEXES = """SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename = 'contacts' ORDER BY indexname"""


def indexes(settings) -> list[tuple[str, str]]:
    return [(row["indexname"], row["indexdef"]) for row in query(settings, _INDEXES)]


@pytest.fixture
def keep_indexes(settings_factory):
    """Whatever a test does, the shared test database gets every index of contacts
    back (a test killed mid bulk load would leave them dropped for the next ones)."""
    settings = settings_factory()
    before = indexes(settings)
    yield before
    present = {name for name, _ in indexes(settings)}
    for name, definition in before:
        if name not in present:
            query(settings, definition)
    query(settings, "DELETE FROM import_deferred_indexes; DELETE FROM import_bulk_loads")


# -- the decision ------------------------------------------------------------------------


def test_should_bulk_weighs_the_expected_new_rows_against_the_table():
    common = {"min_rows": 1000, "fraction": 0.5}
    assert should_bulk(written=1000, created=1000, remaining=9000, table=0, **common)
    assert should_bulk(written=1000, created=1000, remaining=9000, table=18_000, **common)
    assert not should_bulk(written=1000, created=1000, remaining=9000, table=18_001, **common)
    # a re-import creates nothing: never a bulk load, whatever its size
    assert not should_bulk(written=1000, created=0, remaining=10**7, table=0, **common)
    assert not should_bulk(written=1000, created=100, remaining=9000, table=0, **common)
    assert not should_bulk(written=0, created=0, remaining=9000, table=0, **common)
    assert not should_bulk(written=10, created=10, remaining=0, table=0, **common)


# -- bulk path == batch path ------------------------------------------------------------


@st.composite
def rows(draw) -> dict[str, str]:
    row = {column: draw(st.sampled_from(values)) for column, values in VOCABULARY.items()}
    names, websites = draw(st.sampled_from(COMPANIES))
    row["company"] = draw(st.sampled_from(names))
    row["website"] = draw(st.sampled_from(websites))
    return row


@st.composite
def files(draw) -> list[dict[str, str]]:
    drawn = draw(st.lists(rows(), min_size=1, max_size=12))
    repeats = draw(
        st.lists(st.tuples(st.integers(0, len(drawn) - 1), st.integers(0, len(drawn))), max_size=3)
    )
    for source, position in repeats:
        drawn.insert(position, dict(drawn[source]))
    return drawn


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _rows(text: str) -> list[dict[str, str]]:
    return [
        {column: row.get(column, "") for column in COLUMNS}
        for row in csv.DictReader(io.StringIO(text.strip() + "\n"))
    ]


# Every column but ids and timestamps; owners by their natural keys.
_COMPANY_SNAPSHOT = """SELECT to_jsonb(co) - 'uuid' - 'created_at' - 'updated_at'
        || jsonb_build_object('metadata', to_jsonb(m) - 'company_uuid') AS row
    FROM companies co LEFT JOIN company_metadata m ON m.company_uuid = co.uuid"""
_CONTACT_SNAPSHOT = """SELECT to_jsonb(c) - 'uuid' - 'created_at' - 'updated_at' - 'company_uuid'
        || jsonb_build_object('metadata', to_jsonb(m) - 'contact_uuid',
                              'company', co.name, 'company_domain', co.domain) AS row
    FROM contacts c LEFT JOIN contact_metadata m ON m.contact_uuid = c.uuid
    LEFT JOIN companies co ON co.uuid = c.company_uuid"""
_ERRORS = "SELECT row_number, message, row FROM import_errors ORDER BY row_number"


def database(settings) -> dict:
    def rows_of(sql):
        return sorted(repr(sorted(row["row"].items())) for row in query(settings, sql))

    return {
        "companies": rows_of(_COMPANY_SNAPSHOT),
        "contacts": rows_of(_CONTACT_SNAPSHOT),
        "errors": [tuple(row.values()) for row in query(settings, _ERRORS)],
    }


def _empty(settings) -> None:
    query(
        settings,
        "DELETE FROM contact_metadata; DELETE FROM company_metadata; DELETE FROM contacts;"
        " DELETE FROM companies; DELETE FROM import_errors; DELETE FROM import_jobs",
    )


class Both:
    """A batch-path importer and a bulk-path one on the same database."""

    def __init__(self, settings_factory, **bulk_env: str):
        self.batch = Importer(settings_factory(**BATCH))
        self.bulk = Importer(settings_factory(**{**BULK, **bulk_env}))
        self.seed: str | None = None  # SQL run on the emptied database before each import
        self.settings = self.batch.settings

    def close(self) -> None:
        self.batch.close()
        self.bulk.close()

    def run(self, importer: Importer, content: bytes) -> tuple[tuple, dict]:
        _empty(self.settings)
        if self.seed:
            query(self.settings, self.seed)
        job = importer.loop.run_until_complete(import_file(importer.resources, content))
        assert (job["status"], job["error"]) == ("completed", None), job
        counts = (job["created_count"], job["updated_count"], job["error_count"])
        return counts, database(self.settings)

    def check(self, rows: list[dict[str, str]], indexes_before) -> None:
        content = to_csv(rows)
        expected = self.run(self.batch, content)
        assert self.run(self.bulk, content) == expected
        assert indexes(self.settings) == indexes_before  # every index is back
        assert count(self.settings, "import_deferred_indexes") == 0
        assert count(self.settings, "import_bulk_loads") == 0


@pytest.fixture
def both(settings_factory, keep_indexes):
    both = Both(settings_factory)
    yield both
    both.close()


def test_the_bulk_path_and_the_batch_path_give_the_same_database(both, keep_indexes):
    @hypothesis_settings(
        deadline=None,
        database=None,
        max_examples=25,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(files())
    def check(rows):
        both.check(rows, keep_indexes)

    check()


_SAMPLE = (
    "first_name,last_name,email,title,city,company,website,employees\n"
    "Ann,One,ann@x.com,CEO,Paris,Acme,acme.com,10\n"
    "Bob,,bob@y.org,,,ACME,,\n"
    'ann,ONE,ANN@X.com ,=HYPERLINK("http://x"),"Oslo\nNorth",Acme,,\n'
    "Cy,,not-an-email,,,,,\n"
    "Ann,One,,,,Blue Fox,,-3\n"
    "ann,one,,+cmd,,Blue Fox,,"
)


_OLDER_CONTACT = "INSERT INTO contacts (email, first_name) VALUES ('older@z.net', 'Old')"


def test_a_bulk_load_runs_and_gives_the_batch_path_s_database(both, keep_indexes, caplog):
    """The case variants of one email across batches, one company by domain then by
    name, an error row, a formula cell and a quoted newline: loaded in bulk. The table
    is young (empty): the indexes come back plainly, on two connections at once."""
    both.seed = _OLDER_CONTACT  # not empty: decided after the probe rows
    with caplog.at_level(logging.INFO, logger="contacts_api.imports"):
        both.check(_rows(_SAMPLE), keep_indexes)
    assert "loading in bulk (rebuild plainly)" in caplog.text
    assert "deferred index(es) again" in caplog.text
    assert "concurrently in" not in caplog.text
    threads = {record.threadName for record in caplog.records if "rebuilt index" in record.msg}
    assert len(threads) == 2  # the default bulk_rebuild_connections


def test_a_large_file_into_an_empty_table_loads_in_bulk_from_its_first_row(
    settings_factory, keep_indexes, caplog
):
    """Into an empty table, a file of at least bulk_min_rows rows defers the indexes
    before its first batch (no probe rows written with every index); the database is
    the batch path's, and the indexes come back plainly."""
    both = Both(
        settings_factory,
        CONTACTS_API__IMPORTS__BULK_MIN_ROWS="3",  # the sample has 6 rows
        CONTACTS_API__IMPORTS__BULK_PROBE_ROWS="1000000",  # the probe never decides
    )
    try:
        with caplog.at_level(logging.INFO, logger="contacts_api.imports"):
            both.check(_rows(_SAMPLE), keep_indexes)
    finally:
        both.close()
    assert "large, into an empty table; loading in bulk" in caplog.text
    assert "deferred index(es) again" in caplog.text
    assert "concurrently in" not in caplog.text


def test_a_bulk_load_on_an_older_table_rebuilds_concurrently(
    settings_factory, keep_indexes, caplog
):
    """A table bigger than bulk_plain_rebuild_max_rows at the load's start gets its
    indexes back with CREATE INDEX CONCURRENTLY (API writes go on), one by one; the
    database is the batch path's all the same."""
    both = Both(settings_factory, CONTACTS_API__IMPORTS__BULK_PLAIN_REBUILD_MAX_ROWS="-1")
    both.seed = _OLDER_CONTACT  # not empty: decided after the probe rows
    try:
        with caplog.at_level(logging.INFO, logger="contacts_api.imports"):
            both.check(_rows(_SAMPLE), keep_indexes)
    finally:
        both.close()
    assert "loading in bulk (rebuild concurrently)" in caplog.text
    assert "into an empty table" not in caplog.text
    rebuilt = [record.getMessage() for record in caplog.records if "rebuilt index" in record.msg]
    assert rebuilt and all(" concurrently in " in message for message in rebuilt)


# -- a killed worker, reads and writes during a load --------------------------------------


def _bulk_worker_settings(settings_factory):
    return settings_factory(
        CONTACTS_API__BROKER__BACKEND="redis",
        CONTACTS_API__BROKER__REDELIVERY_IDLE_S="1",
        CONTACTS_API__IMPORTS__LEASE_S="2",
        CONTACTS_API__IMPORTS__BATCH_SIZE="100",
        CONTACTS_API__IMPORTS__BULK_MIN_ROWS="1000",
        CONTACTS_API__IMPORTS__BULK_FRACTION="0.5",
        CONTACTS_API__IMPORTS__BULK_PROBE_ROWS="300",
        # rows normalized in a parsing process too, as a large file's are
        CONTACTS_API__IMPORTS__PARSE_MIN_ROWS="1",
        CONTACTS_API__IMPORTS__PARSE_PROCESSES="1",
    )


def _bulk_worker(settings, log_path, **env: str):
    """A real ``contacts-api worker --queue imports`` with the bulk settings (``env``
    overrides)."""
    imports = settings.imports
    return start_import_worker(
        settings,
        log_path,
        **{
            "CONTACTS_API__BROKER__REDELIVERY_IDLE_S": "1",
            "CONTACTS_API__IMPORTS__BULK_MIN_ROWS": str(imports.bulk_min_rows),
            "CONTACTS_API__IMPORTS__BULK_FRACTION": str(imports.bulk_fraction),
            "CONTACTS_API__IMPORTS__BULK_PROBE_ROWS": str(imports.bulk_probe_rows),
            "CONTACTS_API__IMPORTS__PARSE_MIN_ROWS": str(imports.parse_min_rows),
            "CONTACTS_API__IMPORTS__PARSE_PROCESSES": str(imports.parse_processes),
            **env,
        },
    )


async def _wait_for_bulk(settings, job_id: str, below_row: int, past_row: int = -1) -> dict:
    """Wait until the job loads in bulk (its indexes dropped) and has committed rows
    past ``past_row``, still before ``below_row``; return the job."""
    deadline = time.monotonic() + 60
    while True:
        job = query(
            settings,
            "SELECT j.*, (SELECT count(*) FROM import_deferred_indexes) AS deferred,"
            " EXISTS (SELECT 1 FROM import_bulk_loads b WHERE b.job_id = j.id) AS bulk"
            " FROM import_jobs j WHERE j.id = %s",
            (job_id,),
        )[0]
        dropped = job["bulk"] and job["deferred"] and not _present(settings)
        if dropped and past_row < job["resume_row"] < below_row:
            return job
        assert job["resume_row"] < below_row and time.monotonic() < deadline, job
        await asyncio.sleep(0.005)


def _present(settings) -> list[str]:
    """Deferred indexes still present (dropped one by one after being recorded)."""
    return [
        row["index_name"]
        for row in query(
            settings,
            "SELECT index_name FROM import_deferred_indexes d"
            " JOIN pg_indexes i ON i.indexname = d.index_name",
        )
    ]


async def test_a_bulk_load_killed_mid_way_resumes_to_exact_counts_and_indexes(
    import_client, settings_factory, keep_indexes, tmp_path
):
    settings = _bulk_worker_settings(settings_factory)
    content, expected = generate_csv(8000, bad_every=97, duplicate_every=13)
    client = await import_client(settings)
    first = _bulk_worker(settings, tmp_path / "first.log")
    second = None
    try:
        job_id = await start_job(client, content)
        # (into an empty table, a bulk load from the first row: wait for a batch)
        await _wait_for_bulk(settings, job_id, below_row=5000, past_row=0)
        parsers = psutil.Process(first.pid).children(recursive=True)
        assert parsers  # the parsing process (and multiprocessing's resource tracker)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        # the parsing processes do not outlive their worker
        _, alive = psutil.wait_procs(parsers, timeout=20)
        assert alive == []

        stopped = query(settings, "SELECT * FROM import_jobs WHERE id = %s", (job_id,))[0]
        assert stopped["status"] == "processing"
        assert 0 < stopped["resume_row"] < 8000
        # the data: exactly the committed batches, no row twice
        assert count(settings, "contacts") == stopped["created_count"]
        assert count(settings, "import_errors") == stopped["error_count"]
        assert (
            query(settings, "SELECT email FROM contacts GROUP BY email HAVING count(*) > 1") == []
        )
        # the deferral is recorded, to finish and to put the indexes back
        deferred = {
            row["index_name"]
            for row in query(settings, "SELECT index_name FROM import_deferred_indexes")
        }
        assert deferred and not deferred & {name for name, _ in indexes(settings)}
        assert count(settings, "import_bulk_loads") == 1

        second = _bulk_worker(settings, tmp_path / "second.log")
        done = await wait_job(client, job_id, timeout=120)
        assert_completed_with(done, expected)
        assert done["total_rows"] == done["processed_rows"] == 8000
        assert count(settings, "contacts") == expected["created"]
        assert count(settings, "import_errors") == expected["errors"]
        assert indexes(settings) == keep_indexes
        assert count(settings, "import_deferred_indexes") == 0
        assert count(settings, "import_bulk_loads") == 0
        log = (tmp_path / "second.log").read_text()
        assert f"import {job_id}: started by " in log
        assert "deferred index(es) again" in log
    finally:
        _stop(first)
        _stop(second)


async def test_a_bulk_load_whose_task_the_queue_lost_is_kicked_again_and_completes(
    import_client, settings_factory, keep_indexes, tmp_path
):
    """A Redis restarted without persistence loses the task of a job whose worker
    died: no redelivery can come. The next worker's sweep (``core.recovery``) finds the
    job idle and in no queue, kicks it again, and the load finishes with every index
    back."""
    settings = _bulk_worker_settings(settings_factory)
    content, expected = generate_csv(4000, bad_every=97, duplicate_every=13)
    client = await import_client(settings)
    first = _bulk_worker(settings, tmp_path / "first.log")
    second = None
    try:
        job_id = await start_job(client, content)
        await _wait_for_bulk(settings, job_id, below_row=3000, past_row=0)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        redis = aioredis.from_url(settings.redis.url.reveal())
        try:  # what a restart of a Redis without persistence leaves: no queue at all
            assert await redis.delete(f"{settings.redis.key_prefix}:queue:imports") == 1
        finally:
            await redis.aclose()

        second = _bulk_worker(
            settings,
            tmp_path / "second.log",
            # no redelivery could save it within the test's time
            CONTACTS_API__BROKER__REDELIVERY_IDLE_S="600",
            CONTACTS_API__IMPORTS__RECOVER_LOST_S="1",
        )
        done = await wait_job(client, job_id, timeout=120)
        assert_completed_with(done, expected)
        assert count(settings, "contacts") == expected["created"]
        assert indexes(settings) == keep_indexes
        assert count(settings, "import_deferred_indexes") == 0
        assert count(settings, "import_bulk_loads") == 0
        log = (tmp_path / "second.log").read_text()
        assert f"imports.run {job_id}: its task was in no queue; kicked again" in log
        assert log.count("kicked again") == 1  # kicked once: the next sweeps see it queued
    finally:
        _stop(first)
        _stop(second)


async def test_api_reads_and_writes_answer_during_a_bulk_load(
    import_client, settings_factory, keep_indexes, tmp_path
):
    settings = _bulk_worker_settings(settings_factory)
    content, expected = generate_csv(8000)
    client = await import_client(settings)
    worker = _bulk_worker(settings, tmp_path / "worker.log")
    try:
        response = await upload(client, content)
        job_id = (await response.json())["id"]
        await _wait_for_bulk(settings, job_id, below_row=6000, past_row=0)

        # writes go through: a new contact, then a change to it and to an imported one
        created = await client.post(
            "/api/v1/contacts/",
            json={"email": "during@bulk.example", "title": "Bulk Watcher", "first_name": "D"},
            headers=WRITE,
        )
        assert created.status == 201, await created.text()
        during = await created.json()
        patched = await client.patch(
            f"/api/v1/contacts/{during['uuid']}/", json={"city": "Lyon"}, headers=WRITE
        )
        assert patched.status == 200, await patched.text()
        first_uuid = query(
            settings, "SELECT uuid FROM contacts WHERE email = 'person1@example.com'"
        )[0]["uuid"]
        changed = await client.patch(
            f"/api/v1/contacts/{first_uuid}/", json={"metadata": {"stage": "Hot"}}, headers=WRITE
        )
        assert changed.status == 200, await changed.text()
        refused = await client.post(
            "/api/v1/contacts/", json={"email": "PERSON1@example.com"}, headers=WRITE
        )
        assert refused.status == 409  # emails stay unique: that index is never deferred

        # reads answer, filters included (served without their indexes, by a scan)
        page = await client.get("/api/v1/contacts/?title=bulk watcher", headers=WRITE)
        assert page.status == 200, await page.text()
        assert [c["email"] for c in (await page.json())["results"]] == ["during@bulk.example"]
        counted = await client.get("/api/v1/contacts/count/?search=First1", headers=WRITE)
        assert counted.status == 200 and (await counted.json())["count"] >= 1
        one = await client.get(f"/api/v1/contacts/{during['uuid']}/", headers=WRITE)
        assert (await one.json())["city"] == "Lyon"
        assert query(settings, "SELECT 1 AS one FROM import_bulk_loads")  # still loading

        done = await wait_job(client, job_id, timeout=120)
        assert done["status"] == "completed", done
        assert done["created_count"] == expected["created"]
        assert count(settings, "contacts") == expected["created"] + 1  # nothing lost
        kept = query(
            settings,
            "SELECT c.city, (SELECT m.stage FROM contact_metadata m"
            " WHERE m.contact_uuid = c2.uuid) AS stage FROM contacts c, contacts c2"
            " WHERE c.email = 'during@bulk.example' AND c2.email = 'person1@example.com'",
        )
        assert kept == [{"city": "Lyon", "stage": "Hot"}]
        assert indexes(settings) == keep_indexes
        page = await client.get("/api/v1/contacts/?title=bulk watcher", headers=WRITE)
        assert [c["email"] for c in (await page.json())["results"]] == ["during@bulk.example"]
    finally:
        _stop(worker)


_WAITING_BUILDS = """SELECT count(*) AS n FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
        AND query LIKE 'CREATE INDEX IF NOT EXISTS %%'"""


async def test_a_worker_killed_mid_plain_rebuild_resumes_and_builds_every_index(
    import_client, settings_factory, keep_indexes, tmp_path
):
    """A young table's rebuild (plain CREATE INDEX on two connections) killed with its
    worker: no index is left half-built, the records stay, and the resumed job builds
    every index (the orphaned builds, if they finish, do not make it fail)."""
    settings = _bulk_worker_settings(settings_factory)
    content, expected = generate_csv(3000, bad_every=97, duplicate_every=13)
    client = await import_client(settings)
    first = _bulk_worker(settings, tmp_path / "first.log")
    second = None
    blocker = psycopg2.connect(settings.database.url.reveal())
    try:
        response = await upload(client, content)
        job_id = (await response.json())["id"]
        await _wait_for_bulk(settings, job_id, below_row=2500)
        # An API-like writer's lock (ROW EXCLUSIVE) holds the plain builds (SHARE)
        # back, not the batches: the job reaches its rebuild and waits there.
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE contacts IN ROW EXCLUSIVE MODE")
        deadline = time.monotonic() + 60
        while query(settings, _WAITING_BUILDS)[0]["n"] < 2:  # both connections building
            assert time.monotonic() < deadline, (tmp_path / "first.log").read_text()
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)

        stopped = query(settings, "SELECT * FROM import_jobs WHERE id = %s", (job_id,))[0]
        assert (stopped["status"], stopped["resume_row"]) == ("processing", 3000)
        assert count(settings, "contacts") == expected["created"]
        assert count(settings, "import_bulk_loads") == 0  # the load is over, not its rebuild
        records = query(settings, "SELECT rebuild_plainly FROM import_deferred_indexes")
        assert records and all(row["rebuild_plainly"] for row in records)
        blocker.rollback()  # the orphaned builds may now run, and race the resumed job

        second = _bulk_worker(settings, tmp_path / "second.log")
        done = await wait_job(client, job_id, timeout=120)
        assert_completed_with(done, expected)
        assert count(settings, "contacts") == expected["created"]
        assert indexes(settings) == keep_indexes
        invalid = query(
            settings, "SELECT count(*) AS n FROM pg_index WHERE NOT indisvalid OR NOT indisready"
        )
        assert invalid == [{"n": 0}]
        assert count(settings, "import_deferred_indexes") == 0
        assert "deferred index(es) again" in (tmp_path / "second.log").read_text()
    finally:
        blocker.close()
        _stop(first)
        _stop(second)
