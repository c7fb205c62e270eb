"""Bearer tokens against the real server: what is accepted, what is refused
with 401 ``INVALID_TOKEN``, and that the user row is checked on every request."""

import base64
import json
import time

import jwt
import pytest

from tests.conftest import JWT_SECRET
from tests.plugins.auth_jwt import (
    FAST,
    bearer,
    expect_error,
    mint,
    raw_get,
    register,
    set_user,
)

ME = "/api/v2/users/me"


@pytest.fixture
async def api(make_client, settings_factory):
    return await make_client(settings_factory(**FAST))


@pytest.fixture
async def ada(api):
    return await register(api, "ada@example.com", full_name="Ada Lovelace")


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_access_token_claims_and_lifetimes(api, ada):
    access, refresh = _claims(ada["access_token"]), _claims(ada["refresh_token"])
    for claims, kind, ttl in ((access, "access", 1800), (refresh, "refresh", 604_800)):
        assert claims["type"] == kind and claims["sub"] == ada["user"]["id"]
        assert claims["exp"] - claims["iat"] == ttl
        assert abs(claims["iat"] - time.time()) < 60 and claims["jti"]
    assert access["jti"] != refresh["jti"]
    assert jwt.get_unverified_header(ada["access_token"])["alg"] == "HS256"
    assert ada["expires_in"] == 1800 and ada["token_type"] == "bearer"
    me = await api.get(ME, headers=bearer(ada["access_token"]))
    assert me.status == 200 and (await me.json())["email"] == "ada@example.com"


async def test_token_lifetimes_are_configurable(make_client, settings_factory):
    settings = settings_factory(
        **FAST,
        CONTACTS_API__AUTH__ACCESS_TOKEN_TTL_S="60",
        CONTACTS_API__AUTH__REFRESH_TOKEN_TTL_S="120",
    )
    signed_in = await register(await make_client(settings), "ttl@example.com")
    access, refresh = _claims(signed_in["access_token"]), _claims(signed_in["refresh_token"])
    assert (access["exp"] - access["iat"], refresh["exp"] - refresh["iat"]) == (60, 120)
    assert signed_in["expires_in"] == 60


async def test_refresh_token_is_not_an_access_token(api, ada):
    body = await expect_error(
        await api.get(ME, headers=bearer(ada["refresh_token"])), 401, "INVALID_TOKEN"
    )
    assert body["detail"] == "An access token is required."


async def test_access_token_is_not_a_refresh_token(api, ada):
    response = await api.post("/api/v2/auth/refresh", json={"refresh_token": ada["access_token"]})
    body = await expect_error(response, 401, "INVALID_TOKEN")
    assert body["detail"] == "A refresh token is required."  # refused for its type


async def test_expired_token(api, ada):
    past = int(time.time()) - 3600
    token = mint({"sub": ada["user"]["id"], "iat": past - 1800, "exp": past})
    body = await expect_error(await api.get(ME, headers=bearer(token)), 401, "INVALID_TOKEN")
    assert "expired" in body["detail"]


async def test_tampered_token(api, ada):
    header, payload, signature = ada["access_token"].split(".")
    claims = _claims(ada["access_token"])
    forged = ".".join([header, _b64({**claims, "sub": claims["sub"][:-1] + "0"}), signature])
    await expect_error(await api.get(ME, headers=bearer(forged)), 401, "INVALID_TOKEN")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    token = ".".join([header, payload, flipped])
    await expect_error(await api.get(ME, headers=bearer(token)), 401, "INVALID_TOKEN")


async def test_alg_none_token(api, ada):
    claims = _claims(ada["access_token"])
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    await expect_error(await api.get(ME, headers=bearer(unsigned)), 401, "INVALID_TOKEN")


async def test_other_algorithm_with_the_right_secret(api, ada):
    claims = _claims(ada["access_token"])
    token = jwt.encode(claims, JWT_SECRET + "x" * 16, algorithm="HS512")
    await expect_error(await api.get(ME, headers=bearer(token)), 401, "INVALID_TOKEN")
    hs384 = jwt.encode(claims, JWT_SECRET, algorithm="HS384")
    await expect_error(await api.get(ME, headers=bearer(hs384)), 401, "INVALID_TOKEN")


async def test_foreign_secret_token(api, ada):
    token = mint({"sub": ada["user"]["id"]}, secret="another-deployment-secret-" + "y" * 32)
    await expect_error(await api.get(ME, headers=bearer(token)), 401, "INVALID_TOKEN")
    # the same claims signed with our secret are accepted: the secret made the difference
    assert (await api.get(ME, headers=bearer(mint({"sub": ada["user"]["id"]})))).status == 200


@pytest.mark.parametrize("claim", ["sub", "type", "iat", "exp", "jti"])
async def test_token_missing_a_claim(api, ada, claim):
    token = mint({"sub": ada["user"]["id"]}, drop=(claim,))
    await expect_error(await api.get(ME, headers=bearer(token)), 401, "INVALID_TOKEN")


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Bearer not.a.jwt", "bearer abc", "Bearer " + "x" * 5000]
)
async def test_malformed_bearer_headers(api, header):
    await expect_error(await api.get(ME, headers={"Authorization": header}), 401, "INVALID_TOKEN")


@pytest.mark.parametrize(
    "header", [b"Authorization: Bearer \xff\xfe.a.b", "Authorization: Bearer é.è.à".encode()]
)
async def test_non_ascii_bearer_header(api, header):
    assert await raw_get(api, ME, header) == (
        401,
        {"detail": "The token is invalid.", "error_code": "INVALID_TOKEN"},
    )


async def test_non_ascii_refresh_token(api):
    response = await api.post("/api/v2/auth/refresh", json={"refresh_token": "ü.ö.ä"})
    await expect_error(response, 401, "INVALID_TOKEN")


async def test_other_schemes_and_no_header_are_anonymous(api):
    await expect_error(await api.get(ME), 401, "NOT_AUTHENTICATED")
    basic = {"Authorization": "Basic YWRhOnB3"}
    await expect_error(await api.get(ME, headers=basic), 401, "NOT_AUTHENTICATED")


async def test_unknown_user_token(api):
    await expect_error(await api.get(ME, headers=bearer(mint())), 401, "INVALID_TOKEN")
    await expect_error(
        await api.get(ME, headers=bearer(mint({"sub": "not-a-uuid"}))), 401, "INVALID_TOKEN"
    )


async def test_deactivated_users_live_token_is_refused_on_its_next_request(api, ada):
    headers = bearer(ada["access_token"])
    assert (await api.get(ME, headers=headers)).status == 200
    await set_user(api, ada["user"]["id"], is_active=False)
    await expect_error(await api.get(ME, headers=headers), 401, "INVALID_TOKEN")
    await set_user(api, ada["user"]["id"], is_active=True)
    assert (await api.get(ME, headers=headers)).status == 200


async def test_deleted_users_token_is_refused(api, ada):
    from contacts_api.core.appkeys import RESOURCES

    await api.app[RESOURCES].db.execute(
        "DELETE FROM users WHERE id = %(id)s", {"id": ada["user"]["id"]}
    )
    await expect_error(await api.get(ME, headers=bearer(ada["access_token"])), 401, "INVALID_TOKEN")


async def test_role_is_read_from_the_user_row_not_the_token(api, ada):
    headers = bearer(ada["access_token"])
    await expect_error(await api.get("/api/v2/users/", headers=headers), 403, "FORBIDDEN")
    await set_user(api, ada["user"]["id"], role="admin")
    assert (await api.get("/api/v2/users/", headers=headers)).status == 200  # same token
    await set_user(api, ada["user"]["id"], role="user")
    await expect_error(await api.get("/api/v2/users/", headers=headers), 403, "FORBIDDEN")


async def test_algorithm_is_configurable_and_pinned(make_client, settings_factory):
    settings = settings_factory(
        **FAST, CONTACTS_API__AUTH__JWT_ALGORITHM="HS512", JWT_SECRET="s" * 64
    )
    api = await make_client(settings)
    signed_in = await register(api, "hs512@example.com")
    assert jwt.get_unverified_header(signed_in["access_token"])["alg"] == "HS512"
    assert (await api.get(ME, headers=bearer(signed_in["access_token"]))).status == 200
    hs256 = mint({"sub": signed_in["user"]["id"]}, secret="s" * 64)
    await expect_error(await api.get(ME, headers=bearer(hs256)), 401, "INVALID_TOKEN")
