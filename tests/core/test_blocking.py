"""Blocking any built-in plugin either starts a working server without it, on a
fresh database, or refuses to start naming the plugin that needs it."""

import secrets

import psycopg2
import pytest
from openapi_spec_validator import validate

from contacts_api.core.app import create_app
from contacts_api.core.appkeys import PLUGINS as PLUGINS_KEY
from contacts_api.core.plugins import BUILTIN_PLUGINS, PluginError, Plugins
from tests.conftest import ADMIN_URL, WRITE_KEY, _with_database, make_settings

WRITE = {"X-Contacts-Write-Key": WRITE_KEY}


@pytest.fixture
def fresh_database():
    """An empty database: the remaining plugins' migrations run on it at startup."""
    name = f"contacts_api_block_{secrets.token_hex(4)}"
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(ADMIN_URL, name)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def blocked_client(fresh_database, redis_url, tmp_path, make_client):
    async def start(*blocked: str):
        settings = make_settings(
            fresh_database,
            redis_url,
            tmp_path,
            CONTACTS_API__PLUGINS__BLOCKED=",".join(blocked),
            CONTACTS_API__DATABASE__MIGRATE_ON_STARTUP="true",
            CONTACTS_API__AUTH__REGISTRATION_OPEN="true",
        )
        client = await make_client(settings)
        assert not set(blocked) & set(client.app[PLUGINS_KEY].names())
        validate(await (await client.get("/openapi.json")).json())
        assert (await client.get("/ready")).status == 200
        return client

    return start


def test_every_builtin_plugin_has_a_blocking_test():
    tested = {
        "contacts",
        "imports",
        "auth_write_key",
        "auth_jwt",
        "auth_api_keys",
        "exports",
        "apollo",
        "explorer",
    }
    assert tested == set(BUILTIN_PLUGINS)


@pytest.mark.parametrize("dependent", ["imports", "exports", "apollo"])
def test_blocking_contacts_refuses_to_start_naming_who_needs_it(settings_factory, dependent):
    others = [name for name in ("imports", "exports", "apollo") if name != dependent]
    settings = settings_factory(CONTACTS_API__PLUGINS__BLOCKED=",".join(["contacts", *others]))
    message = f"plugin {dependent} requires plugin contacts, which is blocked"
    with pytest.raises(PluginError, match=message):
        create_app(settings)


def test_a_plugin_left_out_of_enabled_is_named_too(settings_factory):
    settings = settings_factory(CONTACTS_API__PLUGINS__ENABLED="imports")
    with pytest.raises(PluginError, match="contacts, which is not in plugins.enabled"):
        Plugins.load(settings)


async def test_blocking_contacts_with_its_dependents_serves_the_rest(blocked_client):
    client = await blocked_client("contacts", "imports", "exports", "apollo")
    assert (await client.get("/api/v1/contacts/", headers=WRITE)).status == 404
    registered = await client.post(
        "/api/v2/auth/register", json={"email": "ada@example.com", "password": "correct-horse-1"}
    )
    assert registered.status == 201


async def test_blocking_imports(blocked_client):
    client = await blocked_client("imports")
    assert (await client.get("/api/v1/contacts/import/", headers=WRITE)).status == 404
    created = await client.post("/api/v1/contacts/", json={"email": "a@x.io"}, headers=WRITE)
    assert created.status == 201
    assert (await client.get("/api/v1/contacts/", headers=WRITE)).status == 200


async def test_blocking_auth_write_key(blocked_client):
    client = await blocked_client("auth_write_key")
    refused = await client.post("/api/v1/contacts/", json={"email": "a@x.io"}, headers=WRITE)
    assert refused.status == 403 and (await refused.json())["error_code"] == "INVALID_WRITE_KEY"
    document = await (await client.get("/openapi.json")).json()
    assert "writeKey" not in document["components"]["securitySchemes"]


def test_blocking_auth_jwt_alone_refuses_naming_auth_api_keys(settings_factory):
    settings = settings_factory(CONTACTS_API__PLUGINS__BLOCKED="auth_jwt")
    with pytest.raises(PluginError, match="auth_api_keys") as raised:
        create_app(settings)
    assert "auth_jwt" in str(raised.value)


async def test_blocking_auth_api_keys(blocked_client):
    client = await blocked_client("auth_api_keys")
    key = {"Authorization": "Bearer cak_" + "0" * 32 + "_" + "x" * 43}
    assert (await client.get("/api/v2/users/me/api-keys", headers=key)).status in (401, 404)
    assert (await client.get("/api/v2/contacts/", headers=key)).status == 401
    assert (await client.get("/api/v1/contacts/", headers=WRITE)).status == 200
    document = await (await client.get("/openapi.json")).json()
    assert "apiKey" not in document["components"]["securitySchemes"]


async def test_blocking_auth_jwt(blocked_client):
    client = await blocked_client("auth_jwt", "auth_api_keys")
    assert (await client.post("/api/v2/auth/login", json={})).status == 404
    assert (await client.get("/api/v1/contacts/", headers=WRITE)).status == 200
    document = await (await client.get("/openapi.json")).json()
    assert "bearer" not in document["components"]["securitySchemes"]


async def test_blocking_exports(blocked_client):
    client = await blocked_client("exports")
    assert (await client.get("/api/v2/exports/", headers=WRITE)).status in (404, 405)
    assert (await client.get("/api/v1/contacts/count/", headers=WRITE)).status == 200


async def test_blocking_apollo(blocked_client):
    client = await blocked_client("apollo")
    analyze = await client.post("/api/v2/apollo/analyze", json={"url": "x"}, headers=WRITE)
    assert analyze.status == 404
    assert (await client.get("/api/v1/contacts/", headers=WRITE)).status == 200


async def test_blocking_explorer(blocked_client):
    client = await blocked_client("explorer")
    assert (await client.get("/explorer/")).status == 404
    assert (await client.get("/api/v1/contacts/", headers=WRITE)).status == 200
