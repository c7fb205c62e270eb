"""Schemathesis against the running server's own ``/openapi.json`` (issue 14):
every operation of every enabled plugin gets a few generated requests, valid
and invalid, authenticated as an admin user (bearer) and with the v1 write
key, so they reach the handlers. No answer may be a server error, and every
answer must have the status codes, content types and JSON shapes the
document declares.

The server is ``contacts-api serve`` in a child process (the real runner,
connection cap included), on the test run's database.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict

import psycopg2
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from tests.conftest import JWT_SECRET, WRITE_KEY, subprocess_env

# Per operation, valid and invalid requests each (SCHEMATHESIS_EXAMPLES for a longer run).
EXAMPLES_PER_MODE = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "3"))
CHECKS = [
    checks.not_a_server_error,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
# docs/api.md's error table holds for every route (an unknown id is 404 anywhere, a
# slow query 503 ...): those statuses need not be repeated under each operation.
# Any other status must be documented.
ANY_ROUTE_STATUSES = {400, 401, 403, 404, 405, 408, 409, 413, 422, 429, 503}
STATUS_CHECK = checks.status_code_conformance
PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def server(settings, tmp_path):
    """``contacts-api serve`` on the run's (emptied) database; its base URL."""
    port = _free_port()
    env = subprocess_env(
        DATABASE_URL=settings.database.url.reveal(),
        REDIS_URL=settings.redis.url.reveal(),
        CONTACTS_WRITE_KEY=WRITE_KEY,
        JWT_SECRET=JWT_SECRET,
        CONTACTS_API__REDIS__KEY_PREFIX=settings.redis.key_prefix,
        CONTACTS_API__STORAGE__LOCAL_PATH=str(tmp_path / "files"),
        CONTACTS_API__EMBEDDED__DATA_DIR=str(tmp_path / "data"),
        CONTACTS_API__BROKER__BACKEND="memory",
        CONTACTS_API__DATABASE__POOL_MAX_SIZE="5",
        CONTACTS_API__DATABASE__MIGRATE_ON_STARTUP="false",
        CONTACTS_API__SERVER__ACCESS_LOG="false",
        CONTACTS_API__AUTH__BCRYPT_ROUNDS="4",
        CONTACTS_API__AUTH__REGISTRATION_OPEN="true",
        CONTACTS_API__AUTH__REGISTRATION_MAX_PER_ADDRESS="10000",
    )
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "contacts_api.core.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            _request(base + "/health")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.close()
                pytest.fail("the server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        if os.environ.get("SCHEMATHESIS_SHOW_LOG"):
            print((tmp_path / "server.log").read_text())


def _admin_headers(base: str, database_url: str) -> dict[str, str]:
    signed_in = _request(
        base + "/api/v2/auth/register", {"email": "admin@example.com", "password": PASSWORD}
    )
    connection = psycopg2.connect(database_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("UPDATE users SET role = 'admin' WHERE id = %s", (signed_in["user"]["id"],))
    connection.close()
    return {
        "Authorization": f"Bearer {signed_in['access_token']}",
        "X-Contacts-Write-Key": WRITE_KEY,
    }


def _exercise(operation, mode, server: str, headers: dict, failures: list[str]) -> None:
    """A few generated requests to one operation; each failed check is recorded."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        response = case.call(base_url=server, headers=headers, timeout=30)
        extra = [] if response.status_code in ANY_ROUTE_STATUSES else [STATUS_CHECK]
        try:
            case.validate_response(response, checks=[*CHECKS, *extra])
        except BaseExceptionGroup as failure:  # a FailureGroup naming every failed check
            failures.append(f"{response.status_code}: {failure}"[:2000])

    try:
        run()
    except Unsatisfiable:  # nothing in this operation can be made invalid (GET /health)
        assert mode is GenerationMode.NEGATIVE


def test_no_operation_answers_a_server_error_or_breaks_its_contract(server, settings):
    headers = _admin_headers(server, settings.database.url.reveal())
    schema = schemathesis.openapi.from_url(server + "/openapi.json")
    failures: dict[str, list[str]] = defaultdict(list)
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _exercise(operation, mode, server, headers, failures[f"{label} ({mode.value})"])
    assert operations > 20
    found = {label: problems for label, problems in failures.items() if problems}
    assert not found, "\n\n".join(f"{label}\n" + "\n".join(text) for label, text in found.items())
