"""The plugin contract's sharp edges: hookspecs registered explicitly, every
coroutine a hook returns awaited or closed, SQL missing a join refused, errors
that name the plugin, return types checked."""

import gc
import re
import types
import warnings

import pytest
import sqlalchemy as sa
from aiohttp import web

from contacts_api import Actor, InvalidToken, hookimpl
from contacts_api.core import hookspecs as core_hookspecs
from contacts_api.core.app import create_app
from contacts_api.core.appkeys import FILTERS, RESOURCES
from contacts_api.core.cli import main
from contacts_api.core.plugins import PluginError, Plugins
from contacts_api.core.sql import CartesianProduct, Prepared, compile_sql
from contacts_api.plugins import apollo as apollo_plugin
from contacts_api.plugins.contacts.tables import ContactTables, companies, contacts
from tests.conftest import WRITE_KEY

# -- hookspecs ------------------------------------------------------------------


def _module(name: str, **attributes) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    return module


def test_hook_register_hookspecs_adds_a_plugins_own_hooks(example_plugin_installed, capsys):
    """The example plugin declares ``example_greeting`` and implements it; its
    command calls it through ``plugins.hook``."""
    assert main(["example-hello", "ada"]) == 0
    assert capsys.readouterr().out.strip() == "hello ada from the example plugin"


def test_a_module_attribute_named_hookspecs_is_not_taken_for_hookspecs(settings):
    """A plugin that merely imports the core's hookspecs module loads (it used
    to fail with pluggy's raw ValueError: hooks declared twice)."""

    @hookimpl
    def register_routes(settings):
        return []

    plugin = _module("imports_hookspecs", hookspecs=core_hookspecs, register_routes=register_routes)
    assert (
        "imports_hookspecs" in Plugins.load(settings, extra=[("imports_hookspecs", plugin)]).names()
    )


def test_a_hook_declared_twice_names_the_plugin(settings):
    class Again:
        @core_hookspecs.hookspec
        def register_routes(self, settings):
            """Declared again."""

    @hookimpl
    def register_hookspecs():
        return [Again]

    plugin = _module("again", register_hookspecs=register_hookspecs)
    with pytest.raises(PluginError, match="^plugin again: register_hookspecs"):
        Plugins.load(settings, extra=[("again", plugin)])


# -- coroutines ----------------------------------------------------------------


class _Request:
    def __init__(self, headers=None):
        self.headers = headers or {}


class FirstActor:
    @hookimpl(tryfirst=True)
    def actor_from_request(self, request, resources):
        return Actor(id="first", kind="test")


class LateAsyncActor:
    called = False

    @hookimpl(trylast=True)
    async def actor_from_request(self, request, resources):
        LateAsyncActor.called = True
        return Actor(id="late", kind="test")


def _never_awaited(caught) -> list[str]:
    return [str(w.message) for w in caught if "never awaited" in str(w.message)]


async def test_an_async_actor_after_the_winner_is_closed_not_left_unawaited(settings):
    plugins = Plugins.load(settings, extra=[("first", FirstActor()), ("late", LateAsyncActor())])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        actor = await plugins.actor_from_request(request=_Request(), resources=None)
        gc.collect()
    assert actor.id == "first"
    assert not LateAsyncActor.called
    assert _never_awaited(caught) == []


class EarlyAsyncActor:
    @hookimpl(tryfirst=True)
    async def actor_from_request(self, request, resources):
        return None


async def test_a_raising_actor_hook_closes_the_coroutines_made_before_it(make_client, settings):
    """``auth_jwt`` raises 401 on a bad bearer token after an earlier async
    implementation already returned its coroutine."""
    client = await make_client(settings, extra_plugins=[("early", EarlyAsyncActor())])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = await client.get(
            "/api/v2/users/me", headers={"Authorization": "Bearer not-a-token"}
        )
        gc.collect()
    assert response.status == 401 and (await response.json())["error_code"] == "INVALID_TOKEN"
    assert _never_awaited(caught) == []


class AsyncRoutes:
    @hookimpl
    async def register_routes(self, settings):
        return []


def test_an_async_register_hook_is_refused_naming_the_plugin(settings):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(PluginError, match="^plugin asyncroutes: register_routes returned"):
            create_app(settings, extra_plugins=[("asyncroutes", AsyncRoutes())])
        gc.collect()
    assert _never_awaited(caught) == []


# -- return types and errors that name the plugin --------------------------------------


class RoutesAsDict:
    @hookimpl
    def register_routes(self, settings):
        return {"GET /x": None}


class OpenapiAsList:
    @hookimpl
    def register_openapi(self, settings, filters):
        return [{"paths": {}}]


class DisagreeingOpenapi:
    @hookimpl
    def register_openapi(self, settings, filters):
        return {"components": {"schemas": {"Error": {"type": "string"}}}}


class DuplicateTask:
    @hookimpl
    def register_tasks(self):
        from contacts_api import TaskSpec

        return [TaskSpec("exports.run", lambda resources: None, queue="exports")]


@pytest.mark.parametrize(
    "name, plugin, message",
    [
        ("listy", RoutesAsDict(), "plugin listy: register_routes must return a list, got dict"),
        (
            "dicty",
            OpenapiAsList(),
            "plugin dicty: register_openapi must return a dict (an OpenAPI fragment), got list",
        ),
        ("clash", DisagreeingOpenapi(), "plugin clash: OpenAPI fragment disagrees"),
        ("apollo2", apollo_plugin, "plugin apollo2: already loaded as plugin apollo"),
        (
            "twice",
            DuplicateTask(),
            "plugin twice: task 'exports.run' is declared twice (also by plugin exports)",
        ),
    ],
)
def test_contract_errors_name_the_plugin(settings, name, plugin, message):
    with pytest.raises(PluginError, match=re.escape(message)):
        app = create_app(settings, extra_plugins=[(name, plugin)])
        app[RESOURCES].plugins.tasks()  # tasks are collected when the broker is built


# -- SQL that misses a join ---------------------------------------------------------


def test_sql_helper_refuses_a_cartesian_product():
    missing_join = (
        sa.select(sa.func.count()).select_from(contacts).where(companies.c.name == "Acme")
    )
    with pytest.raises(CartesianProduct, match='"contacts".*"companies"|"companies".*"contacts"'):
        compile_sql(missing_join)
    with pytest.raises(CartesianProduct):
        Prepared(missing_join)
    joined = missing_join.select_from(
        contacts.join(companies, companies.c.uuid == contacts.c.company_uuid)
    )
    assert "JOIN companies" in compile_sql(joined)[0]


class CountRoute:
    """A third-party route that counts with the registered filters but forgets
    the joins their ``needs`` ask for."""

    @hookimpl
    def register_routes(self, settings):
        async def count(request: web.Request) -> web.Response:
            resources = request.app[RESOURCES]
            applied = request.app[FILTERS].contacts.parse(request.query.items())
            applied = await applied.prepared(resources.db)
            query = (
                sa.select(sa.func.count())
                .select_from(contacts)
                .where(applied.condition(ContactTables()))
            )
            return web.json_response({"total": await resources.db.fetch_val(query)})

        return [web.get("/api/v2/naive/count", count)]


async def test_a_plugin_query_missing_a_filters_join_fails_instead_of_miscounting(
    make_client, settings
):
    client = await make_client(settings, extra_plugins=[("naive", CountRoute())])
    headers = {"X-Contacts-Write-Key": WRITE_KEY}
    for index in range(3):
        company = {"name": f"Company {index}", "domain": f"c{index}.test"}
        body = {"email": f"p{index}@c{index}.test", "company": company}
        assert (await client.post("/api/v1/contacts/", json=body, headers=headers)).status == 201
    plain = await client.get("/api/v2/naive/count")
    assert await plain.json() == {"total": 3}
    missing_join = await client.get(
        "/api/v2/naive/count", params={"include_domain_list": "c0.test"}
    )
    assert missing_join.status == 500  # {"total": 3} (every contact x company c0) before
    assert (await missing_join.json())["error_code"] == "INTERNAL_ERROR"


# -- the docs agree with the code -------------------------------------------------


def test_hookspec_docs_say_which_register_hooks_return_what():
    assert "returns one dict" in core_hookspecs.__doc__
    assert "one dict (not a" in core_hookspecs.register_openapi.__doc__
    for name in ("register_routes", "register_tasks", "register_migrations", "register_settings"):
        assert "Return a list" in getattr(core_hookspecs, name).__doc__, name


async def test_raising_invalid_token_still_reaches_the_client(make_client, settings):
    class Refuses:
        @hookimpl
        def actor_from_request(self, request, resources):
            if "X-Refuse" in request.headers:
                raise InvalidToken("refused")

    client = await make_client(settings, extra_plugins=[("refuses", Refuses())])
    response = await client.get("/api/v2/users/me", headers={"X-Refuse": "1"})
    assert response.status == 401 and (await response.json())["detail"] == "refused"
