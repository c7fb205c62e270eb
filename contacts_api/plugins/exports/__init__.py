"""The exports plugin: CSV exports of contacts or companies to storage
(docs/api.md "Export").

Requires the ``contacts`` plugin. Registers the settings section ``[exports]``,
the routes under ``/api/v2/exports`` and their OpenAPI description,
the ``exports`` table and its migration (``migrations/exports``), the task
``exports.run`` on the ``exports`` queue, and the command
``contacts-api exports purge``. Exports a stopped process left unfinished are
started again: by the server when it starts (in-memory broker), else by the
workers' sweep for tasks the queue lost (``core.recovery``).
"""

import logging
from importlib import resources

import psycopg2.errors

from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.settings import SettingsSection
from contacts_api.core.tasks import TaskSpec
from contacts_api.plugins.exports import events, openapi, purge, routes, task
from contacts_api.plugins.exports.settings import ExportsSettings
from contacts_api.plugins.exports.tables import exports

log = logging.getLogger("contacts_api.exports")

# Exports select contacts or companies. An ``apollo_url`` selection also uses the apollo
# plugin when it is loaded (a 422 says so when it is not).
requires = ["contacts"]


@hookimpl
def register_settings():
    return [SettingsSection("exports", ExportsSettings)]


@hookimpl
def register_routes(settings):
    return [*routes.routes, *events.routes]


@hookimpl
def register_openapi(settings, filters):
    fragment = openapi.fragment()
    return {**fragment, "paths": {**fragment["paths"], **events.OPENAPI_PATHS}}


@hookimpl
def register_migrations():
    return [resources.files("contacts_api.migrations") / "exports"]


@hookimpl
def register_tables():
    return [exports]


@hookimpl
def register_tasks():
    return [TaskSpec(task.TASK_NAME, task.run_export, queue="exports")]


@hookimpl
def register_resources(settings):
    return [task.SWEEP]


@hookimpl
async def startup(app, resources):
    if not resources.settings.uses_redis_broker:
        try:
            await task.restart_unfinished(resources)
        except psycopg2.errors.UndefinedTable:  # serving must not depend on it
            log.warning("the exports table is missing: run `contacts-api migrate`")


@hookimpl
def register_commands():
    return [purge.PURGE_COMMAND]
