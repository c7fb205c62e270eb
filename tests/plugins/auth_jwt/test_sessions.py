"""Refresh rotation and reuse, logout, password change and the password rules."""

import pytest

from contacts_api.core.appkeys import RESOURCES
from tests.plugins.auth_jwt import (
    FAST,
    PASSWORD,
    bearer,
    expect_error,
    login,
    register,
    set_user,
)

REFRESH, LOGOUT = "/api/v2/auth/refresh", "/api/v2/auth/logout"
PASSWORD_ROUTE = "/api/v2/users/me/password"
ME = "/api/v2/users/me"


@pytest.fixture
async def api(make_client, settings_factory):
    return await make_client(settings_factory(**FAST))


async def _refresh(api, token: str):
    return await api.post(REFRESH, json={"refresh_token": token})


async def _refreshed(api, token: str) -> dict:
    response = await _refresh(api, token)
    body = await response.json()
    assert response.status == 200, body
    return body


async def _token_rows(api, user_id: str) -> list[dict]:
    return await api.app[RESOURCES].db.fetch_all(
        "SELECT jti_hash, revoked_reason FROM refresh_tokens WHERE user_id = %(id)s "
        "ORDER BY issued_at",
        {"id": user_id},
    )


async def test_refresh_rotates_and_the_old_token_stops_working(api):
    first = await register(api, "ada@example.com")
    second = await _refreshed(api, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["user"]["email"] == "ada@example.com" and second["token_type"] == "bearer"
    me = await api.get("/api/v2/users/me", headers=bearer(second["access_token"]))
    assert me.status == 200
    third = await _refreshed(api, second["refresh_token"])
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])
    rows = await _token_rows(api, first["user"]["id"])
    assert [r["revoked_reason"] for r in rows] == ["rotated", "rotated", None]
    assert all(first["refresh_token"] not in r["jti_hash"] for r in rows)  # only hashes kept


async def test_reuse_of_a_rotated_token_revokes_its_family_only(make_client, settings_factory):
    # without the reuse grace period (tests/plugins/auth_jwt/test_refresh_grace.py)
    api = await make_client(settings_factory(**FAST, CONTACTS_API__AUTH__REFRESH_REUSE_GRACE_S="0"))
    stolen = await register(api, "ada@example.com")
    other_login = await (await login(api, "ada@example.com")).json()
    current = await _refreshed(api, stolen["refresh_token"])
    body = await expect_error(await _refresh(api, stolen["refresh_token"]), 401, "INVALID_TOKEN")
    assert "already used" in body["detail"]
    # the legitimate successor dies with it ...
    await expect_error(await _refresh(api, current["refresh_token"]), 401, "INVALID_TOKEN")
    # ... and so do the access tokens issued until now, the thief's included
    for access in (stolen["access_token"], current["access_token"]):
        await expect_error(await api.get(ME, headers=bearer(access)), 401, "INVALID_TOKEN")
    # ... but another sign-in of the same user (another family) lives on
    renewed = await _refreshed(api, other_login["refresh_token"])
    assert (await api.get(ME, headers=bearer(renewed["access_token"]))).status == 200


async def test_refresh_refused_for_a_deactivated_user(api):
    signed_in = await register(api, "ada@example.com")
    await set_user(api, signed_in["user"]["id"], is_active=False)
    await expect_error(await _refresh(api, signed_in["refresh_token"]), 401, "INVALID_TOKEN")


@pytest.mark.parametrize("body", [{}, {"refresh_token": 42}, {"refresh_token": None}])
async def test_refresh_body_is_validated(api, body):
    await expect_error(await api.post(REFRESH, json=body), 422, "VALIDATION_ERROR")


async def test_refresh_malformed_body(api):
    await expect_error(await api.post(REFRESH, data=b"{oops"), 400, "BAD_REQUEST")


async def test_logout_revokes_the_refresh_token(api):
    signed_in = await register(api, "ada@example.com")
    headers = bearer(signed_in["access_token"])
    response = await api.post(
        LOGOUT, json={"refresh_token": signed_in["refresh_token"]}, headers=headers
    )
    assert response.status == 204
    body = await expect_error(await _refresh(api, signed_in["refresh_token"]), 401, "INVALID_TOKEN")
    assert "revoked" in body["detail"]
    # the access token of the session dies with it (issue 14: it used to live on)
    await expect_error(await api.get(ME, headers=headers), 401, "INVALID_TOKEN")
    # a new sign-in, even in the same second, gets a working token
    fresh = bearer((await (await login(api, "ada@example.com")).json())["access_token"])
    assert (await api.get(ME, headers=fresh)).status == 200
    again = await api.post(
        LOGOUT, json={"refresh_token": signed_in["refresh_token"]}, headers=fresh
    )
    assert again.status == 204  # idempotent


async def test_logout_needs_a_bearer_and_the_callers_own_token(api):
    ada = await register(api, "ada@example.com")
    bob = await register(api, "bob@example.com")
    await expect_error(
        await api.post(LOGOUT, json={"refresh_token": ada["refresh_token"]}),
        401,
        "NOT_AUTHENTICATED",
    )
    response = await api.post(
        LOGOUT, json={"refresh_token": ada["refresh_token"]}, headers=bearer(bob["access_token"])
    )
    await expect_error(response, 401, "INVALID_TOKEN")
    assert (await _refresh(api, ada["refresh_token"])).status == 200  # untouched


async def test_password_change_revokes_refresh_tokens_and_old_password(api):
    first = await register(api, "ada@example.com")
    second = await (await login(api, "ada@example.com")).json()
    new = "a brand new passphrase"
    response = await api.post(
        PASSWORD_ROUTE,
        headers=bearer(first["access_token"]),
        json={"current_password": PASSWORD, "new_password": new},
    )
    assert response.status == 204
    for signed_in in (first, second):
        await expect_error(await _refresh(api, signed_in["refresh_token"]), 401, "INVALID_TOKEN")
        # access tokens too, on their next request
        await expect_error(
            await api.get(ME, headers=bearer(signed_in["access_token"])), 401, "INVALID_TOKEN"
        )
    await expect_error(await login(api, "ada@example.com"), 401, "INVALID_CREDENTIALS")
    relogged = await login(api, "ada@example.com", new)
    assert relogged.status == 200
    headers = bearer((await relogged.json())["access_token"])
    assert (await api.get(ME, headers=headers)).status == 200


async def test_password_change_checks_the_current_password_and_the_rules(api):
    signed_in = await register(api, "ada@example.com")
    headers = bearer(signed_in["access_token"])
    wrong = await api.post(
        PASSWORD_ROUTE,
        headers=headers,
        json={"current_password": "not it at all", "new_password": "x" * 9},
    )
    body = await expect_error(wrong, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["loc"] == ["body", "current_password"]
    short = await api.post(
        PASSWORD_ROUTE,
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    body = await expect_error(short, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["loc"] == ["body", "new_password"]
    await expect_error(await api.post(PASSWORD_ROUTE, json={}), 401, "NOT_AUTHENTICATED")
    assert (await login(api, "ada@example.com")).status == 200  # unchanged


async def test_passwords_differing_after_byte_72_do_not_match(api):
    base = "b" * 72
    await register(api, "long@example.com", password=base + "-first")
    await expect_error(
        await login(api, "long@example.com", base + "-other"), 401, "INVALID_CREDENTIALS"
    )
    await expect_error(await login(api, "long@example.com", base), 401, "INVALID_CREDENTIALS")
    assert (await login(api, "long@example.com", base + "-first")).status == 200


async def test_multibyte_password_over_72_bytes(api):
    # 40 characters, 120 bytes in UTF-8: bcrypt alone would raise or truncate
    base = "€" * 39
    await register(api, "euro@example.com", password=base + "a")
    await expect_error(await login(api, "euro@example.com", base + "b"), 401, "INVALID_CREDENTIALS")
    assert (await login(api, "euro@example.com", base + "a")).status == 200


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("x" * 7, False),
        ("x" * 8, True),
        ("x" * 256, True),
        ("x" * 257, False),
        (12345678, False),
    ],
)
async def test_password_length_rules(api, password, ok):
    response = await api.post(
        "/api/v2/auth/register", json={"email": "rules@example.com", "password": password}
    )
    if ok:
        assert response.status == 201
        assert (await login(api, "rules@example.com", password)).status == 200
    else:
        body = await expect_error(response, 422, "VALIDATION_ERROR")
        assert body["errors"][0]["loc"] == ["body", "password"]


async def test_login_with_an_absurdly_long_password_is_just_wrong(api):
    await register(api, "ada@example.com")
    await expect_error(
        await login(api, "ada@example.com", "p" * 100_000), 401, "INVALID_CREDENTIALS"
    )
