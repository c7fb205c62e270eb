"""Fixtures of the import tests: an app client with the write key, upload and
polling helpers, and direct reads of the database."""

import asyncio
import gc
import sys
import time
from collections.abc import Callable

import aiohttp
import psycopg2
import psycopg2.extras
import pytest

import contacts_api.core.plugins
from contacts_api.core.auth import Actor
from contacts_api.core.hookspecs import hookimpl
from tests.conftest import WRITE_KEY

SAMPLES = __import__("pathlib").Path(__file__).resolve().parent / "samples"
WRITE = {"X-Contacts-Write-Key": WRITE_KEY}


class _StandInWriteKey:
    """TEMPORARY: stands in for the built-in auth_write_key plugin while it is not
    registered in BUILTIN_PLUGINS; unused once it is."""

    @hookimpl
    def actor_from_request(self, request, resources):
        if request.headers.get("X-Contacts-Write-Key") == WRITE_KEY:
            return Actor(id="write_key", kind="write_key", role="admin", can_write_v1=True)
        return None


def extra_plugins() -> list:
    if "auth_write_key" in contacts_api.core.plugins.BUILTIN_PLUGINS:
        return []
    return [("imports_test_write_key", _StandInWriteKey())]


@pytest.fixture(autouse=True)
def gc_threshold_restored():
    """Every import test leaves the collector's thresholds as it found them: an
    import raises the first one while it runs (plugins/imports/parsing.py), and a job
    cancelled by the app's shutdown once left it raised for the process's life."""
    before = gc.get_threshold()
    yield
    assert gc.get_threshold() == before


@pytest.fixture(autouse=True)
def switch_interval_restored():
    """Every import test leaves the thread switch interval as it found it: an import
    shortens it while it runs (plugins/imports/switching.py)."""
    before = sys.getswitchinterval()
    yield
    assert sys.getswitchinterval() == before


@pytest.fixture
def import_client(make_client) -> Callable:
    """``await import_client(settings)``: a client on an app with the write key."""

    async def factory(settings):
        return await make_client(settings, extra_plugins=extra_plugins())

    return factory


async def upload(client, content: bytes, name: str = "leads.csv", field: str = "file"):
    form = aiohttp.FormData()
    form.add_field(field, content, filename=name, content_type="text/csv")
    return await client.post("/api/v1/contacts/import/", data=form, headers=WRITE)


async def start_job(client, content: bytes) -> str:
    """Upload ``content`` and return the id of the job it started (202)."""
    response = await upload(client, content)
    assert response.status == 202, await response.text()
    return (await response.json())["id"]


async def wait_job(client, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"/api/v1/contacts/import/{job_id}/", headers=WRITE)
        assert response.status == 200, await response.text()
        job = await response.json()
        if job["status"] in ("completed", "failed"):
            return job
        assert time.monotonic() < deadline, f"job still {job['status']}: {job}"
        await asyncio.sleep(0.05)


async def import_bytes(client, content: bytes, name: str = "leads.csv") -> dict:
    response = await upload(client, content, name)
    assert response.status == 202, await response.text()
    return await wait_job(client, (await response.json())["id"])


def query(settings, sql: str, params=None) -> list[dict]:
    conn = psycopg2.connect(settings.database.url.reveal())
    conn.autocommit = True
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(sql, params)
            return [dict(row) for row in cur.fetchall()] if cur.description else []
    finally:
        conn.close()


def assert_completed_with(job: dict, expected: dict) -> None:
    """The job completed with ``expected``'s created, updated and error counts."""
    assert job["status"] == "completed", job
    counts = (job["created_count"], job["updated_count"], job["error_count"])
    assert counts == (expected["created"], expected["updated"], expected["errors"]), job


def count(settings, table: str) -> int:
    return query(settings, f"SELECT count(*) AS n FROM {table}")[0]["n"]


@pytest.fixture
def memory_settings(settings_factory):
    return settings_factory(CONTACTS_API__BROKER__BACKEND="memory")


def generate_csv(rows: int, *, bad_every: int = 0, duplicate_every: int = 0) -> tuple[bytes, dict]:
    """A file of ``rows`` data rows in our layout: unique emails, ~50 companies, every
    ``bad_every``-th row an invalid email, every ``duplicate_every``-th row repeating
    the previous row's email. Returns the bytes and the exact expected counts."""
    lines = ["first_name,last_name,email,title,company,website,employees,city"]
    expected = {"created": 0, "updated": 0, "errors": 0}
    previous = None
    for n in range(1, rows + 1):
        company = n % 50
        if bad_every and n % bad_every == 0:
            email = f"broken-{n}-at-example"
            expected["errors"] += 1
        elif duplicate_every and previous and n % duplicate_every == 0:
            email = previous
            expected["updated"] += 1
        else:
            email = f"person{n}@example.com"
            expected["created"] += 1
            previous = email
        lines.append(
            f"First{n},Last{n},{email},Title {n % 37},Company {company},"
            f"company{company}.example.com,{company * 10},City {n % 11}"
        )
    return ("\n".join(lines) + "\n").encode(), expected
