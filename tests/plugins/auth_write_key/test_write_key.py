"""The v1 keys against the real server, through a probe plugin whose routes
apply the v1 policy the way every v1 route does (``core.auth``)."""

import pytest
from aiohttp import web

from contacts_api import require_v1_read, require_v1_write
from contacts_api.core.auth import get_actor, require_actor, require_admin
from contacts_api.core.hookspecs import hookimpl
from tests.conftest import WRITE_KEY
from tests.plugins.auth_jwt import FAST, bearer, raw_get, register

READ_KEY = "test-read-key-abcdefghij"
WRITE = {"X-Contacts-Write-Key": WRITE_KEY}
READ = {"X-Contacts-Read-Key": READ_KEY}


def _who(actor) -> dict:
    return {
        "actor": None
        if actor is None
        else {
            "id": actor.id,
            "kind": actor.kind,
            "role": actor.role,
            "can_write_v1": actor.can_write_v1,
        }
    }


class Probe:
    """Stand-ins for v1 read and write routes, and an admin route."""

    @hookimpl
    def register_routes(self, settings):
        routes = web.RouteTableDef()

        @routes.get("/t/v1/things")
        async def read(request):
            return web.json_response(_who(await require_v1_read(request)))

        @routes.post("/t/v1/things")
        async def write(request):
            return web.json_response(_who(await require_v1_write(request)), status=201)

        @routes.get("/t/admin")
        async def admin_only(request):
            return web.json_response(_who(await require_admin(request)))

        @routes.get("/t/whoami")
        async def whoami(request):
            return web.json_response(_who(await get_actor(request)))

        @routes.get("/api/v2/t/whoami")
        async def v2_whoami(request):
            return web.json_response(_who(await require_actor(request)))

        return list(routes)


@pytest.fixture
def probe_client(make_client, settings_factory):
    async def factory(**env):
        settings = settings_factory(**FAST, **env)
        return await make_client(settings, extra_plugins=[("probe", Probe())])

    return factory


async def _error(response, status: int, code: str) -> None:
    body = await response.json()
    assert (response.status, body["error_code"]) == (status, code), body


async def test_write_key_writes_and_reads_as_admin(probe_client):
    client = await probe_client()
    created = await client.post("/t/v1/things", headers=WRITE)
    assert created.status == 201
    assert (await created.json())["actor"] == {
        "id": "write_key",
        "kind": "write_key",
        "role": "admin",
        "can_write_v1": True,
    }
    assert (await client.get("/t/v1/things", headers=WRITE)).status == 200
    assert (await client.get("/t/admin", headers=WRITE)).status == 200


@pytest.mark.parametrize("key", ["wrong", "", WRITE_KEY[:-1], WRITE_KEY + "x", WRITE_KEY.upper()])
async def test_wrong_write_key_is_403_everywhere_never_anonymous(probe_client, key):
    client = await probe_client(CONTACTS_API__AUTH__PUBLIC_READS="true")
    headers = {"X-Contacts-Write-Key": key}
    await _error(await client.post("/t/v1/things", headers=headers), 403, "INVALID_WRITE_KEY")
    # even where an anonymous caller would be let in (public reads)
    await _error(await client.get("/t/v1/things", headers=headers), 403, "INVALID_WRITE_KEY")
    assert (await client.get("/t/v1/things")).status == 200


async def test_missing_write_key(probe_client):
    client = await probe_client()
    await _error(await client.post("/t/v1/things"), 403, "INVALID_WRITE_KEY")
    await _error(await client.get("/t/v1/things"), 401, "NOT_AUTHENTICATED")
    await _error(await client.get("/t/admin"), 401, "NOT_AUTHENTICATED")


async def test_no_write_key_configured_refuses_every_v1_write(probe_client):
    client = await probe_client(CONTACTS_WRITE_KEY="")
    for headers in ({}, WRITE, {"X-Contacts-Write-Key": ""}):
        response = await client.post("/t/v1/things", headers=headers)
        await _error(response, 403, "INVALID_WRITE_KEY")
    body = await (await client.post("/t/v1/things", headers=WRITE)).json()
    assert "No write key is configured" in body["detail"]


async def test_read_key_reads_only(probe_client):
    client = await probe_client(CONTACTS_READ_KEY=READ_KEY)
    response = await client.get("/t/v1/things", headers=READ)
    assert response.status == 200
    assert (await response.json())["actor"] == {
        "id": "read_key",
        "kind": "read_key",
        "role": "user",
        "can_write_v1": False,
    }
    await _error(await client.post("/t/v1/things", headers=READ), 403, "INVALID_WRITE_KEY")
    await _error(await client.get("/t/admin", headers=READ), 403, "FORBIDDEN")


async def test_wrong_read_key_is_invalid_token(probe_client):
    client = await probe_client(CONTACTS_READ_KEY=READ_KEY)
    for key in ("wrong", "", READ_KEY[:-1]):
        response = await client.get("/t/v1/things", headers={"X-Contacts-Read-Key": key})
        await _error(response, 401, "INVALID_TOKEN")


async def test_read_key_header_without_a_configured_read_key(probe_client):
    client = await probe_client()
    await _error(await client.get("/t/v1/things", headers=READ), 401, "INVALID_TOKEN")


async def test_public_reads_are_off_by_default_and_never_open_writes(probe_client):
    closed = await probe_client()
    await _error(await closed.get("/t/v1/things"), 401, "NOT_AUTHENTICATED")
    public = await probe_client(CONTACTS_API__AUTH__PUBLIC_READS="true")
    response = await public.get("/t/v1/things")
    assert response.status == 200 and (await response.json())["actor"] is None
    await _error(await public.post("/t/v1/things"), 403, "INVALID_WRITE_KEY")


async def test_bearer_token_reads_v1_but_never_writes(probe_client):
    client = await probe_client()
    token = (await register(client, "ada@example.com"))["access_token"]
    response = await client.get("/t/v1/things", headers=bearer(token))
    assert response.status == 200 and (await response.json())["actor"]["kind"] == "user"
    await _error(await client.post("/t/v1/things", headers=bearer(token)), 403, "INVALID_WRITE_KEY")


async def test_precedence_between_methods(probe_client):
    client = await probe_client(CONTACTS_READ_KEY=READ_KEY)
    token = (await register(client, "ada@example.com"))["access_token"]

    async def kind(headers: dict) -> str:
        return (await (await client.get("/t/whoami", headers=headers)).json())["actor"]["kind"]

    assert await kind({**WRITE, **READ}) == "write_key"  # tryfirst
    assert await kind({**bearer(token), **READ}) == "user"  # the read key is trylast
    assert await kind({**WRITE, **bearer(token)}) == "write_key"
    # a bad credential is refused even when another one is good
    response = await client.get("/t/whoami", headers={**bearer(token), "X-Contacts-Write-Key": "x"})
    await _error(response, 403, "INVALID_WRITE_KEY")
    response = await client.get("/t/whoami", headers={**WRITE, **bearer("not-a-token")})
    await _error(response, 401, "INVALID_TOKEN")


@pytest.mark.parametrize(
    "header", [b"X-Contacts-Write-Key: \xff\xfe", b"X-Contacts-Read-Key: \xff\xfe"]
)
async def test_non_utf8_key_headers_are_wrong_keys_not_crashes(probe_client, header):
    client = await probe_client(CONTACTS_READ_KEY=READ_KEY)
    status, body = await raw_get(client, "/t/v1/things", header)
    expected = 403 if b"Write" in header else 401
    assert (status, body["error_code"]) == (
        expected,
        "INVALID_WRITE_KEY" if expected == 403 else "INVALID_TOKEN",
    )


async def test_the_keys_are_not_v2_credentials(probe_client):
    """docs/api.md: v2 routes take a bearer token; a v1 key there, right or wrong,
    is no credential at all (401 ``NOT_AUTHENTICATED``)."""
    client = await probe_client(CONTACTS_READ_KEY=READ_KEY)
    for headers in (WRITE, READ, {"X-Contacts-Write-Key": "wrong"}, {"X-Contacts-Read-Key": "x"}):
        await _error(
            await client.get("/api/v2/t/whoami", headers=headers), 401, "NOT_AUTHENTICATED"
        )
        await _error(
            await client.get("/api/v2/t/whoami/", headers=headers), 401, "NOT_AUTHENTICATED"
        )
    token = (await register(client, "ada@example.com"))["access_token"]
    response = await client.get("/api/v2/t/whoami", headers={**WRITE, **bearer(token)})
    assert (await response.json())["actor"]["kind"] == "user"
    # v1 (and non-versioned operator routes) still take the write key as before
    assert (await (await client.get("/t/whoami", headers=WRITE)).json())["actor"]["kind"] == (
        "write_key"
    )
    assert (await client.post("/t/v1/things", headers=WRITE)).status == 201
