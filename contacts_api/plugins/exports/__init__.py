"""The exports plugin: CSV exports of contacts or companies to storage
(docs/api.md "Export").

Requires the ``contacts`` plugin. Registers the settings section ``[exports]``,
the routes under ``/api/v2/exports`` and their OpenAPI description,
the ``exports`` table and its migration (``migrations/exports``), the task
``exports.run`` on the ``exports`` queue, and the command
``contacts-api exports purge``.
"""

from importlib import resources

from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.settings import SettingsSection
from contacts_api.core.tasks import TaskSpec
from contacts_api.plugins.exports import events, openapi, purge, routes, task
from contacts_api.plugins.exports.settings import ExportsSettings
from contacts_api.plugins.exports.tables import exports

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
    return [TaskSpec("exports.run", task.run_export, queue="exports")]


@hookimpl
def register_commands():
    return [purge.PURGE_COMMAND]
