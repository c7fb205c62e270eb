"""The plugin contract, exercised through the README's example plugin, installed
through its ``contacts_api`` entry point (see ``example_plugin_installed``)."""

import asyncio
import json
import re
import types

import pytest
import sqlalchemy as sa

from contacts_api.core.app import create_app
from contacts_api.core.appkeys import FILTERS, RESOURCES
from contacts_api.core.cli import main
from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.plugins import PluginError, Plugins
from contacts_api.core.settings import SettingsError, load_settings
from contacts_api.core.sql import compile_sql

TOKEN = "example-token-123"
HEADERS = {"X-Example-Token": TOKEN, "X-Example-User": "ada"}


@pytest.fixture
def example_settings(settings_factory, example_plugin_installed):
    return settings_factory(
        CONTACTS_API__EXAMPLE__TOKEN=TOKEN,
        CONTACTS_API__DATABASE__MIGRATE_ON_STARTUP="true",
    )


async def _eventually(check, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


def test_example_plugin_is_found_through_its_entry_point(example_settings):
    plugins = Plugins.load(example_settings)
    assert "example" in plugins.names()
    described = {p["name"]: p for p in plugins.describe()}["example"]
    assert described["module"] == "contacts_api_example"
    assert "register_routes" in described["hooks"]


async def test_hook_register_routes_and_actor_from_request(make_client, example_settings):
    client = await make_client(example_settings)
    anonymous = await client.get("/api/v2/example/notes")
    assert anonymous.status == 401
    assert (await anonymous.json())["error_code"] == "NOT_AUTHENTICATED"
    wrong = await client.get("/api/v2/example/notes", headers={"X-Example-Token": "nope"})
    assert wrong.status == 401 and (await wrong.json())["error_code"] == "INVALID_TOKEN"
    ok = await client.get("/api/v2/example/notes/", headers=HEADERS)  # trailing slash too
    assert ok.status == 200 and await ok.json() == {"results": []}


async def test_hook_register_tasks_runs_with_shared_resources(make_client, example_settings):
    """The route kicks ``example.save_note``; the task writes with ``resources.db``
    (hook register_migrations created the table at startup)."""
    client = await make_client(example_settings)
    response = await client.post("/api/v2/example/notes", json={"body": "hello"}, headers=HEADERS)
    assert response.status == 202

    async def saved():
        got = await (await client.get("/api/v2/example/notes", headers=HEADERS)).json()
        return got["results"]

    assert await _eventually(saved) == [{"author": "ada", "body": "hello"}]


async def test_hook_register_migrations_applies_plugin_folders(make_client, example_settings):
    client = await make_client(example_settings)
    exists = await client.app[RESOURCES].db.fetch_val("SELECT to_regclass('example_notes')")
    assert exists == "example_notes"


def test_hook_register_tables(example_settings):
    tables = Plugins.load(example_settings).tables()
    assert "example_notes" in [t.name for t in tables]


async def test_hook_register_resources_and_startup(make_client, example_settings):
    client = await make_client(example_settings)
    stats = client.app[RESOURCES].extra["example_stats"]
    assert stats.started  # set by the startup hook after resources opened
    await client.post("/api/v2/example/notes", json={"body": "x"}, headers=HEADERS)
    assert stats.notes_kicked == 1


def test_hook_register_contact_filters_and_register_company_filters(example_settings):
    app = create_app(example_settings)
    contacts = sa.table("contacts", sa.column("linkedin_url"))
    companies = sa.table("companies", sa.column("employees_count"))
    tables = types.SimpleNamespace(contacts=contacts, companies=companies)
    applied = app[FILTERS].contacts.parse([("has_linkedin", "true")])
    sql, _ = compile_sql(sa.select(contacts).where(applied.condition(tables)))
    assert "linkedin_url IS NOT NULL" in sql
    applied = app[FILTERS].companies.parse([("min_headcount", "500")])
    sql, params = compile_sql(sa.select(companies).where(applied.condition(tables)))
    assert "employees_count >=" in sql and 500 in params.values()


async def test_hook_register_openapi_lists_plugin_routes(make_client, example_settings):
    client = await make_client(example_settings)
    document = await (await client.get("/openapi.json")).json()
    assert set(document["paths"]["/api/v2/example/notes"]) == {"get", "post"}
    assert "example" in [tag["name"] for tag in document["tags"]]


def test_hook_register_commands(example_plugin_installed, capsys):
    assert main(["example-hello", "world"]) == 0
    assert "hello world from the example plugin" in capsys.readouterr().out


def test_hook_check_settings_aborts_startup(settings_factory, example_plugin_installed):
    settings = settings_factory(CONTACTS_API__EXAMPLE__TOKEN="short")
    with pytest.raises(PluginError, match="at least 8 characters"):
        create_app(settings)


async def test_blocked_plugin_is_not_loaded(
    make_client, settings_factory, example_plugin_installed
):
    settings = settings_factory(CONTACTS_API__PLUGINS__BLOCKED="example")
    assert "example" not in Plugins.load(settings).names()
    client = await make_client(settings)
    assert (await client.get("/api/v2/example/notes", headers=HEADERS)).status == 404


def test_enabled_list_loads_only_the_named_plugins(settings_factory, example_plugin_installed):
    settings = settings_factory(CONTACTS_API__PLUGINS__ENABLED="something-else")
    assert Plugins.load(settings).names() == []


class Misspelled:
    @hookimpl
    def register_rutes(self, settings):  # noqa: D102 - the typo is the point
        return []


def test_misspelled_hookimpl_fails_at_boot(settings):
    with pytest.raises(PluginError, match="register_rutes"):
        create_app(settings, extra_plugins=[("typo", Misspelled())])


class DuplicateFilter:
    @hookimpl
    def register_contact_filters(self, settings):
        from contacts_api.core.filters import FilterSpec

        return [FilterSpec(name="has_linkedin", kind="boolean", build=lambda v, t: sa.true())]


def test_two_plugins_declaring_one_filter_fail_at_boot_naming_both(example_settings):
    message = "plugin dup: contact filter 'has_linkedin' is declared twice (also by plugin example)"
    with pytest.raises(PluginError, match=re.escape(message)):
        create_app(example_settings, extra_plugins=[("dup", DuplicateFilter())])


class _OneFilter:
    """A plugin declaring one contact filter (``spec`` made inside the hook, as a
    plugin author writes it)."""

    def __init__(self, **spec):
        self.spec = spec

    @hookimpl
    def register_contact_filters(self, settings):
        from contacts_api.core.filters import FilterSpec

        return [FilterSpec(build=lambda v, t: sa.true(), **self.spec)]


@pytest.mark.parametrize("name", ["limit", "ordering", "view", "page_size"])
def test_a_filter_named_like_a_list_parameter_fails_at_boot(settings, name):
    """Found by a plugin author: such a filter was ignored on the lists (the route
    takes the parameter) and applied on the counts."""
    plugin = _OneFilter(name=name, kind="integer")
    with pytest.raises(PluginError, match=rf"plugin mine: contact filter '{name}' is named like"):
        create_app(settings, extra_plugins=[("mine", plugin)])
    alias = _OneFilter(name="tld", aliases=(name,), kind="text")
    with pytest.raises(PluginError, match=rf"plugin mine: contact filter '{name}' is named like"):
        create_app(settings, extra_plugins=[("mine", alias)])


def test_a_filter_needing_an_unknown_join_fails_at_boot(settings):
    """``needs={"companies"}`` (the table's name, not the join's) was accepted, and
    every list answered 500 "missing FROM-clause entry"."""
    plugin = _OneFilter(name="tld", kind="text", needs=frozenset({"companies"}))
    message = "plugin mine: contact filter 'tld' needs unknown join(s) companies (known: company,"
    with pytest.raises(PluginError, match=re.escape(message)):
        create_app(settings, extra_plugins=[("mine", plugin)])


def test_a_filter_of_an_unknown_kind_fails_at_boot_naming_the_plugin(settings):
    """``kind="date"`` raised attrs' bare ValueError from inside the hook."""
    plugin = _OneFilter(name="since", kind="date")
    with pytest.raises(PluginError, match=r"plugin mine: register_contact_filters failed: "):
        create_app(settings, extra_plugins=[("mine", plugin)])


class _WrongArgument:
    @hookimpl
    def register_routes(self, settings, tables):  # noqa: D102 - no such argument
        return []


def test_a_hook_with_an_argument_the_hook_does_not_have_fails_naming_the_plugin(settings):
    with pytest.raises(PluginError, match=r"plugin odd: breaks the contract: .*tables"):
        create_app(settings, extra_plugins=[("odd", _WrongArgument())])


class _ContactsSection:
    @hookimpl
    def register_settings(self):
        import attrs

        from contacts_api import SettingsSection

        @attrs.define
        class Mine:
            key: str = ""

        return [SettingsSection("contacts", Mine)]


def test_a_settings_section_declared_twice_names_the_plugin_that_came_second(settings):
    """It named the built-in contacts plugin, and the newcomer as the other one."""
    message = "plugin mine: settings section [contacts] is declared twice (also by plugin contacts)"
    with pytest.raises(PluginError, match=re.escape(message)):
        create_app(settings, extra_plugins=[("mine", _ContactsSection())])


def test_each_create_app_gets_a_fresh_plugin_manager(settings):
    from contacts_api.core.appkeys import PLUGINS

    first, second = create_app(settings), create_app(settings)
    assert first[PLUGINS] is not second[PLUGINS]
    assert first[PLUGINS].pm is not second[PLUGINS].pm


async def test_plugin_list_is_local_or_admin_only(make_client, example_settings):
    client = await make_client(example_settings)
    local = await client.get("/-/plugins")
    assert local.status == 200
    assert "example" in [p["name"] for p in (await local.json())["plugins"]]
    proxied = await client.get("/-/plugins", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status == 403 and (await proxied.json())["error_code"] == "FORBIDDEN"


def test_hook_register_settings_types_a_toml_list_and_an_environment_string(
    settings_factory, example_plugin_installed, tmp_path, capsys
):
    """A third-party plugin's section is structured by the same converter as the
    core's: a TOML list and an environment string both arrive as ``list[str]``."""
    from_env = settings_factory(
        CONTACTS_API__EXAMPLE__TOKEN=TOKEN, CONTACTS_API__EXAMPLE__ALLOWED_USERS="ada, bob"
    )
    assert from_env.example.allowed_users == ["ada", "bob"]
    assert from_env.example.token.reveal() == TOKEN
    config = tmp_path / "operator.toml"
    config.write_text('[example]\ntoken = "abcdefgh-123"\nallowed_users = ["ada"]\n')
    from_file = settings_factory(CONTACTS_API_CONFIG=str(config))
    assert from_file.example.allowed_users == ["ada"]
    with pytest.raises(SettingsError, match=r"settings\.example\.allowed_users"):
        config.write_text("[example]\nallowed_users = 3\n")
        Plugins.load(load_settings(config, environ={}))
    # `contacts-api config` documents the section, its secret redacted
    assert main(["--config", str(config.with_name("ok.toml")), "config"]) == 2  # no such file
    config.write_text('[example]\ntoken = "abcdefgh-123"\n')
    assert main(["--config", str(config), "config"]) == 0
    shown = json.loads(capsys.readouterr().out)["example"]
    assert shown == {"token": "**********", "allowed_users": []}


async def test_example_settings_restrict_who_signs_in(
    make_client, settings_factory, example_plugin_installed
):
    settings = settings_factory(  # its own migrations: no earlier test's table to lean on
        CONTACTS_API__EXAMPLE__TOKEN=TOKEN,
        CONTACTS_API__EXAMPLE__ALLOWED_USERS="ada",
        CONTACTS_API__DATABASE__MIGRATE_ON_STARTUP="true",
    )
    client = await make_client(settings)
    assert (await client.get("/api/v2/example/notes", headers=HEADERS)).status == 200
    other = {**HEADERS, "X-Example-User": "eve"}
    assert (await client.get("/api/v2/example/notes", headers=other)).status == 401
