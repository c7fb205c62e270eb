"""The exports plugin: CSV exports of contacts to storage (API.md "Export").

Registers the routes under ``/api/v2/exports`` and their OpenAPI description,
the ``exports`` table and its migration (``migrations/exports``), the task
``exports.run`` on the ``exports`` queue, and the command
``contacts-api exports purge``.
"""

from pathlib import Path

from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.tasks import TaskSpec
from contacts_api.plugins.exports import events, openapi, purge, routes, task
from contacts_api.plugins.exports.tables import exports

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "exports"


@hookimpl
def register_routes(settings):
    return [*routes.routes, *events.routes]


@hookimpl
def register_openapi(settings, filters):
    fragment = openapi.fragment()
    return {**fragment, "paths": {**fragment["paths"], **events.OPENAPI_PATHS}}


@hookimpl
def register_migrations():
    return [MIGRATIONS]


@hookimpl
def register_tables():
    return [exports]


@hookimpl
def register_tasks():
    return [TaskSpec("exports.run", task.run_export, queue="exports")]


@hookimpl
def register_commands():
    return [purge.PURGE_COMMAND]
