"""Embedded mode with Redis: ``contacts-api serve`` and ``contacts-api worker``
on one data directory share the embedded database (the worker used to connect
to whatever PostgreSQL the machine runs), and an export runs end to end
through the worker process."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import subprocess_env

WRITE_KEY = "embedded-write-key-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(port: int, method: str, path: str, body=None, token: str = "") -> tuple[int, bytes]:
    """v1 routes with the write key; v2 routes (which refuse it) with ``token``."""
    credential = (
        {"Authorization": f"Bearer {token}"} if token else {"X-Contacts-Write-Key": WRITE_KEY}
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **credential},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def data_dir():
    """Outside pytest's tmp root (mode 0700): run as root, the embedded
    PostgreSQL's own user must be able to reach the data directory."""
    parent = Path(tempfile.mkdtemp(prefix="contacts-api-worker-"))
    parent.chmod(0o755)
    yield parent / "data"
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def processes():
    started: list[tuple[subprocess.Popen, object]] = []

    def start(log_path: Path, *args: str, **env: str) -> subprocess.Popen:
        log = open(log_path, "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen(
            [sys.executable, "-m", "contacts_api.core.cli", *args],
            env=subprocess_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        return process

    yield start
    for process, log in reversed(started):  # the worker first, then the server
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        log.close()


def _wait_for(check, what: str, timeout: float, logs: list[Path]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what} timed out:\n" + "\n".join(p.read_text() for p in logs))


def test_worker_in_embedded_mode_runs_an_export_end_to_end(
    data_dir, processes, redis_url, tmp_path
):
    port = _free_port()
    env = {
        "DATABASE_URL": "",  # embedded mode
        "REDIS_URL": redis_url,  # tasks go through Redis to the worker
        "CONTACTS_API__REDIS__KEY_PREFIX": f"ctest_{secrets.token_hex(4)}",
        "CONTACTS_WRITE_KEY": WRITE_KEY,
        "CONTACTS_API__SERVER__ACCESS_LOG": "false",
        "CONTACTS_API__AUTH__REGISTRATION_OPEN": "true",
        # whatever a machine's own PostgreSQL would be reached by libpq defaults
        "PGHOST": "127.0.0.1",
        "PGUSER": "postgres",
    }
    server_log, worker_log = tmp_path / "serve.log", tmp_path / "worker.log"
    server = processes(server_log, "serve", "--port", str(port), "--data-dir", str(data_dir), **env)
    _wait_for(
        lambda: server.poll() is not None or "listening on" in server_log.read_text(),
        "serve",
        90,
        [server_log],
    )
    assert server.poll() is None, server_log.read_text()
    worker = processes(
        worker_log, "worker", "--queue", "exports", "--data-dir", str(data_dir), **env
    )

    status, body = _call(
        port, "POST", "/api/v1/contacts/", {"email": "ada@example.com", "first_name": "Ada"}
    )
    assert status == 201, body
    selection = {"contact_uuids": [json.loads(body)["uuid"]]}
    account = {"email": "owner@example.com", "password": "correct-horse-battery-1"}
    assert _call(port, "POST", "/api/v2/auth/register", account)[0] == 201
    token = json.loads(_call(port, "POST", "/api/v2/auth/login", account)[1])["access_token"]
    status, body = _call(port, "POST", "/api/v2/exports/contacts/export", selection, token)
    assert status == 202, body
    export_id = json.loads(body)["id"]

    def finished():
        assert worker.poll() is None, worker_log.read_text()
        export = json.loads(_call(port, "GET", f"/api/v2/exports/{export_id}", token=token)[1])
        return export if export["status"] in ("completed", "failed") else None

    export = _wait_for(finished, "the export", 60, [server_log, worker_log])
    assert export["status"] == "completed" and export["row_count"] == 1, export
    link = json.loads(_call(port, "GET", f"/api/v2/exports/{export_id}/download", token=token)[1])
    path = link["download_url"][link["download_url"].index("/api/") :]
    status, csv_bytes = _call(port, "GET", path)
    assert status == 200 and b"ada@example.com" in csv_bytes
    assert "worker on the embedded database in " + str(data_dir) in worker_log.read_text()


def test_embedded_data_directory_as_root_is_owned_by_the_service_user(
    data_dir, processes, tmp_path
):
    """Run as root (as the test suite is here), the data directory belongs to
    the PostgreSQL service user and no parent's permission changes."""
    if os.geteuid() != 0:
        pytest.skip("only root hands the data directory to a service user")
    import pwd

    parent_mode = data_dir.parent.stat().st_mode
    log = tmp_path / "migrate.log"
    migrate = processes(log, "migrate", "--data-dir", str(data_dir), DATABASE_URL="", REDIS_URL="")
    assert migrate.wait(120) == 0, log.read_text()
    owner = pwd.getpwuid(data_dir.stat().st_uid).pw_name
    assert owner == "embedded_postgres"
    assert data_dir.parent.stat().st_mode == parent_mode


def test_a_parent_the_service_user_cannot_enter_is_reported_not_opened(processes, tmp_path):
    """Run as root, a data directory below a 0700 parent used to get every
    parent up to / widened; now the parent is named and left alone."""
    if os.geteuid() != 0:
        pytest.skip("only root runs PostgreSQL as another user")
    locked = Path(tempfile.mkdtemp(prefix="contacts-api-locked-"))  # mode 0700
    try:
        log = tmp_path / "migrate.log"
        data = locked / "data"
        process = processes(log, "migrate", "--data-dir", str(data), DATABASE_URL="", REDIS_URL="")
        assert process.wait(60) == 1
        output = log.read_text()
        assert f"cannot enter {locked}" in output and "Traceback" not in output
        assert locked.stat().st_mode & 0o777 == 0o700
    finally:
        shutil.rmtree(locked, ignore_errors=True)


def test_without_useradd_embedded_mode_as_root_says_so(monkeypatch, tmp_path):
    from contacts_api.core import embedded

    if os.geteuid() != 0:
        pytest.skip("only root needs the service user")
    monkeypatch.setattr(embedded, "SERVICE_USER", "contacts_api_no_such_user")
    monkeypatch.setenv("PATH", str(tmp_path))  # no useradd on it
    with pytest.raises(embedded.EmbeddedError, match="`useradd` is not on PATH"):
        embedded._service_user()


@pytest.mark.parametrize(
    "argv",
    [
        ["serve"],
        ["worker"],
        ["migrate"],
        ["users", "create", "a@example.com"],
        ["users", "set-role", "a@example.com", "admin"],
        ["import", "contacts.csv"],
        ["exports", "purge"],
        ["config"],
    ],
)
def test_every_command_that_opens_the_data_accepts_data_dir(argv, monkeypatch):
    from contacts_api.core import cli

    seen = {}

    def capture(args):
        seen["settings"] = cli._settings(args)
        return 0

    monkeypatch.setattr(cli.argparse.ArgumentParser, "parse_known_args", _with_handler(capture))
    assert cli.main([*argv, "--data-dir", "/srv/contacts-data"]) == 0
    assert str(seen["settings"].data_dir()) == "/srv/contacts-data"


def _with_handler(handler):
    """parse_known_args as usual, but the command's handler replaced."""
    original = __import__("argparse").ArgumentParser.parse_known_args

    def parse_known_args(self, args=None, namespace=None):
        parsed, extra = original(self, args, namespace)
        if getattr(parsed, "handler", None) is not None:
            parsed.handler = handler
        return parsed, extra

    return parse_known_args


def test_users_command_takes_data_dir_after_its_arguments(data_dir):
    created = subprocess.run(
        [sys.executable, "-m", "contacts_api.core.cli", "users", "create", "root@example.com"]
        + ["--data-dir", str(data_dir)],
        input="correct horse battery\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(DATABASE_URL="", REDIS_URL="", JWT_SECRET=""),
    )
    assert created.returncode == 0, created.stderr[-3000:]
    assert "created user root@example.com" in created.stdout
    assert (data_dir / "pgdata" / "PG_VERSION").is_file()
