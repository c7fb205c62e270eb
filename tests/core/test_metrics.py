"""GET /metrics: Prometheus text that parses, counters that move with requests
and jobs, and access only with the metrics token or from this machine."""

from unittest import mock

import pytest
from aiohttp.test_utils import make_mocked_request
from prometheus_client.parser import text_string_to_metric_families

from contacts_api.core.app import create_app
from contacts_api.core.errors import Forbidden, NotAuthenticated
from contacts_api.core.metrics import check_access
from tests.helpers import HeaderActors, as_user, seed
from tests.plugins.auth_jwt import expect_error
from tests.plugins.exports.conftest import wait_done

TOKEN = "metrics-token-for-tests"


@pytest.fixture
async def api(make_client, settings_factory):
    return await make_client(settings_factory(), extra_plugins=[("header_actors", HeaderActors())])


async def scrape(client, headers=None) -> dict[tuple[str, tuple], float]:
    response = await client.get("/metrics", headers=headers or {})
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_request_counters_and_histograms_move_per_route_template(api):
    before = await scrape(api)
    uuid = "00000000-0000-0000-0000-000000000001"
    for path in (f"/api/v2/contacts/{uuid}", f"/api/v2/contacts/{uuid}/") * 2:
        await api.get(path, headers=as_user("alice"))  # one label with or without "/"
    await api.get("/no/such/path/at/all")
    after = await scrape(api)
    labels = {"route": "/api/v2/contacts/{uuid}", "method": "GET", "status": "4xx"}
    name = "contacts_api_http_requests_total"
    assert value(after, name, **labels) - value(before, name, **labels) == 4
    histogram = "contacts_api_http_request_duration_seconds_count"
    assert value(after, histogram, **labels) - value(before, histogram, **labels) == 4
    unmatched = {"route": "unmatched", "method": "GET", "status": "4xx"}
    assert value(after, name, **unmatched) - value(before, name, **unmatched) == 1
    # never a raw path as a label
    assert not any(uuid in str(key) for key in after)
    assert value(after, "contacts_api_http_requests_in_progress") >= 1  # the scrape itself
    assert value(after, "contacts_api_db_pool_max_connections") >= 1


async def test_job_counters_move_with_an_export(api):
    ids = await seed(api, [{"first_name": "Ada"}, {"first_name": "Grace"}])
    before = await scrape(api)
    created = await api.post(
        "/api/v2/exports/contacts/export",
        json={"contact_uuids": [str(i) for i in ids]},
        headers=as_user("alice"),
    )
    assert created.status == 202, await created.text()
    assert (await wait_done(api, (await created.json())["id"]))["status"] == "completed"
    after = await scrape(api)
    jobs = {"kind": "export", "outcome": "completed"}
    assert (
        value(after, "contacts_api_jobs_total", **jobs)
        - value(before, "contacts_api_jobs_total", **jobs)
        == 1
    )
    rows = value(after, "contacts_api_job_rows_total", kind="export") - value(
        before, "contacts_api_job_rows_total", kind="export"
    )
    assert rows == 2


async def test_login_failures_and_refusals_are_counted(make_client, settings_factory):
    from tests.plugins.auth_jwt import FAST, login, register

    client = await make_client(settings_factory(**FAST, CONTACTS_API__AUTH__LOGIN_MAX_FAILURES="2"))
    await register(client, "ada@example.com")
    before = await scrape(client)
    for _ in range(3):
        await login(client, "ada@example.com", "wrong password!")
    after = await scrape(client)
    failures = "contacts_api_login_failures_total"
    assert value(after, failures) - value(before, failures) == 2
    refused = "contacts_api_rate_limited_total"
    assert value(after, refused, reason="login") - value(before, refused, reason="login") == 1


async def test_a_request_through_a_proxy_is_refused_without_the_token(api):
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        response = await api.get("/metrics", headers={header: "203.0.113.9"})
        await expect_error(response, 403, "FORBIDDEN")


def _request_from(app, address: str, **headers):
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (address, 40000) if name == "peername" else default
    )
    return make_mocked_request("GET", "/metrics", headers=headers, app=app, transport=transport)


def test_a_non_loopback_peer_is_refused_without_the_token(settings_factory):
    app = create_app(settings_factory())
    with pytest.raises(Forbidden):
        check_access(_request_from(app, "10.1.2.3"))
    check_access(_request_from(app, "127.0.0.1"))
    check_access(_request_from(app, "::1"))


def test_with_a_token_every_peer_needs_it(settings_factory):
    app = create_app(settings_factory(CONTACTS_API__SERVER__METRICS_TOKEN=TOKEN))
    with pytest.raises(NotAuthenticated):
        check_access(_request_from(app, "127.0.0.1"))
    with pytest.raises(Forbidden):
        check_access(_request_from(app, "10.1.2.3", Authorization="Bearer nope"))
    check_access(_request_from(app, "10.1.2.3", Authorization=f"Bearer {TOKEN}"))


async def test_the_token_works_over_http(make_client, settings_factory):
    client = await make_client(settings_factory(CONTACTS_API__SERVER__METRICS_TOKEN=TOKEN))
    await expect_error(await client.get("/metrics"), 401, "NOT_AUTHENTICATED")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    await expect_error(wrong, 403, "FORBIDDEN")
    await scrape(client, {"Authorization": f"Bearer {TOKEN}"})


async def test_queue_depth_counts_tasks_waiting_for_a_worker(make_client, settings_factory):
    """With the Redis broker and no worker running, a started export waits in its queue."""
    client = await make_client(
        settings_factory(CONTACTS_API__BROKER__BACKEND="redis"),
        extra_plugins=[("header_actors", HeaderActors())],
    )
    ids = await seed(client, [{"first_name": "Ada"}])
    before = await scrape(client)
    created = await client.post(
        "/api/v2/exports/contacts/export",
        json={"contact_uuids": [str(i) for i in ids]},
        headers=as_user("alice"),
    )
    assert created.status == 202, await created.text()
    after = await scrape(client)
    depth = "contacts_api_task_queue_depth"
    queues = {dict(labels)["queue"] for name, labels in after if name == depth}
    assert queues, "no queue depth reported"
    grew = [q for q in queues if value(after, depth, queue=q) - value(before, depth, queue=q) == 1]
    assert len(grew) == 1, (before, after)


async def test_job_counters_move_with_an_import(api):
    from tests.plugins.imports.conftest import import_bytes

    before = await scrape(api)
    job = await import_bytes(api, b"first_name,email\nAda,ada@example.com\nGrace,grace@x.io\n")
    assert job["status"] == "completed", job
    after = await scrape(api)
    jobs = {"kind": "import", "outcome": "completed"}
    name = "contacts_api_jobs_total"
    assert value(after, name, **jobs) - value(before, name, **jobs) == 1
    rows = "contacts_api_job_rows_total"
    assert value(after, rows, kind="import") - value(before, rows, kind="import") == 2
