"""API keys: shown once, stored hashed, scoped, revocable, never above the owner."""

import asyncio
import datetime as dt
import io
import uuid

import pytest

from contacts_api.core import sse
from contacts_api.core.appkeys import RESOURCES
from contacts_api.plugins.imports import events as import_events
from contacts_api.plugins.imports import repository as import_repo
from tests.plugins.auth_jwt import FAST, admin, bearer, expect_error, register, set_user
from tests.sse_client import read_events

WRITE_KEY = "test-write-key"
KEYS = "/api/v2/users/me/api-keys"


@pytest.fixture
async def api(make_client, settings_factory):
    return await make_client(settings_factory(CONTACTS_WRITE_KEY=WRITE_KEY, **FAST))


async def make_key(client, token: str, scopes: list[str], **extra) -> dict:
    response = await client.post(
        KEYS, json={"name": "ci", "scopes": scopes, **extra}, headers=bearer(token)
    )
    body = await response.json()
    assert response.status == 201, body
    return body


async def test_a_new_key_shows_its_secret_once_and_the_database_keeps_no_plaintext(api):
    user = await register(api, "ada@example.com")
    created = await make_key(api, user["access_token"], ["read"])
    assert set(created) == {
        "id",
        "name",
        "scopes",
        "key",
        "created_at",
        "expires_at",
        "last_used_at",
    }
    key = created["key"]
    assert key.startswith(f"cak_{created['id'].replace('-', '')}_")
    secret = key.split("_", 2)[2]
    # listed without the secret
    listed = await (await api.get(KEYS, headers=bearer(user["access_token"]))).json()
    assert listed["results"] == [{k: v for k, v in created.items() if k != "key"}]
    # the row holds neither the key nor its secret, in any column
    row = await api.app[RESOURCES].db.fetch_one(
        "SELECT id::text, user_id::text, name, array_to_string(scopes, ','),"
        " encode(secret_hash, 'escape') AS raw, encode(secret_hash, 'hex') AS hex"
        " FROM api_keys"
    )
    dumped = " ".join(str(v) for v in row.values())
    assert secret not in dumped and key not in dumped
    assert len(bytes.fromhex(row["hex"])) == 32
    # and the key works, as its owner
    me = await api.get("/api/v2/users/me", headers=bearer(key))
    assert me.status == 200 and (await me.json())["email"] == "ada@example.com"


async def test_last_used_at_is_written_at_most_once_a_minute(api):
    user = await register(api, "ada@example.com")
    created = await make_key(api, user["access_token"], ["read"])
    db = api.app[RESOURCES].db
    for _ in range(3):
        assert (await api.get("/api/v2/users/me", headers=bearer(created["key"]))).status == 200
    first = await db.fetch_val("SELECT last_used_at FROM api_keys")
    assert first is not None
    assert (await api.get("/api/v2/users/me", headers=bearer(created["key"]))).status == 200
    assert await db.fetch_val("SELECT last_used_at FROM api_keys") == first


async def test_a_read_only_key_is_refused_writes_and_imports_with_insufficient_scope(api):
    boss = await admin(api)
    key = (await make_key(api, boss["access_token"], ["read"]))["key"]
    assert (await api.get("/api/v1/contacts/", headers=bearer(key))).status == 200
    assert (await api.get("/api/v2/contacts/", headers=bearer(key))).status == 200
    write = await api.post("/api/v1/contacts/", json={"first_name": "A"}, headers=bearer(key))
    await expect_error(write, 403, "INSUFFICIENT_SCOPE")
    upload = await api.post(
        "/api/v1/contacts/import",
        data={"file": io.BytesIO(b"first_name\nA\n")},
        headers=bearer(key),
    )
    await expect_error(upload, 403, "INSUFFICIENT_SCOPE")
    export = await api.post(
        "/api/v2/exports/contacts/export", json={"contact_uuids": []}, headers=bearer(key)
    )
    await expect_error(export, 403, "INSUFFICIENT_SCOPE")
    more = await api.post(KEYS, json={"name": "x", "scopes": ["read"]}, headers=bearer(key))
    await expect_error(more, 403, "INSUFFICIENT_SCOPE")


async def test_an_admins_write_key_writes_v1_data(api):
    boss = await admin(api)
    key = (await make_key(api, boss["access_token"], ["read", "write"]))["key"]
    created = await api.post("/api/v1/contacts/", json={"first_name": "A"}, headers=bearer(key))
    assert created.status == 201, await created.text()


async def test_a_key_never_exceeds_its_owners_role(api):
    user = await register(api, "ada@example.com")
    for scopes in (["admin"], ["read", "import"]):
        response = await api.post(
            KEYS, json={"name": "x", "scopes": scopes}, headers=bearer(user["access_token"])
        )
        body = await expect_error(response, 422, "VALIDATION_ERROR")
        assert body["errors"][0]["loc"] == ["body", "scopes"]
    # a user's write key is still not the v1 write key
    key = (await make_key(api, user["access_token"], ["read", "write"]))["key"]
    refused = await api.post("/api/v1/contacts/", json={"first_name": "A"}, headers=bearer(key))
    await expect_error(refused, 403, "INVALID_WRITE_KEY")
    # an admin key whose owner is demoted loses the admin scope on its next request
    boss = await admin(api, "boss@example.com")
    admin_key = (await make_key(api, boss["access_token"], ["read", "admin"]))["key"]
    assert (await api.get("/api/v2/users/", headers=bearer(admin_key))).status == 200
    await set_user(api, boss["user"]["id"], role="user")
    demoted = await api.get("/api/v2/users/", headers=bearer(admin_key))
    await expect_error(demoted, 403, "INSUFFICIENT_SCOPE")


async def test_a_key_never_mints_keys_and_revokes_only_itself(api):
    """A leaked key must not outlive its revocation through keys it made, nor lock
    its owner's other integrations out (found by a black-box check)."""
    boss = await admin(api)
    first = await make_key(api, boss["access_token"], ["read", "write"])
    second = await make_key(api, boss["access_token"], ["read", "write"])
    minted = await api.post(
        KEYS, json={"name": "x", "scopes": ["read"]}, headers=bearer(first["key"])
    )
    await expect_error(minted, 403, "FORBIDDEN")
    sibling = await api.delete(f"{KEYS}/{second['id']}", headers=bearer(first["key"]))
    await expect_error(sibling, 403, "FORBIDDEN")
    assert (await api.get("/api/v2/contacts/", headers=bearer(second["key"]))).status == 200
    itself = await api.delete(f"{KEYS}/{first['id']}", headers=bearer(first["key"]))
    assert itself.status == 204
    gone = await api.get("/api/v2/contacts/", headers=bearer(first["key"]))
    await expect_error(gone, 401, "INVALID_TOKEN")


async def test_a_user_holds_a_bounded_number_of_active_keys(api):
    """Each key has its own request budget: unbounded keys would multiply it."""
    from contacts_api.plugins.auth_api_keys.service import MAX_ACTIVE_KEYS

    user = await register(api, "many@example.com")
    token = user["access_token"]
    keys = [await make_key(api, token, ["read"]) for _ in range(MAX_ACTIVE_KEYS)]
    over = await api.post(KEYS, json={"name": "x", "scopes": ["read"]}, headers=bearer(token))
    await expect_error(over, 409, "CONFLICT")
    assert (await api.delete(f"{KEYS}/{keys[0]['id']}", headers=bearer(token))).status == 204
    await make_key(api, token, ["read"])  # a revoked key frees its place


async def test_an_apollo_url_search_is_a_read(api):
    boss = await admin(api)
    read = (await make_key(api, boss["access_token"], ["read"]))["key"]
    write = (await make_key(api, boss["access_token"], ["write"]))["key"]
    body = {"url": "https://app.apollo.io/#/people?personTitles[]=ceo"}
    found = await api.post("/api/v2/apollo/contacts", json=body, headers=bearer(read))
    assert found.status == 200, await found.text()
    refused = await api.post("/api/v2/apollo/contacts", json=body, headers=bearer(write))
    await expect_error(refused, 403, "INSUFFICIENT_SCOPE")


async def test_revoked_expired_and_deactivated_keys_are_401_on_the_next_request(api):
    user = await register(api, "ada@example.com")
    token = user["access_token"]
    revoked, expired, owner_gone = [await make_key(api, token, ["read", "write"]) for _ in range(3)]
    for created in (revoked, expired, owner_gone):
        assert (await api.get("/api/v2/users/me", headers=bearer(created["key"]))).status == 200
    # revoked by the key itself
    gone = await api.delete(f"{KEYS}/{revoked['id']}", headers=bearer(revoked["key"]))
    assert gone.status == 204
    again = await api.get("/api/v2/users/me", headers=bearer(revoked["key"]))
    await expect_error(again, 401, "INVALID_TOKEN")
    # expired
    await api.app[RESOURCES].db.execute(
        "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %(id)s",
        {"id": expired["id"]},
    )
    late = await api.get("/api/v2/users/me", headers=bearer(expired["key"]))
    await expect_error(late, 401, "INVALID_TOKEN")
    listed = await (await api.get(KEYS, headers=bearer(owner_gone["key"]))).json()
    assert {k["id"] for k in listed["results"]} == {expired["id"], owner_gone["id"]}
    # the owner deactivated: every key stops
    await set_user(api, user["user"]["id"], is_active=False)
    off = await api.get("/api/v2/users/me", headers=bearer(owner_gone["key"]))
    await expect_error(off, 401, "INVALID_TOKEN")


async def test_unknown_malformed_and_tampered_keys_are_401_never_anonymous(api):
    user = await register(api, "ada@example.com")
    key = (await make_key(api, user["access_token"], ["read"]))["key"]
    for wrong in ("cak_", "cak_nothex_x", key[:-1] + ("A" if key[-1] != "A" else "B")):
        response = await api.get("/api/v1/contacts/", headers=bearer(wrong))
        await expect_error(response, 401, "INVALID_TOKEN")


async def test_admins_list_and_revoke_anyones_keys(api):
    user = await register(api, "ada@example.com")
    created = await make_key(api, user["access_token"], ["read"])
    boss = await admin(api)
    uid = user["user"]["id"]
    listed = await api.get(f"/api/v2/users/{uid}/api-keys", headers=bearer(boss["access_token"]))
    assert [k["id"] for k in (await listed.json())["results"]] == [created["id"]]
    nosy = await api.get(f"/api/v2/users/{uid}/api-keys", headers=bearer(user["access_token"]))
    await expect_error(nosy, 403, "FORBIDDEN")
    revoked = await api.delete(
        f"/api/v2/users/{uid}/api-keys/{created['id']}", headers=bearer(boss["access_token"])
    )
    assert revoked.status == 204
    await expect_error(
        await api.get("/api/v2/users/me", headers=bearer(created["key"])), 401, "INVALID_TOKEN"
    )
    # someone else's key through /me is simply not found
    other = await make_key(api, boss["access_token"], ["read"])
    mine = await api.delete(f"{KEYS}/{other['id']}", headers=bearer(user["access_token"]))
    await expect_error(mine, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "", "scopes": ["read"]},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
        {"name": "x", "scopes": "read"},
        {"name": "x", "scopes": ["read"], "expires_at": "tomorrow"},
        {"name": "x", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"},
        {"name": "x", "scopes": ["read"], "expires_at": "2999-01-01T00:00:00"},
        {"name": "x", "scopes": ["read"], "extra": 1},
    ],
)
async def test_bad_creation_bodies_are_422(api, body):
    user = await register(api, "ada@example.com")
    response = await api.post(KEYS, json=body, headers=bearer(user["access_token"]))
    await expect_error(response, 422, "VALIDATION_ERROR")


async def test_an_expiry_in_the_future_is_kept(api):
    user = await register(api, "ada@example.com")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)
    created = await make_key(
        api, user["access_token"], ["read"], expires_at=later.isoformat().replace("+00:00", "Z")
    )
    assert created["expires_at"] == later.isoformat().replace("+00:00", "Z")


async def test_the_v1_keys_are_not_key_owners(api):
    response = await api.get("/api/v1/contacts/", headers={"X-Contacts-Write-Key": WRITE_KEY})
    assert response.status == 200
    own = await api.get(KEYS, headers={"X-Contacts-Write-Key": WRITE_KEY})
    await expect_error(own, 401, "NOT_AUTHENTICATED")  # not a v2 credential at all


async def test_an_event_stream_closes_once_its_key_is_revoked(api, monkeypatch):
    """A progress stream re-checks its credentials (core.sse): an import can stream
    for half an hour, and a revoked key must not keep it open that long."""
    monkeypatch.setattr(sse, "REAUTHORIZE_S", 0.05)
    monkeypatch.setattr(import_events, "POLL_INTERVAL_S", 0.02)
    owner = await admin(api)
    key = await make_key(api, owner["access_token"], ["import", "read"])
    job_id = str(uuid.uuid4())  # a pending job no worker will take: its stream stays open
    await import_repo.create_job(api.app[RESOURCES].db, job_id, "leads.csv", "imports/x.csv", 1)
    url = f"/api/v1/contacts/import/{job_id}/events"

    stream = await api.get(url, headers=bearer(key["key"]))
    assert [e.data["status"] for e in await read_events(stream, stop_after=1)] == ["pending"]
    await asyncio.sleep(0.3)  # several checks while the key is valid: still open
    assert not stream.content.at_eof()

    revoked = await api.delete(f"{KEYS}/{key['id']}", headers=bearer(owner["access_token"]))
    assert revoked.status == 204
    assert await asyncio.wait_for(read_events(stream), 10) == []  # closed, no more events
    await expect_error(await api.get(url, headers=bearer(key["key"])), 401, "INVALID_TOKEN")
