"""``/health`` never checks dependencies; ``/ready`` does, and recovers."""

from urllib.parse import urlsplit

from tests.helpers import TcpProxy, url_via


async def test_health_and_ready(client):
    assert await (await client.get("/health")).json() == {"status": "ok"}
    body = await (await client.get("/ready")).json()
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "storage": "ok"}}


async def test_ready_goes_503_when_the_database_is_unreachable_and_recovers(
    make_client, settings_factory, migrated_database_url
):
    target = urlsplit(migrated_database_url)
    proxy = TcpProxy(target.hostname, target.port or 5432)
    port = await proxy.start()
    settings = settings_factory(
        DATABASE_URL=url_via(migrated_database_url, port),
        CONTACTS_API__DATABASE__CONNECT_TIMEOUT_S="2",
    )
    client = await make_client(settings)
    try:
        assert (await client.get("/ready")).status == 200

        await proxy.stop()
        down = await client.get("/ready")
        body = await down.json()
        assert down.status == 503
        assert body["checks"]["database"].startswith("error")
        assert body["checks"]["storage"] == "ok" and body["checks"]["redis"] == "ok"
        assert body["error_code"] == "SERVICE_UNAVAILABLE" and "database" in body["detail"]
        assert (await client.get("/health")).status == 200  # still serving

        await proxy.start()
        for _ in range(3):  # the pool drops the broken connection, then reconnects
            recovered = await client.get("/ready")
            if recovered.status == 200:
                break
        assert recovered.status == 200
    finally:
        await proxy.stop()


async def test_ready_names_redis_when_it_is_down(make_client, settings_factory, redis_url):
    target = urlsplit(redis_url)
    proxy = TcpProxy(target.hostname, target.port or 6379)
    port = await proxy.start()
    settings = settings_factory(REDIS_URL=url_via(redis_url, port))
    client = await make_client(settings)
    try:
        assert (await client.get("/ready")).status == 200
        await proxy.stop()
        down = await client.get("/ready")
        assert down.status == 503
        assert (await down.json())["checks"]["redis"].startswith("error")
        await proxy.start()
        assert (await client.get("/ready")).status == 200
    finally:
        await proxy.stop()
