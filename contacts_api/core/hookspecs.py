"""The plugin contract of contacts-api: every hook a plugin may implement.

A plugin is a module (or object) with functions decorated ``@hookimpl`` whose
names are hooks below. Implement only the hooks you need, with any subset of
the listed arguments. Register a third-party plugin through the
``contacts_api`` entry-point group::

    [options.entry_points]
    contacts_api =
        my_plugin = my_package.my_plugin

Naming follows datasette: ``register_*`` hooks return a list that the core
concatenates, except ``register_openapi``, which returns one dict (an OpenAPI
fragment, merged by name); ``*_from_request`` hooks derive something from a
request; ``startup`` is lifecycle.

``register_*`` and ``check_settings`` run while the app is built, outside any
event loop: they return plain values (a coroutine is refused, naming the
plugin). ``actor_from_request`` and ``startup`` may return a value, an
awaitable or a callable returning either, or be an ``async def``; the core
awaits what needs awaiting and closes the coroutines it does not need.

A plugin module may declare ``requires = ["contacts", ...]``: the plugins it
builds on. Startup fails, naming both, when one of them is blocked or missing.
It then uses them only through their public ``service`` modules.

The core calls hooks only through ``core.plugins.Plugins``, always with
keyword arguments; a plugin whose hook returns the wrong type, or declares
something another plugin already declared, fails startup with a message that
starts with ``plugin <name>:``.
"""

import pluggy

hookspec = pluggy.HookspecMarker("contacts_api")
hookimpl = pluggy.HookimplMarker("contacts_api")


@hookspec
def register_hookspecs():
    """Return a list of modules (or classes) holding ``@hookspec`` functions:
    hooks this plugin adds to the contract, for other plugins to implement.

    The apollo plugin adds ``register_apollo_mappings`` this way. Registered
    before any implementation is checked, so implementations of the new hooks
    in other plugins load whatever the registration order.
    """


@hookspec
def register_settings():
    """Return a list of ``core.settings.SettingsSection``: this plugin's settings
    sections, each an attrs class whose fields have defaults.

    The operator file's ``[<section>]`` table and the environment variables
    ``CONTACTS_API__<SECTION>__<KEY>`` are structured into it by the same strict
    converter as the core's sections (an environment string becomes the
    field's type: ``"a,b"`` a ``list[str]``, ``"10"`` an ``int``); unknown keys
    and bad values fail startup naming the key. Plugins read it as
    ``settings.<section>``; ``contacts-api config`` shows it with the rest,
    ``Secret`` fields redacted. Name the section after the plugin.
    """


@hookspec
def register_routes(settings):
    """Return a list of ``aiohttp.web.RouteDef`` (e.g. from a ``web.RouteTableDef``).

    Called once per ``create_app()``. Every route is mounted with and without a
    trailing slash, and every ``PATCH`` route also answers ``PUT``. Describe
    each route in ``register_openapi`` too: a meta-test checks the pairing.

    Every handler declares its scope of work with ``@requires_scope(...)``
    (``from contacts_api import requires_scope``), under the route decorator:
    ``"read"``, ``"write"``, ``"import"``, ``"export"``, ``"admin"``, or
    ``"public"`` for a route that needs no caller. API keys outside it get 403
    ``INSUFFICIENT_SCOPE``, and the caller's request budget of that kind is
    spent before the handler runs (``core.scopes``, ``core.access``). An
    undeclared route is ``admin`` work for API keys, with a warning at startup.
    """


@hookspec
def register_openapi(settings, filters):
    """Return an OpenAPI 3.1 fragment for this plugin's routes: one dict (not a
    list) with any of ``paths``, ``components`` (merged by name) and ``tags``.

    A plugin that authenticates declares its scheme here, under
    ``components.securitySchemes``.
    ``filters`` is the app's ``FilterRegistries``: list routes turn the
    registered filters into query parameters with
    ``core.openapi.filter_parameters(filters.contacts)`` (references to
    ``components/parameters``, which the core fills once), so filters added by
    other plugins appear in the document. Called when ``/openapi.json`` is built.
    """


@hookspec
def register_migrations():
    """Return a list of folders holding yoyo SQL migrations: ``pathlib.Path`` or
    ``importlib.resources.files("your_package.migrations")`` entries, so they
    are found wherever the package is installed.

    Migration ids must be unique across plugins: prefix files with the plugin
    name (``contacts_0001_initial.sql``). Cross-plugin ordering is expressed
    with yoyo's ``-- depends:`` header. Called by ``contacts-api migrate`` and
    at startup when migrations run automatically.
    """


@hookspec
def register_tables():
    """Return a list of ``sqlalchemy.Table`` this plugin owns (for query building
    by other plugins and for ``contacts-api plugins``). Migrations, not these
    objects, create the schema."""


@hookspec
def register_tasks():
    """Return a list of ``core.tasks.TaskSpec``: background tasks with explicit,
    stable names (``"imports.run"``) and the queue they run on.

    Called when the broker is built, in the API process and in the worker.
    A task function receives its own arguments plus ``resources`` (a
    ``core.resources.Resources``) as a keyword argument.

    With Redis, a task whose worker dies is delivered again, so a task must be
    idempotent or resumable. A task that runs a job recorded in the plugin's own
    table can also survive a queue that loses its message (a Redis restarted
    without persistence): register ``core.recovery.lost_job_sweep(...)`` as a
    resource, as the imports and exports plugins do.
    """


@hookspec
def register_resources(settings):
    """Return a list of ``core.resources.ResourceSpec``: extra shared objects
    (pools, clients) opened as async context managers.

    Each is entered once per process, in the web app (as a ``cleanup_ctx``)
    and in the worker alike, after the core's own resources, and is reachable
    as ``resources.extra[name]``.
    """


@hookspec
def actor_from_request(request, resources):
    """Return the ``core.auth.Actor`` making this request, or None.

    Called at most once per request: before the handler for a route that
    declared a scope other than ``"public"`` (budgets and scopes need the
    caller), else when a route asks who is calling. Every
    implementation is called; the first non-None answer wins (order with
    ``tryfirst``/``trylast``). Raise ``core.errors.InvalidToken`` (or another
    ``ApiError``) when credentials are present but wrong: a bad credential must
    not silently fall back to anonymous. An ``Actor`` with ``scopes`` (a set of
    scope names) is restricted to them, as API keys are; give it
    ``attributes["credential_id"]`` when one user holds several such
    credentials, so each has its own request budget.
    """


@hookspec
def register_contact_filters(settings):
    """Return a list of ``core.filters.FilterSpec``: query parameters that filter
    contacts.

    Every list, count, attribute-list, Apollo and export route that takes
    contact filters accepts them, and they appear in ``/openapi.json``. A
    filter's ``build(values, tables)`` returns an SQLAlchemy condition over
    ``tables`` (the contacts plugin's ``ContactTables``). Name clashes fail at
    boot.
    """


@hookspec
def register_company_filters(settings):
    """Return a list of ``core.filters.FilterSpec`` for company list routes; as
    ``register_contact_filters``, with ``tables`` the company tables."""


@hookspec
def register_commands():
    """Return a list of ``core.cli.Command``: subcommands of ``contacts-api``
    (``contacts-api users create ...``). Called when the CLI starts."""


@hookspec
def check_settings(settings):
    """Return a list of problems (strings) with the settings this plugin needs;
    any problem aborts startup with the messages. Called before resources open."""


@hookspec
def startup(app, resources):
    """Lifecycle: called once the web app's resources are open, before it serves.

    Use it for checks that need the database (raise to abort startup) and to
    warm caches. Not called in the worker.
    """
