"""CSV import and export of contacts with their companies (docs/csv-format.md).

The ``imports`` built-in plugin requires the ``contacts`` plugin and registers:

- the settings section ``[imports]`` (``settings``);
- routes ``POST/GET /api/v1/contacts/import/``, ``GET /api/v1/contacts/import/{job_id}/``
  and ``GET /api/v1/contacts/import/{job_id}/errors/`` (``routes``), with their OpenAPI
  description (``openapi``), and ``GET /api/v1/contacts/import/{job_id}/events``, the
  job's progress as Server-Sent Events (``events``);
- the migrations in ``migrations/imports`` (tables ``import_jobs``, ``import_errors``,
  a partial index on ``contacts`` for matching contacts without email, and the bulk
  path's records ``import_deferred_indexes``/``import_bulk_loads``) and the
  SQLAlchemy tables (``tables``);
- the task ``imports.run`` on the queue ``imports`` (``tasks``), which reads the file
  from storage and writes it in batches (``parsing``, ``upsert``, ``upsert_sql``).

The write path, for large files (issue 16): rows are normalized in parsing processes
(``parsing``: ``parse_processes``, from ``parse_min_rows`` rows) while the worker
writes; and a job that turns out large relative to ``contacts`` becomes a bulk load
(``bulk``): the secondary indexes of contacts are dropped while it writes and built
again (concurrently) before it completes. Batches are written by the same code in
both cases, so the database is the same; reads keep working during a bulk load
(filters without their index scan the table), API writes go through, and a killed
worker's job resumes to exact counts and puts the indexes back.
- the command ``contacts-api import FILE.csv [--wait]`` (``cli``);
- a ``startup`` hook that, with the in-memory broker (no Redis), re-starts the jobs a
  crashed process left unfinished;
- the resource ``imports_recovery`` (``recovery``): in a worker on the Redis broker, a
  periodic sweep that kicks again the jobs whose task the queue lost.

The pure CSV logic (``columns``, ``reading``, ``normalize``) is
shared with the export.
"""

import logging
from importlib import resources

from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.settings import SettingsSection
from contacts_api.core.tasks import TaskSpec

log = logging.getLogger("contacts_api.imports")

# Imported rows become contacts and companies.
requires = ["contacts"]


@hookimpl
def register_settings():
    from contacts_api.plugins.imports.settings import ImportsSettings

    return [SettingsSection("imports", ImportsSettings)]


@hookimpl
def register_routes(settings):
    from contacts_api.plugins.imports import events
    from contacts_api.plugins.imports.routes import routes

    return [*routes, *events.routes]


@hookimpl
def register_openapi(settings, filters):
    from contacts_api.plugins.imports import events
    from contacts_api.plugins.imports.openapi import fragment

    described = fragment()
    return {**described, "paths": {**described["paths"], **events.OPENAPI_PATHS}}


@hookimpl
def register_migrations():
    return [resources.files("contacts_api.migrations") / "imports"]


@hookimpl
def register_tables():
    from contacts_api.plugins.imports.tables import ALL_TABLES

    return list(ALL_TABLES)


@hookimpl
def register_tasks():
    from contacts_api.plugins.imports.service import QUEUE, TASK_NAME
    from contacts_api.plugins.imports.tasks import run_import

    return [TaskSpec(TASK_NAME, run_import, queue=QUEUE)]


@hookimpl
def register_resources(settings):
    from contacts_api.plugins.imports.recovery import SWEEP

    return [SWEEP]


@hookimpl
def register_commands():
    from contacts_api.plugins.imports.cli import import_command

    return [import_command()]


@hookimpl
async def startup(app, resources):
    if not resources.settings.uses_redis_broker:
        import psycopg2.errors

        from contacts_api.plugins.imports.service import resume_stalled

        try:
            await resume_stalled(resources)
        except psycopg2.errors.UndefinedTable:  # serving must not depend on it
            log.warning("the import tables are missing: run `contacts-api migrate`")
