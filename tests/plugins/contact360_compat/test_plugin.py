"""Opt-in loading, the prefix setting, the app's health/info calls, the routes
without a feature here (501), and a browser's view: CORS and parallel refreshes."""

import asyncio

import pytest

from contacts_api.core.app import create_app
from contacts_api.core.plugins import PluginError
from contacts_api.plugins.contact360_compat.unsupported import UNSUPPORTED_ROUTES
from tests.plugins.auth_jwt import FAST, PASSWORD, register
from tests.plugins.contact360_compat.conftest import OPT_IN, PREFIX
from tests.plugins.contact360_compat.fields import DICT, STR, check


async def test_off_unless_the_operator_opts_in(make_client, settings_factory):
    client = await make_client(settings_factory(**FAST))
    assert (await client.get(PREFIX + "/api/v1/health/")).status == 404
    names = [p["name"] for p in (await (await client.get("/-/plugins")).json())["plugins"]]
    assert "contact360_compat" not in names


async def test_opted_in_it_is_listed_as_builtin(client):
    plugins = (await (await client.get("/-/plugins")).json())["plugins"]
    compat = next(p for p in plugins if p["name"] == "contact360_compat")
    assert compat["builtin"] is True
    assert (await client.get("/api/v1/contacts/count/")).status == 401  # ours untouched


async def test_enabled_by_name_in_plugins_enabled(make_client, settings_factory):
    settings = settings_factory(
        **FAST,
        CONTACTS_API__PLUGINS__ENABLED="contacts,auth_jwt,auth_write_key,imports,exports,apollo,contact360_compat",
    )
    client = await make_client(settings)
    assert (await client.get(PREFIX + "/api/v1/health/")).status == 200


async def test_an_unknown_opt_in_name_is_refused(settings_factory):
    with pytest.raises(PluginError, match="contact360_compt"):
        create_app(settings_factory(**FAST, CONTACTS_API__PLUGINS__OPT_IN="contact360_compt"))


async def test_the_prefix_is_configurable(make_client, settings_factory):
    settings = settings_factory(**OPT_IN, CONTACTS_API__CONTACT360_COMPAT__PREFIX="/c360")
    client = await make_client(settings)
    assert (await client.get("/c360/api/v1/health/")).status == 200
    assert (await client.get(PREFIX + "/api/v1/health/")).status == 404


@pytest.mark.parametrize("prefix", ["", "/", "no-slash", "/with space"])
async def test_a_bad_prefix_is_refused_at_startup(settings_factory, prefix):
    settings = settings_factory(**OPT_IN, CONTACTS_API__CONTACT360_COMPAT__PREFIX=prefix)
    with pytest.raises(PluginError, match="prefix"):
        create_app(settings)


async def test_health_and_api_info(client):
    health = await (await client.get(PREFIX + "/api/v1/health/")).json()
    check(health, {"status": STR, "checks": DICT})
    assert health["status"] == "healthy" and health["checks"]["database"] is True
    info = await (await client.get(PREFIX + "/")).json()
    check(info, {"service": STR, "status": STR, "endpoints": DICT})


@pytest.mark.parametrize(("method", "path", "why"), UNSUPPORTED_ROUTES)
async def test_routes_without_a_feature_here_are_501(app, method, path, why):
    path = path.replace("{export_id}", "00000000-0000-4000-8000-000000000000")
    body = await app.json(method, path, status=501)
    assert body["error_code"] == "NOT_IMPLEMENTED" and why in body["detail"]


async def test_cors_preflight_for_each_method_of_a_compat_route(make_client, settings_factory):
    origin = "http://localhost:3000"
    client = await make_client(
        settings_factory(**OPT_IN, CONTACTS_API__SERVER__CORS_ORIGINS=origin)
    )
    uuid = "00000000-0000-4000-8000-000000000000"
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = await client.options(
            f"{PREFIX}/api/v1/companies/{uuid}/",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization,x-companies-write-key",
            },
        )
        assert response.status == 200, (method, await response.text())
        assert response.headers["Access-Control-Allow-Origin"] == origin


async def test_parallel_failed_requests_refresh_without_signing_out(client):
    """The axios interceptor refreshes once per 401, in parallel, with the same token."""
    signed_in = await register(client, "ada@example.com", PASSWORD)
    answers = await asyncio.gather(
        *(
            client.post(
                PREFIX + "/api/v2/auth/refresh/", json={"refresh_token": signed_in["refresh_token"]}
            )
            for _ in range(4)
        )
    )
    assert [a.status for a in answers] == [200] * 4
    tokens = {(await a.json())["refresh_token"] for a in answers}
    assert len(tokens) == 1
    again = await client.post(
        PREFIX + "/api/v2/auth/refresh/", json={"refresh_token": tokens.pop()}
    )
    assert again.status == 200


async def test_openapi_describes_every_compat_route(client):
    from openapi_spec_validator import validate

    from tests.core.test_openapi_and_meta import _documented, _route_paths

    document = await (await client.get("/openapi.json")).json()
    validate(document)
    documented = _documented(document)
    for method, path in _route_paths(client.app):
        if method == "put" and ("patch", path) in documented:
            continue
        assert (method, path) in documented, f"{method.upper()} {path} is not in the OpenAPI"
    assert any(path.startswith(PREFIX) for _, path in documented)
