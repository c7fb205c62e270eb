"""The real server, started as users start it: ``contacts-api serve``."""

import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import subprocess_env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _post(port: int, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method="POST",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait_healthy(process: subprocess.Popen, port: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise AssertionError(f"server exited:\n{process.stdout.read().decode()}")
        try:
            if _get(port, "/health")[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not answer /health in time")


@pytest.fixture
def serve():
    processes = []

    def start(*args: str, **env: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "contacts_api.core.cli", "serve", *args],
            env=subprocess_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        process.stdout.close()


@pytest.fixture
def outside_tmp():
    """A directory outside pytest's tmp root: pytest resets that root to mode 0700
    when another session starts, locking out the embedded server's own user."""
    path = Path(tempfile.mkdtemp(prefix="contacts-api-embedded-"))
    path.chmod(0o755)  # run as root, the server's own user must reach the data below
    yield path
    shutil.rmtree(path, ignore_errors=True)


EMBEDDED_KEY = "embedded-write-key-0123456789"


def test_embedded_mode_starts_from_an_empty_directory(serve, outside_tmp):
    """No DATABASE_URL, no REDIS_URL: embedded PostgreSQL, in-memory broker,
    local files; the README's first command. Migrations run at startup."""
    data_dir, port = outside_tmp / "empty", _free_port()
    process = serve(
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        DATABASE_URL="",
        REDIS_URL="",
        CONTACTS_API__SERVER__ACCESS_LOG="false",
        CONTACTS_WRITE_KEY=EMBEDDED_KEY,
    )
    took = _wait_healthy(process, port, timeout=30)
    status, ready = _get(port, "/ready")
    assert status == 200 and ready["checks"]["database"] == "ok"
    # registration is closed by default; a login reads the users table: migrations ran
    credentials = {"email": "first@example.com", "password": "correct horse battery"}
    assert _post(port, "/api/v2/auth/register", credentials)[0] == 403
    assert _post(port, "/api/v2/auth/login", credentials)[0] == 401
    # the embedded PostgreSQL (another major version than the machine's) runs what
    # the migrations define: a page through its row function, a lower-cased company key
    key = {"X-Contacts-Write-Key": EMBEDDED_KEY}
    contact = {"email": "a@x.io", "company": {"name": "Cafe\u0301 Labs"}}
    assert _post(port, "/api/v1/contacts/", contact, key)[0] == 201
    status, page = _get(port, "/api/v1/contacts/?company=CAF%C3%89&view=full", key)
    assert status == 200, page
    assert [r["company"]["name"] for r in page["results"]] == ["Café Labs"]
    assert (data_dir / "pgdata" / "PG_VERSION").is_file()
    assert (data_dir / "files").is_dir()
    # personal data is private: traversal only for PostgreSQL's own user (root runs)
    assert data_dir.stat().st_mode & 0o777 == 0o700
    assert (data_dir / "files").stat().st_mode & 0o777 == 0o700
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    output = process.stdout.read().decode()
    assert f"listening on http://127.0.0.1:{port}" in output and str(data_dir) in output
    assert "contacts-api users create EMAIL --admin" in output
    print(f"embedded mode answered /health after {took:.1f} s")


def test_workers_share_one_port(serve, migrated_database_url):
    port = _free_port()
    process = serve(
        "--port",
        str(port),
        "--workers",
        "2",
        DATABASE_URL=migrated_database_url,
        JWT_SECRET="j" * 48,
        CONTACTS_API__SERVER__ACCESS_LOG="false",
    )
    _wait_healthy(process, port, timeout=30)
    # (spawn also starts multiprocessing's resource tracker: count listeners, not children)
    children = psutil.Process(process.pid).children()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # both children bind (SO_REUSEPORT) as they start
        listening = {
            child.pid
            for child in children
            for conn in child.net_connections(kind="tcp")
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
        }
        if len(listening) == 2:
            break
        time.sleep(0.2)
    assert len(listening) == 2
    for _ in range(20):
        assert _get(port, "/health")[0] == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    # every child ends too (the resource tracker may take a moment after the parent)
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not [child for child in alive if child.status() != psutil.STATUS_ZOMBIE]
