"""Sign-in, session, profile and team calls of the app (services/auth/*,
services/user.ts, settings/security and settings/team pages)."""

from tests.plugins.auth_jwt import PASSWORD, bearer, set_user
from tests.plugins.contact360_compat.conftest import PREFIX
from tests.plugins.contact360_compat.fields import BOOL, DICT, OPT_STR, STR, check

# What mapApiToUser and the session reader use.
USER_FIELDS = {
    "id": STR,
    "email": STR,
    "name": OPT_STR,
    "role": STR,
    "avatar_url": OPT_STR,
    "is_active": BOOL,
    "job_title": OPT_STR,
    "bio": OPT_STR,
    "timezone": OPT_STR,
    "notifications": DICT,
    "last_sign_in_at": OPT_STR,
}


async def _post(client, path: str, body: dict, status: int = 200, headers=None) -> dict:
    response = await client.post(PREFIX + path, json=body, headers=headers)
    answer = await response.json()
    assert response.status == status, answer
    return answer


async def test_register_with_name_then_login(client):
    registered = await _post(
        client,
        "/api/v2/auth/register/",
        {"name": "Grace Hopper", "email": "grace@example.com", "password": PASSWORD},
        status=201,
    )
    check(registered, {"access_token": STR, "refresh_token": STR, "message": STR})
    check(registered["user"], USER_FIELDS, "register.user")
    assert registered["user"]["name"] == "Grace Hopper"
    assert registered["user"]["role"] == "Member"
    logged_in = await _post(
        client, "/api/v2/auth/login/", {"email": "grace@example.com", "password": PASSWORD}
    )
    check(logged_in, {"access_token": STR, "refresh_token": STR, "message": STR})


async def test_register_refuses_bad_input_with_the_field_named(client):
    body = await _post(
        client,
        "/api/v2/auth/register/",
        {"name": "G", "email": "not-an-email", "password": "short"},
        status=422,
    )
    assert {e["loc"][-1] for e in body["errors"]} == {"email", "password"}


async def test_wrong_password_is_401(client, app):
    body = await _post(
        client,
        "/api/v2/auth/login/",
        {"email": "ada@example.com", "password": "wrong password!"},
        status=401,
    )
    assert body["error_code"] == "INVALID_CREDENTIALS"


async def test_session_and_profile(app):
    session = await app.json("GET", "/api/v2/auth/session/")
    check(session["user"], USER_FIELDS, "session.user")
    assert session["user"]["email"] == "ada@example.com"
    assert session["user"]["role"] == "Admin"
    profile = await app.json("GET", "/api/v2/users/profile/")
    check(profile, USER_FIELDS, "profile")
    assert profile["name"] == "Ada Lovelace"


async def test_session_without_token_is_401(client):
    response = await client.get(PREFIX + "/api/v2/auth/session/")
    assert response.status == 401


async def test_update_profile_as_the_app_sends_it(app):
    sent = {
        "name": "Ada King",
        "job_title": "Countess",
        "bio": "Notes on the engine.",
        "timezone": "Europe/London",
        "notifications": {"weeklyReports": True, "newLeadAlerts": False},
        "role": "Admin",
    }
    updated = await app.json("PUT", "/api/v2/users/profile/", json=sent)
    check(updated, USER_FIELDS, "profile update")
    assert (updated["name"], updated["job_title"], updated["timezone"]) == (
        "Ada King",
        "Countess",
        "Europe/London",
    )
    assert (await app.json("GET", "/api/v2/users/profile/"))["name"] == "Ada King"


async def test_profile_cannot_change_ones_own_role(client, app):
    await set_user(client, app.user["id"], role="user")
    body = await app.json("PUT", "/api/v2/users/profile/", status=403, json={"role": "Admin"})
    assert "administrator" in body["detail"]


async def test_profile_bad_timezone_is_422_naming_it(app):
    body = await app.json("PUT", "/api/v2/users/profile/", status=422, json={"timezone": "Mars"})
    assert body["errors"][0]["loc"][-1] == "timezone"


async def test_refresh_as_the_interceptor_does(client):
    registered = await _post(
        client,
        "/api/v2/auth/register/",
        {"name": "Bob", "email": "bob@example.com", "password": PASSWORD},
        status=201,
    )
    refreshed = await _post(
        client, "/api/v2/auth/refresh/", {"refresh_token": registered["refresh_token"]}
    )
    check(refreshed, {"access_token": STR, "refresh_token": STR})
    me = await client.get(
        PREFIX + "/api/v2/auth/session/", headers=bearer(refreshed["access_token"])
    )
    assert me.status == 200


async def test_change_password_needs_the_current_one(client, app):
    """The app sends only ``{"password"}``: refused, naming current_password."""
    body = await app.json(
        "POST", "/api/v2/auth/change-password/", status=422, json={"password": "a new password 1"}
    )
    assert [e["loc"][-1] for e in body["errors"]] == ["current_password"]
    changed = await app.json(
        "POST",
        "/api/v2/auth/change-password/",
        json={"current_password": PASSWORD, "password": "a new password 1"},
    )
    check(changed, {"message": STR})
    login = await client.post(
        PREFIX + "/api/v2/auth/login/",
        json={"email": "ada@example.com", "password": "a new password 1"},
    )
    assert login.status == 200


async def test_team_page_lists_and_updates_users(client, app):
    other = await _post(
        client,
        "/api/v2/auth/register/",
        {"name": "Bob", "email": "bob@example.com", "password": PASSWORD},
        status=201,
    )
    users = await app.json("GET", "/api/v2/users/")
    assert isinstance(users, list) and len(users) == 2
    for user in users:
        check(user, USER_FIELDS, "team user")
    bob = other["user"]["id"]
    promoted = await app.json("PATCH", f"/api/v2/users/{bob}/", json={"role": "Admin"})
    assert promoted["role"] == "Admin"
    deactivated = await app.json("PATCH", f"/api/v2/users/{bob}/", json={"is_active": False})
    assert deactivated["is_active"] is False
    body = await app.json("PATCH", f"/api/v2/users/{bob}/", status=422, json={"role": "Manager"})
    assert body["errors"][0]["loc"][-1] == "role"


async def test_team_page_is_admin_only(client, app):
    await set_user(client, app.user["id"], role="user")
    assert (await app.request("GET", "/api/v2/users/")).status == 403


async def test_logout(client, app):
    login = await _post(
        client, "/api/v2/auth/login/", {"email": "ada@example.com", "password": PASSWORD}
    )
    response = await client.post(
        PREFIX + "/api/v2/auth/logout/",
        json={"refresh_token": login["refresh_token"]},
        headers=bearer(login["access_token"]),
    )
    assert response.status == 200
    refreshed = await client.post(
        PREFIX + "/api/v2/auth/refresh/", json={"refresh_token": login["refresh_token"]}
    )
    assert refreshed.status == 401


async def test_avatar_upload_shows_in_the_profile(app):
    import io

    import aiohttp
    from PIL import Image

    image = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(image, format="JPEG")
    form = aiohttp.FormData()
    form.add_field("file", image.getvalue(), filename="me.jpg", content_type="image/jpeg")
    uploaded = await app.json("POST", "/api/v2/users/profile/avatar/", data=form)
    check(uploaded, USER_FIELDS, "avatar upload")
    link = uploaded["avatar_url"]
    assert "/api/v2/users/avatars/" in link and "token=" in link
    picture = await app.client.get(link[link.index("/api/") :])
    assert picture.status == 200 and picture.content_type == "image/png"
    profile = await app.json("GET", "/api/v2/users/profile/")
    assert profile["avatar_url"].split("?")[0] == link.split("?")[0]
    refused = aiohttp.FormData()
    refused.add_field("file", b"<svg/>", filename="x.png", content_type="image/png")
    body = await app.json("POST", "/api/v2/users/profile/avatar/", status=422, data=refused)
    assert body["errors"][0]["loc"] == ["body", "file"]
