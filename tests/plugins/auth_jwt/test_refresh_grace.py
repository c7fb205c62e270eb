"""The refresh reuse grace period (``auth.refresh_reuse_grace_s``).

A browser app refreshes once per failed request, so parallel requests present
the same refresh token several times at once. Inside the grace period such a
reuse gets the very same rotated pair; after it, reuse still revokes the
whole family. Time passing is simulated by moving the rotation time back.
"""

import asyncio

import pytest

from contacts_api.core.appkeys import RESOURCES
from tests.plugins.auth_jwt import FAST, bearer, expect_error, login, register

REFRESH, LOGOUT = "/api/v2/auth/refresh", "/api/v2/auth/logout"


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


async def _age_rotations(api, user_id: str, seconds: float) -> None:
    """Pretend every rotation of the user happened ``seconds`` earlier."""
    await api.app[RESOURCES].db.execute(
        "UPDATE refresh_tokens SET revoked_at = revoked_at - make_interval(secs => %(s)s) "
        "WHERE user_id = %(id)s AND revoked_reason = 'rotated'",
        {"s": seconds, "id": user_id},
    )


async def _reasons(api, user_id: str) -> list[str | None]:
    rows = await api.app[RESOURCES].db.fetch_all(
        "SELECT revoked_reason FROM refresh_tokens WHERE user_id = %(id)s ORDER BY issued_at",
        {"id": user_id},
    )
    return [row["revoked_reason"] for row in rows]


async def test_parallel_refreshes_with_one_token_all_get_the_same_pair(api):
    signed_in = await register(api, "ada@example.com")
    answers = await asyncio.gather(*(_refresh(api, signed_in["refresh_token"]) for _ in range(5)))
    bodies = [await answer.json() for answer in answers]
    assert [answer.status for answer in answers] == [200] * 5, bodies
    assert len({body["refresh_token"] for body in bodies}) == 1
    assert len({body["access_token"] for body in bodies}) == 1
    assert bodies[0]["refresh_token"] != signed_in["refresh_token"]
    # the family lives on: one rotated token, one current one
    assert await _reasons(api, signed_in["user"]["id"]) == ["rotated", None]
    me = await api.get("/api/v2/users/me", headers=bearer(bodies[0]["access_token"]))
    assert me.status == 200
    assert (await _refresh(api, bodies[0]["refresh_token"])).status == 200


async def test_a_later_reuse_inside_the_grace_gets_the_same_pair(make_client, settings_factory):
    api = await make_client(settings_factory(**FAST, CONTACTS_API__AUTH__REFRESH_REUSE_GRACE_S="3"))
    signed_in = await register(api, "ada@example.com")
    first = await _refreshed(api, signed_in["refresh_token"])
    await asyncio.sleep(1.2)  # a second later, inside the 3 s grace
    again = await _refreshed(api, signed_in["refresh_token"])
    assert (again["refresh_token"], again["access_token"]) == (
        first["refresh_token"],
        first["access_token"],
    )


async def test_reuse_after_the_grace_revokes_the_family(api):
    signed_in = await register(api, "ada@example.com")
    other_sign_in = await (await login(api, "ada@example.com")).json()
    current = await _refreshed(api, signed_in["refresh_token"])
    await _age_rotations(api, signed_in["user"]["id"], 11)
    body = await expect_error(await _refresh(api, signed_in["refresh_token"]), 401, "INVALID_TOKEN")
    assert "already used" in body["detail"]
    await expect_error(await _refresh(api, current["refresh_token"]), 401, "INVALID_TOKEN")
    assert (await _refresh(api, other_sign_in["refresh_token"])).status == 200


async def test_a_chain_of_parallel_refreshes_stays_signed_in(api):
    """Tab A rotates t0 -> t1 and then t1 -> t2; tab B, late, presents t0 then t1."""
    t0 = (await register(api, "ada@example.com"))["refresh_token"]
    t1 = (await _refreshed(api, t0))["refresh_token"]
    t2 = (await _refreshed(api, t1))["refresh_token"]
    assert (await _refreshed(api, t0))["refresh_token"] == t1
    assert (await _refreshed(api, t1))["refresh_token"] == t2
    assert (await _refresh(api, t2)).status == 200


async def test_grace_does_not_revive_a_logged_out_sign_in(api):
    signed_in = await register(api, "ada@example.com")
    current = await _refreshed(api, signed_in["refresh_token"])
    logout = await api.post(
        LOGOUT,
        json={"refresh_token": current["refresh_token"]},
        headers=bearer(current["access_token"]),
    )
    assert logout.status in (200, 204)
    body = await expect_error(await _refresh(api, signed_in["refresh_token"]), 401, "INVALID_TOKEN")
    assert "revoked" in body["detail"]


async def test_grace_zero_turns_it_off(make_client, settings_factory):
    api = await make_client(settings_factory(**FAST, CONTACTS_API__AUTH__REFRESH_REUSE_GRACE_S="0"))
    signed_in = await register(api, "ada@example.com")
    await _refreshed(api, signed_in["refresh_token"])
    body = await expect_error(await _refresh(api, signed_in["refresh_token"]), 401, "INVALID_TOKEN")
    assert "already used" in body["detail"]
    assert await _reasons(api, signed_in["user"]["id"]) == ["rotated", "reuse"]


@pytest.mark.parametrize("value", ["-1", "61"])
async def test_grace_out_of_range_is_refused_at_startup(settings_factory, value):
    from contacts_api.core.app import create_app
    from contacts_api.core.plugins import PluginError

    settings = settings_factory(**FAST, CONTACTS_API__AUTH__REFRESH_REUSE_GRACE_S=value)
    with pytest.raises(PluginError, match="refresh_reuse_grace_s"):
        create_app(settings)
