"""Two real API processes (``contacts-api serve``) on one database and Redis:
an API key revoked through one is refused by the other at once, request
budgets are shared, and ``serve --workers 2`` sums its metrics."""

import json
import subprocess
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import JWT_SECRET, subprocess_env
from tests.e2e.test_serve import _free_port, _wait_healthy, serve  # noqa: F401 (fixture)

PASSWORD = "correct horse battery staple"


def _call(port: int, method: str, path: str, key: str | None = None, body=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {key}"} if key else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "contacts_api.core.cli", *args],
        input=stdin,
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _env(settings_factory, **extra: str) -> dict[str, str]:
    settings = settings_factory()  # empties the database; its Redis prefix is dropped after
    return {
        "DATABASE_URL": settings.database.url.reveal(),
        "REDIS_URL": settings.redis.url.reveal(),
        "JWT_SECRET": JWT_SECRET,
        "CONTACTS_API__REDIS__KEY_PREFIX": settings.redis.key_prefix,
        "CONTACTS_API__SERVER__ACCESS_LOG": "false",
        **extra,
    }


def _two_servers(serve, env) -> tuple[int, int]:  # noqa: F811
    ports = _free_port(), _free_port()
    processes = [serve("--port", str(port), **env) for port in ports]
    for process, port in zip(processes, ports, strict=True):
        _wait_healthy(process, port, timeout=60)
    return ports


def test_a_key_made_by_the_cli_and_revoked_on_one_process_is_refused_by_the_other(
    serve,  # noqa: F811
    settings_factory,
):
    env = _env(settings_factory)
    _cli(env, "users", "create", "ops@example.com", "--admin", stdin=PASSWORD + "\n")
    out = _cli(env, "api-keys", "create", "ops@example.com", "--scopes", "read,write")
    key = out.strip().splitlines()[-1]
    assert key.startswith("cak_") and key not in out.splitlines()[0]
    first, second = _two_servers(serve, env)
    key_id = json.loads(_call(first, "GET", "/api/v2/users/me/api-keys", key)[2])["results"][0]
    for port in (first, second):
        assert _call(port, "GET", "/api/v2/users/me", key)[0] == 200
    assert _call(first, "DELETE", f"/api/v2/users/me/api-keys/{key_id['id']}", key)[0] == 204
    status, _, body = _call(second, "GET", "/api/v2/users/me", key)
    assert status == 401 and json.loads(body)["error_code"] == "INVALID_TOKEN"


def test_budgets_are_shared_by_two_processes(serve, settings_factory):  # noqa: F811
    env = _env(settings_factory, CONTACTS_API__RATE_LIMITS__READS_PER_MINUTE="4")
    _cli(env, "users", "create", "ops@example.com", stdin=PASSWORD + "\n")
    key = _cli(env, "api-keys", "create", "ops@example.com", "--scopes", "read")
    key = key.strip().splitlines()[-1]
    first, second = _two_servers(serve, env)
    seen = []
    for port in (first, second, first, second, first):
        status, headers, _ = _call(port, "GET", "/api/v2/contacts/", key)
        seen.append((status, headers.get("RateLimit-Remaining"), headers.get("Retry-After")))
    assert [s[:2] for s in seen[:4]] == [(200, "3"), (200, "2"), (200, "1"), (200, "0")]
    status, remaining, retry_after = seen[4]
    assert status == 429 and remaining == "0" and 1 <= int(retry_after) <= 15


def test_workers_sum_their_metrics(serve, settings_factory):  # noqa: F811
    env = _env(settings_factory)
    port = _free_port()
    process = serve("--port", str(port), "--workers", "2", **env)
    _wait_healthy(process, port, timeout=60)
    before = _health_count(port)
    for _ in range(20):  # spread over both workers by the kernel (SO_REUSEPORT)
        assert _call(port, "GET", "/health")[0] == 200
    counts = {_health_count(port) - before for _ in range(4)}
    assert counts == {20}, counts  # whichever worker answers the scrape


def _health_count(port: int) -> float:
    status, _, body = _call(port, "GET", "/metrics")
    assert status == 200
    total = 0.0
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "contacts_api_http_requests_total" and sample.labels.get(
                "route", ""
            ).startswith("/health"):
                total += sample.value
    return total
