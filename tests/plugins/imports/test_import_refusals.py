"""No batch kills a job (issue 13): rows the database refuses are found by splitting
their batch, recorded as row errors with the database's message, and everything else
is written; a job that does fail says why, and the log has the traceback."""

import logging
import uuid

import pytest

from contacts_api.core.appkeys import RESOURCES
from contacts_api.plugins.imports import repository as repo
from contacts_api.plugins.imports.tasks import run_import
from tests.plugins.imports.conftest import WRITE, count, generate_csv, import_bytes, query

REFUSED_EMAIL = "person2345@example.com"


@pytest.fixture
def refusing_trigger(settings):
    """A trigger on contacts that raises for one email (dropped afterwards: the
    database is shared by the whole run)."""
    name = f"refuse_{uuid.uuid4().hex[:8]}"
    query(
        settings,
        f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.email = '{REFUSED_EMAIL}' THEN
                RAISE EXCEPTION 'no import for %', NEW.email;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON contacts
            FOR EACH ROW EXECUTE FUNCTION {name}();""",
    )
    yield
    query(settings, f"DROP TRIGGER {name} ON contacts; DROP FUNCTION {name}();")


@pytest.mark.parametrize("batch_size", ["2000", "700"])
async def test_a_row_the_database_refuses_is_an_error_and_the_rest_is_written(
    import_client, settings_factory, refusing_trigger, batch_size
):
    settings = settings_factory(CONTACTS_API__IMPORTS__BATCH_SIZE=batch_size)
    client = await import_client(settings)
    content, expected = generate_csv(5000)
    job = await import_bytes(client, content)
    assert (job["status"], job["error"]) == ("completed", None), job
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (4999, 0, 1)
    assert job["total_rows"] == job["processed_rows"] == 5000
    errors = (
        await (
            await client.get(f"/api/v1/contacts/import/{job['id']}/errors/", headers=WRITE)
        ).json()
    )["results"]
    assert len(errors) == 1
    assert errors[0]["row_number"] == 2345
    assert errors[0]["message"] == (f"the database refused the row: no import for {REFUSED_EMAIL}")
    assert errors[0]["row"]["email"] == REFUSED_EMAIL
    assert count(settings, "contacts") == 4999
    assert query(settings, "SELECT 1 FROM contacts WHERE email = %s", (REFUSED_EMAIL,)) == []
    assert count(settings, "companies") == 50  # the refused row's company came from others


async def test_a_failed_job_names_its_cause_and_logs_the_traceback(import_client, settings, caplog):
    client = await import_client(settings)
    resources = client.app[RESOURCES]
    job_id = str(uuid.uuid4())
    # A job whose file is not in storage: reading it fails, not the rows.
    await repo.create_job(resources.db, job_id, "gone.csv", f"imports/{job_id}.csv", 10)
    with caplog.at_level(logging.ERROR, logger="contacts_api.imports"):
        await run_import(resources, job_id)
    job = await repo.get_job(resources.db, job_id)
    assert job["status"] == "failed"
    assert job["error"].startswith("The import stopped on an unexpected error: ")
    assert job["error"] != "The import stopped on an unexpected error: "
    assert "Error" in job["error"].split(": ", 1)[1]  # the exception's class is named
    failure = [r for r in caplog.records if r.getMessage() == f"import {job_id} failed"]
    assert failure and failure[0].exc_info is not None
