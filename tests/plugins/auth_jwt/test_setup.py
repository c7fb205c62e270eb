"""Settings checks, the default bcrypt cost, hashing off the event loop, the
``users`` command, other auth plugins through the hook, and ownership checks."""

import asyncio
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from aiohttp import web

from contacts_api import require_v1_read
from contacts_api.core.app import create_app
from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.auth import require_actor, require_owner
from contacts_api.core.cli import main
from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.plugins import PluginError
from tests.conftest import subprocess_env
from tests.plugins.auth_jwt import (
    FAST,
    OPEN_REGISTRATION,
    PASSWORD,
    bearer,
    expect_error,
    login,
    register,
)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWT_SECRET": ""}, "JWT_SECRET"),
        ({"JWT_SECRET": "s" * 31}, "31 bytes"),
        (
            {"JWT_SECRET": "s" * 48, "CONTACTS_API__AUTH__JWT_ALGORITHM": "HS512"},
            "HS512 needs at least 64",
        ),
        ({"CONTACTS_API__AUTH__BCRYPT_ROUNDS": "3"}, "auth.bcrypt_rounds"),
        ({"CONTACTS_API__AUTH__LOGIN_MAX_FAILURES": "0"}, "auth.login_max_failures"),
        ({"CONTACTS_API__AUTH__ACCESS_TOKEN_TTL_S": "0"}, "auth.access_token_ttl_s"),
    ],
)
def test_settings_problems_abort_startup(settings_factory, env, message):
    with pytest.raises(PluginError, match=message):
        create_app(settings_factory(**env))


def test_a_32_byte_secret_is_enough_for_hs256(settings_factory):
    create_app(settings_factory(JWT_SECRET="s" * 32))


async def _stored_hash(api, email: str) -> str:
    return await api.app[RESOURCES].db.fetch_val(
        "SELECT password_hash FROM users WHERE lower(email) = %(e)s", {"e": email}
    )


@pytest.mark.alone  # the loop's latency while bcrypt runs
async def test_default_cost_and_hashing_off_the_event_loop(make_client, settings_factory):
    """Cost 11 by default; logins hash in threads, so /health stays responsive."""
    api = await make_client(settings_factory(**OPEN_REGISTRATION))
    await register(api, "ada@example.com")
    assert (await _stored_hash(api, "ada@example.com")).startswith("$2b$11$")
    latencies: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        while not done.is_set():
            started = time.perf_counter()
            assert (await api.get("/health")).status == 200
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)

    poller = asyncio.create_task(poll())
    started = time.perf_counter()
    logins = await asyncio.gather(*(login(api, "ada@example.com") for _ in range(3)))
    elapsed = time.perf_counter() - started
    done.set()
    await poller
    assert [r.status for r in logins] == [200, 200, 200]
    # each hash takes ~0.15 s: on the loop, /health would wait for them all
    assert elapsed > 0.12 and len(latencies) > 5
    assert max(latencies) < 0.15, (max(latencies), elapsed)


async def test_a_changed_cost_rehashes_on_the_next_login(make_client, settings_factory):
    fast = await make_client(settings_factory(**FAST))
    await register(fast, "ada@example.com")
    assert (await _stored_hash(fast, "ada@example.com")).startswith("$2b$04$")
    slower = await make_client(settings_factory(CONTACTS_API__AUTH__BCRYPT_ROUNDS="6"))
    assert (await login(slower, "ada@example.com")).status == 200
    assert (await _stored_hash(slower, "ada@example.com")).startswith("$2b$06$")
    assert (await login(slower, "ada@example.com")).status == 200


def _cli(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contacts_api.core.cli", "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(CONTACTS_API__AUTH__BCRYPT_ROUNDS="4", **env),
    )


@pytest.fixture
def run_users(monkeypatch, capsys, settings_factory):
    """``await run_users(*args, stdin=...)`` runs ``contacts-api users ...`` in
    this process (in a thread: the command runs its own event loop) against
    the test database, with no JWT secret; returns (exit code, stdout, stderr)."""
    settings = settings_factory(**FAST)
    monkeypatch.setenv("DATABASE_URL", settings.database.url.reveal())
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("JWT_SECRET", "")
    monkeypatch.setenv("CONTACTS_API__AUTH__BCRYPT_ROUNDS", "4")

    async def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            code = await asyncio.to_thread(main, ["users", *args])
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    run.settings = settings
    return run


async def test_users_command_creates_the_first_admin(make_client, run_users):
    code, out, _ = await run_users("create", "Root@Example.com", "--admin", stdin=PASSWORD + "\n")
    assert code == 0 and "created user Root@Example.com" in out and PASSWORD not in out
    api = await make_client(run_users.settings)
    signed_in = await (await login(api, "root@example.com")).json()
    assert signed_in["user"]["role"] == "admin"
    headers = bearer(signed_in["access_token"])
    assert (await api.get("/api/v2/users/", headers=headers)).status == 200

    code, out, _ = await run_users("set-role", "ROOT@example.com", "user")
    assert code == 0 and "now has the role user" in out
    await expect_error(await api.get("/api/v2/users/", headers=headers), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (("create", "root@example.com"), "short\n", 1, "8 to 256"),
        (("create", "not-an-email"), PASSWORD + "\n", 1, "not a valid email"),
        (("set-role", "ghost@example.com", "admin"), "", 1, "no user"),
        (("set-role", "root@example.com", "root"), "", 2, "invalid choice"),
    ],
)
async def test_users_command_errors(run_users, args, stdin, code, message):
    assert (await run_users("create", "root@example.com", stdin=PASSWORD + "\n"))[0] == 0
    got_code, _, err = await run_users(*args, stdin=stdin)
    assert got_code == code and message in err


async def test_users_command_refuses_a_taken_email(run_users):
    assert (await run_users("create", "root@example.com", stdin=PASSWORD + "\n"))[0] == 0
    code, _, err = await run_users("create", "ROOT@example.com", stdin=PASSWORD + "\n")
    assert code == 1 and "already exists" in err


@pytest.fixture
def embedded_dir():
    """A data directory outside pytest's (0700, re-tightened by every pytest
    start) so the embedded server's own system user can reach it."""
    path = Path(tempfile.mkdtemp(prefix="contacts-api-auth-test-"))
    path.chmod(0o755)  # run as root, the server's own user must reach the data below
    yield path / "data"
    shutil.rmtree(path, ignore_errors=True)


def test_users_command_in_embedded_mode(embedded_dir):
    embedded = {
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "JWT_SECRET": "",
        "CONTACTS_API_DATA_DIR": str(embedded_dir),
    }
    created = _cli("create", "root@example.com", "--admin", stdin=PASSWORD + "\n", **embedded)
    assert created.returncode == 0, created.stderr[-3000:]
    assert (embedded_dir / "pgdata" / "PG_VERSION").is_file()
    # a second run finds the same database (and the user in it)
    demoted = _cli("set-role", "root@example.com", "user", **embedded)
    assert demoted.returncode == 0, demoted.stderr
    assert "now has the role user" in demoted.stdout


class Probe:
    @hookimpl
    def register_routes(self, settings):
        routes = web.RouteTableDef()

        @routes.get("/t/v1/things")
        async def read(request):
            actor = await require_v1_read(request)
            return web.json_response({"kind": actor.kind, "id": actor.id})

        @routes.get("/t/notes/{owner}")
        async def owned(request):
            require_owner(await require_actor(request), request.match_info["owner"])
            return web.json_response({"ok": True})

        return list(routes)


async def test_third_party_auth_plugin_authenticates_through_the_hook(
    make_client, settings_factory, example_plugin_installed
):
    settings = settings_factory(**FAST, CONTACTS_API__EXAMPLE__TOKEN="tok-12345")
    api = await make_client(settings, extra_plugins=[("probe", Probe())])
    headers = {"X-Example-Token": "tok-12345", "X-Example-User": "grace"}
    response = await api.get("/t/v1/things", headers=headers)
    assert await response.json() == {"kind": "example", "id": "grace"}
    # not a user account: the user routes say so; a wrong token never falls back
    await expect_error(await api.get("/api/v2/users/me", headers=headers), 403, "FORBIDDEN")
    token = (await register(api, "ada@example.com"))["access_token"]
    wrong = {**bearer(token), "X-Example-Token": "nope"}
    await expect_error(await api.get("/t/v1/things", headers=wrong), 401, "INVALID_TOKEN")


async def test_other_users_resources_are_404(make_client, settings_factory):
    api = await make_client(settings_factory(**FAST), extra_plugins=[("probe", Probe())])
    ada, bob = await register(api, "ada@example.com"), await register(api, "bob@example.com")
    own = await api.get(f"/t/notes/{ada['user']['id']}", headers=bearer(ada["access_token"]))
    assert own.status == 200
    theirs = await api.get(f"/t/notes/{bob['user']['id']}", headers=bearer(ada["access_token"]))
    await expect_error(theirs, 404, "NOT_FOUND")


async def test_every_auth_route_is_in_the_openapi_document(make_client, settings_factory):
    api = await make_client(settings_factory(**FAST))
    paths = (await (await api.get("/openapi.json")).json())["paths"]
    expected = {
        "/api/v2/auth/register": {"post"},
        "/api/v2/auth/login": {"post"},
        "/api/v2/auth/refresh": {"post"},
        "/api/v2/auth/logout": {"post"},
        "/api/v2/users/me": {"get"},
        "/api/v2/users/me/profile": {"patch"},
        "/api/v2/users/me/password": {"post"},
        "/api/v2/users/": {"get"},
        "/api/v2/users/{id}": {"get", "patch"},
    }
    assert {path: set(paths[path]) for path in expected} == expected
    login_op = paths["/api/v2/auth/login"]["post"]
    assert {"200", "401", "422", "429"} <= set(login_op["responses"])
