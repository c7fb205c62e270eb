"""Registration, login, the caller's profile, and the admin routes."""

import datetime as dt
import json
import re

import pytest
from yarl import URL

from contacts_api.core.appkeys import RESOURCES
from contacts_api.plugins.auth_jwt.service import auth_service
from tests.plugins.auth_jwt import (
    FAST,
    PASSWORD,
    admin,
    bearer,
    expect_error,
    login,
    register,
    set_user,
)

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
EMPTY_PROFILE = {
    "full_name": None,
    "job_title": None,
    "company": None,
    "timezone": None,
    "avatar_url": None,
    "bio": None,
}


@pytest.fixture
async def api(make_client, settings_factory):
    return await make_client(settings_factory(**FAST))


def _age_s(stamp: str) -> float:
    moment = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return (dt.datetime.now(dt.UTC) - moment).total_seconds()


async def test_register_answers_the_user_and_tokens(api):
    body = await register(api, " Ada@Example.com ", full_name="Ada Lovelace")
    assert set(body) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    user = body["user"]
    assert set(user) == {
        "id",
        "email",
        "role",
        "is_active",
        "last_sign_in_at",
        "created_at",
        "profile",
    }
    assert user["email"] == "Ada@Example.com" and user["role"] == "user" and user["is_active"]
    assert user["profile"] == {**EMPTY_PROFILE, "full_name": "Ada Lovelace"}
    assert RFC3339.match(user["created_at"]) and -5 < _age_s(user["created_at"]) < 60
    # the profile row exists from the start (1:1, created together)
    count = await api.app[RESOURCES].db.fetch_val(
        "SELECT count(*) FROM user_profiles WHERE user_id = %(id)s", {"id": user["id"]}
    )
    assert count == 1


async def test_duplicate_email_in_another_case_is_a_conflict(api):
    await register(api, "ada@example.com")
    response = await api.post(
        "/api/v2/auth/register", json={"email": "ADA@Example.COM", "password": PASSWORD}
    )
    await expect_error(response, 409, "CONFLICT")
    assert await api.app[RESOURCES].db.fetch_val("SELECT count(*) FROM users") == 1
    # and logging in is case-insensitive too
    assert (await login(api, "Ada@EXAMPLE.com")).status == 200


async def test_a_taken_email_is_refused_before_hashing(api):
    """Hashing is the costly part of a registration: a taken email must not cost it."""
    await register(api, "ada@example.com")
    passwords = auth_service(api.app[RESOURCES]).passwords
    hashed: list[str] = []
    real_hash = passwords.hash

    async def counting_hash(password: str) -> str:
        hashed.append(password)
        return await real_hash(password)

    passwords.hash = counting_hash
    response = await api.post(
        "/api/v2/auth/register", json={"email": "ADA@example.com", "password": PASSWORD}
    )
    await expect_error(response, 409, "CONFLICT")
    assert hashed == []
    await register(api, "bob@example.com")
    assert hashed == [PASSWORD]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@b", "password": PASSWORD}, "email"),
        ({"email": ["a@b.c"], "password": PASSWORD}, "email"),
        ({"email": "a@b.co"}, "password"),
        ({"email": "a@b.co", "password": PASSWORD, "full_name": 7}, "full_name"),
        ({"email": "a@b.co", "password": PASSWORD, "role": "admin"}, "role"),
    ],
)
async def test_register_validation(api, body, field):
    result = await expect_error(
        await api.post("/api/v2/auth/register", json=body), 422, "VALIDATION_ERROR"
    )
    assert ["body", field] in [error["loc"] for error in result["errors"]]


async def test_register_malformed_body(api):
    await expect_error(
        await api.post("/api/v2/auth/register", data=b"not json"), 400, "BAD_REQUEST"
    )
    await expect_error(await api.post("/api/v2/auth/register", json=["a"]), 400, "BAD_REQUEST")


async def test_registration_is_closed_by_default(make_client, settings_factory):
    api = await make_client(settings_factory(CONTACTS_API__AUTH__BCRYPT_ROUNDS="4"))
    response = await api.post(
        "/api/v2/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
    )
    await expect_error(response, 403, "FORBIDDEN")
    assert await api.app[RESOURCES].db.fetch_val("SELECT count(*) FROM users") == 0
    # closed is closed, whatever the body says
    await expect_error(await api.post("/api/v2/auth/register", json={}), 403, "FORBIDDEN")


async def test_login_updates_last_sign_in_at(api):
    user_id = (await register(api, "ada@example.com"))["user"]["id"]
    await set_user(api, user_id, last_sign_in_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    response = await login(api, "ada@example.com")
    body = await response.json()
    assert response.status == 200
    assert set(body) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert body["user"]["id"] == user_id and _age_s(body["user"]["last_sign_in_at"]) < 60


async def test_wrong_password_and_unknown_email_get_the_same_answer(api):
    await register(api, "ada@example.com")
    wrong = await login(api, "ada@example.com", "wrong password!")
    unknown = await login(api, "nobody@example.com", "wrong password!")
    assert await expect_error(wrong, 401, "INVALID_CREDENTIALS") == await expect_error(
        unknown, 401, "INVALID_CREDENTIALS"
    )


async def test_deactivated_user_cannot_log_in(api):
    user_id = (await register(api, "ada@example.com"))["user"]["id"]
    await set_user(api, user_id, is_active=False)
    await expect_error(await login(api, "ada@example.com"), 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize("body", [{}, {"email": "a@b.co"}, {"email": 1, "password": "x"}])
async def test_login_validation(api, body):
    await expect_error(await api.post("/api/v2/auth/login", json=body), 422, "VALIDATION_ERROR")


async def test_me_and_profile_update(api):
    signed_in = await register(api, "ada@example.com", full_name="Ada")
    headers = bearer(signed_in["access_token"])
    me = await (await api.get("/api/v2/users/me/", headers=headers)).json()
    assert me == signed_in["user"] | {"last_sign_in_at": me["last_sign_in_at"]}
    changes = {
        "full_name": "Ada Lovelace",
        "job_title": "Analyst",
        "company": "Engines Ltd",
        "timezone": "Europe/London",
        "avatar_url": "https://example.com/ada.png",
        "bio": "First programmer.",
    }
    response = await api.patch("/api/v2/users/me/profile", json=changes, headers=headers)
    assert response.status == 200 and await response.json() == changes
    # PUT is a partial update too; null clears a field
    response = await api.put("/api/v2/users/me/profile", json={"bio": None}, headers=headers)
    assert await response.json() == {**changes, "bio": None}
    me = await (await api.get("/api/v2/users/me", headers=headers)).json()
    assert me["profile"] == {**changes, "bio": None}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"avatar_url": "http://[::1/x.png"}, "avatar_url"),
        ({"bio": "x" * 5001}, "bio"),
        ({"full_name": 3}, "full_name"),
        ({"email": "new@example.com"}, "email"),
    ],
)
async def test_profile_validation(api, body, field):
    headers = bearer((await register(api, "ada@example.com"))["access_token"])
    response = await api.patch("/api/v2/users/me/profile", json=body, headers=headers)
    result = await expect_error(response, 422, "VALIDATION_ERROR")
    assert result["errors"][0]["loc"] == ["body", field]


async def test_user_routes_need_a_user(api, settings):
    await expect_error(await api.get("/api/v2/users/me"), 401, "NOT_AUTHENTICATED")
    write_key = {"X-Contacts-Write-Key": settings.auth.write_key.reveal()}
    await expect_error(
        await api.get("/api/v2/users/me", headers=write_key), 401, "NOT_AUTHENTICATED"
    )


async def test_non_admin_gets_403_on_admin_routes(api):
    target = (await register(api, "bob@example.com"))["user"]["id"]
    headers = bearer((await register(api, "ada@example.com"))["access_token"])
    await expect_error(await api.get("/api/v2/users/", headers=headers), 403, "FORBIDDEN")
    await expect_error(await api.get(f"/api/v2/users/{target}", headers=headers), 403, "FORBIDDEN")
    response = await api.patch(f"/api/v2/users/{target}", json={"role": "admin"}, headers=headers)
    await expect_error(response, 403, "FORBIDDEN")
    await expect_error(await api.get("/api/v2/users/"), 401, "NOT_AUTHENTICATED")


async def test_admin_lists_users_page_by_page(api):
    headers = bearer((await admin(api))["access_token"])
    for index in range(4):
        await register(api, f"user{index}@example.com", full_name=f"User {index}")
    first = await (await api.get("/api/v2/users/?limit=2", headers=headers)).json()
    assert [u["email"] for u in first["results"]] == ["admin@example.com", "user0@example.com"]
    assert first["previous"] is None
    assert first["next"] == str(api.make_url("/api/v2/users/?limit=2&offset=2"))

    async def follow(link: str) -> dict:  # absolute links, on this server
        return await (await api.get(URL(link).path_qs, headers=headers)).json()

    second = await follow(first["next"])
    assert [u["email"] for u in second["results"]] == ["user1@example.com", "user2@example.com"]
    third = await follow(second["next"])
    assert [u["email"] for u in third["results"]] == ["user3@example.com"]
    assert third["next"] is None
    assert await follow(third["previous"]) == second
    found = await (await api.get("/api/v2/users/?search=user 2", headers=headers)).json()
    assert [u["email"] for u in found["results"]] == ["user2@example.com"]
    admins = await (await api.get("/api/v2/users/?role=admin", headers=headers)).json()
    assert [u["email"] for u in admins["results"]] == ["admin@example.com"]


async def test_page_links_use_the_configured_base_url(make_client, settings_factory):
    settings = settings_factory(**FAST, CONTACTS_API__SERVER__BASE_URL="https://api.example.com/")
    api = await make_client(settings)
    headers = bearer((await admin(api))["access_token"])
    await register(api, "bob@example.com")
    page = await (await api.get("/api/v2/users?page_size=1&role=", headers=headers)).json()
    assert page["next"] == "https://api.example.com/api/v2/users?page_size=1&role=&offset=1"


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "offset=-1", "role=root", "is_active=maybe", "colour=blue"]
)
async def test_admin_list_query_validation(api, query):
    headers = bearer((await admin(api))["access_token"])
    await expect_error(
        await api.get(f"/api/v2/users/?{query}", headers=headers), 422, "VALIDATION_ERROR"
    )


async def test_admin_changes_role_and_deactivates(api):
    headers = bearer((await admin(api))["access_token"])
    bob = await register(api, "bob@example.com")
    bob_id = bob["user"]["id"]
    response = await api.patch(f"/api/v2/users/{bob_id}", json={"role": "admin"}, headers=headers)
    assert response.status == 200 and (await response.json())["role"] == "admin"
    response = await api.put(f"/api/v2/users/{bob_id}/", json={"is_active": False}, headers=headers)
    assert (await response.json())["is_active"] is False
    await expect_error(
        await api.get("/api/v2/users/me", headers=bearer(bob["access_token"])), 401, "INVALID_TOKEN"
    )
    refreshed = await api.post("/api/v2/auth/refresh", json={"refresh_token": bob["refresh_token"]})
    await expect_error(refreshed, 401, "INVALID_TOKEN")
    listed = await (await api.get("/api/v2/users/?is_active=false", headers=headers)).json()
    assert [u["id"] for u in listed["results"]] == [bob_id]


async def test_admin_update_errors(api):
    signed_in = await admin(api)
    headers, own_id = bearer(signed_in["access_token"]), signed_in["user"]["id"]
    missing = "00000000-0000-4000-8000-000000000000"
    await expect_error(
        await api.patch(f"/api/v2/users/{missing}", json={"role": "user"}, headers=headers),
        404,
        "NOT_FOUND",
    )
    await expect_error(
        await api.patch("/api/v2/users/not-a-uuid", json={"role": "user"}, headers=headers),
        404,
        "NOT_FOUND",
    )
    for body in ({"role": "root"}, {"is_active": "no"}, {"role": None}, {"email": "x@y.z"}):
        await expect_error(
            await api.patch(f"/api/v2/users/{own_id}", json=body, headers=headers),
            422,
            "VALIDATION_ERROR",
        )
    await expect_error(
        await api.patch(f"/api/v2/users/{own_id}", json={"role": "user"}, headers=headers),
        403,
        "FORBIDDEN",
    )
    await expect_error(
        await api.patch(f"/api/v2/users/{own_id}", json={"is_active": False}, headers=headers),
        403,
        "FORBIDDEN",
    )
    got = await api.get(f"/api/v2/users/{own_id}", headers=headers)
    assert (await got.json())["role"] == "admin"


async def test_write_key_cannot_administer_users(api, settings):
    """User administration needs an admin's bearer token (or the CLI): the
    write key on a v2 route is no credential."""
    bob_id = (await register(api, "bob@example.com"))["user"]["id"]
    write_key = {"X-Contacts-Write-Key": settings.auth.write_key.reveal()}
    await expect_error(await api.get("/api/v2/users/", headers=write_key), 401, "NOT_AUTHENTICATED")
    response = await api.patch(
        f"/api/v2/users/{bob_id}", json={"role": "admin", "is_active": False}, headers=write_key
    )
    await expect_error(response, 401, "NOT_AUTHENTICATED")
    row = await api.app[RESOURCES].db.fetch_one(
        "SELECT role, is_active FROM users WHERE id = %(id)s", {"id": bob_id}
    )
    assert (row["role"], row["is_active"]) == ("user", True)


async def test_hostile_inputs_are_422_never_500(api):
    headers = bearer((await admin(api))["access_token"])
    attempts = [
        (
            "POST",
            "/api/v2/auth/register",
            {"json": {"email": "a\x00b@example.com", "password": PASSWORD}},
        ),
        (
            "POST",
            "/api/v2/auth/register",
            {"json": {"email": "nul@example.com", "password": "pass\x00word"}},
        ),
        (
            "POST",
            "/api/v2/auth/login",
            {"json": {"email": "a\x00b@example.com", "password": PASSWORD}},
        ),
        ("PATCH", "/api/v2/users/me/profile", {"json": {"bio": "x\x00y"}, "headers": headers}),
        ("GET", "/api/v2/users/?search=a%00b", {"headers": headers}),
        (
            "POST",
            "/api/v2/auth/register",
            {"json": {"email": "x" * 300 + "@example.com", "password": PASSWORD}},
        ),
    ]
    for method, path, kwargs in attempts:
        await expect_error(await api.request(method, path, **kwargs), 422, "VALIDATION_ERROR")
    # unusual but valid input works
    signed_in = await register(api, "zoë.ünïcode@exämple.com", full_name="Zoë 🚀")
    assert signed_in["user"]["profile"]["full_name"] == "Zoë 🚀"


ROUTES = [
    ("POST", "/api/v2/auth/register", ("email", "password", "full_name")),
    ("POST", "/api/v2/auth/login", ("email", "password")),
    ("POST", "/api/v2/auth/refresh", ("refresh_token",)),
    ("POST", "/api/v2/auth/logout", ("refresh_token",)),
    ("PATCH", "/api/v2/users/me/profile", ("full_name", "timezone", "avatar_url", "bio")),
    ("POST", "/api/v2/users/me/password", ("current_password", "new_password")),
    ("PATCH", "/api/v2/users/{id}", ("is_active", "role")),
]
ODD_VALUES = [None, [], {}, 1e308, -1, True, "", " ", "x" * 10_000]
CLIENT_ERRORS = {
    "BAD_REQUEST",
    "NOT_AUTHENTICATED",
    "INVALID_TOKEN",
    "INVALID_CREDENTIALS",
    "FORBIDDEN",
    "CONFLICT",
    "VALIDATION_ERROR",
    "RATE_LIMITED",
}


@pytest.mark.parametrize(("method", "path", "fields"), ROUTES)
async def test_odd_bodies_get_json_errors_never_500(api, method, path, fields):
    signed_in = await admin(api)
    headers = bearer(signed_in["access_token"])
    path = path.replace("{id}", signed_in["user"]["id"])
    bodies = [b"null", b"[]", b'"text"', b"{", b"\xff\xfe"]
    bodies += [json.dumps({field: value for field in fields}).encode() for value in ODD_VALUES]
    for body in bodies:
        response = await api.request(
            method, path, data=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status < 500, (body[:40], response.status)
        if response.status >= 400:
            assert (await response.json())["error_code"] in CLIENT_ERRORS
        else:  # only the profile takes nulls and blanks: they clear its fields
            assert path.endswith("/profile") and response.status == 200, body[:40]
