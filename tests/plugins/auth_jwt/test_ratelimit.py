"""Login rate limiting per account and per client address, with Redis and in
process; and the same answer, in time, for unknown emails."""

import asyncio
import statistics
import time
from urllib.parse import urlsplit

import aiohttp
import pytest
import redis.asyncio

from contacts_api.core.appkeys import RESOURCES
from contacts_api.plugins.auth_jwt.service import auth_service
from tests.helpers import TcpProxy, url_via
from tests.plugins.auth_jwt import FAST, PASSWORD, bearer, expect_error, login, register

BACKENDS = {"redis": {}, "memory": {"REDIS_URL": ""}}


@pytest.fixture(params=list(BACKENDS))
def limit_settings(request, settings_factory):
    return settings_factory(
        **FAST,
        **BACKENDS[request.param],
        CONTACTS_API__AUTH__LOGIN_MAX_FAILURES="3",
        CONTACTS_API__AUTH__LOGIN_WINDOW_S="120",
    )


@pytest.fixture
async def api(make_client, limit_settings):
    return await make_client(limit_settings)


async def _rate_limited(response) -> int:
    await expect_error(response, 429, "RATE_LIMITED")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 120
    return retry_after


@pytest.fixture
async def from_address(api):
    """``await from_address(ip).post(...)``: requests whose client address is
    another loopback address (127.0.0.x), as if from another machine."""
    sessions: dict[str, aiohttp.ClientSession] = {}

    def client(ip: str) -> "_Remote":
        if ip not in sessions:
            connector = aiohttp.TCPConnector(local_addr=(ip, 0))
            sessions[ip] = aiohttp.ClientSession(connector=connector)
        return _Remote(sessions[ip], api)

    yield client
    for session in sessions.values():
        await session.close()


class _Remote:
    def __init__(self, session: aiohttp.ClientSession, api):
        self.session, self.api = session, api

    async def login(self, email: str, password: str = PASSWORD):
        response = await self.session.post(
            self.api.make_url("/api/v2/auth/login"), json={"email": email, "password": password}
        )
        await response.read()
        return response


async def test_account_is_limited_after_the_configured_failures(api, from_address):
    await register(api, "ada@example.com")
    for index in range(3):  # each guess from another address: the account counts them all
        await expect_error(
            await from_address(f"127.0.0.{10 + index}").login("ada@example.com", "wrong guess!"),
            401,
            "INVALID_CREDENTIALS",
        )
    await _rate_limited(await from_address("127.0.0.20").login("ada@example.com", "nope!!!!"))
    # the right password does not get through while the account is limited
    await _rate_limited(await from_address("127.0.0.21").login("ADA@example.com"))
    # another account from those addresses is fine
    await register(api, "bob@example.com")
    assert (await from_address("127.0.0.10").login("bob@example.com")).status == 200


async def test_unknown_emails_count_like_known_ones(api, from_address):
    for index in range(3):
        await expect_error(
            await from_address(f"127.0.0.{10 + index}").login("ghost@example.com", "x" * 10),
            401,
            "INVALID_CREDENTIALS",
        )
    await _rate_limited(await from_address("127.0.0.20").login("ghost@example.com", "x" * 10))


async def test_client_address_is_limited_across_accounts(api, from_address):
    await register(api, "ada@example.com")
    for index in range(3):
        await expect_error(
            await login(api, f"victim{index}@example.com", "guess it"), 401, "INVALID_CREDENTIALS"
        )
    # a fresh account, but the same client address (127.0.0.1) ...
    await _rate_limited(await login(api, "ada@example.com"))
    # ... while the same account from another address gets in
    assert (await from_address("127.0.0.30").login("ada@example.com")).status == 200


async def test_success_resets_the_account_counter(api, from_address):
    await register(api, "ada@example.com")
    for index in range(2):
        await expect_error(
            await from_address(f"127.0.0.{10 + index}").login("ada@example.com", "wrong guess!"),
            401,
            "INVALID_CREDENTIALS",
        )
    assert (await from_address("127.0.0.12").login("ada@example.com")).status == 200
    for index in range(3):  # without the reset, the account would be limited by now
        await expect_error(
            await from_address(f"127.0.0.{13 + index}").login("ada@example.com", "wrong guess!"),
            401,
            "INVALID_CREDENTIALS",
        )
    await _rate_limited(await from_address("127.0.0.16").login("ada@example.com"))


async def test_successes_do_not_use_up_the_address(api):
    await register(api, "ada@example.com")
    for _ in range(6):
        assert (await login(api, "ada@example.com")).status == 200


async def test_a_burst_of_parallel_guesses_barely_passes_the_limit(api):
    """The limit is checked when a hashing slot is granted: a burst overshoots
    it by fewer attempts than there are slots (one per CPU)."""
    await register(api, "ada@example.com")
    responses = await asyncio.gather(
        *(login(api, "ada@example.com", f"guess {i}") for i in range(12))
    )
    statuses = [response.status for response in responses]
    workers = auth_service(api.app[RESOURCES]).passwords.workers
    assert set(statuses) == {401, 429}
    assert 3 <= statuses.count(401) <= 3 + workers - 1, (statuses, workers)


async def test_concurrent_successes_are_never_limited(api):
    await register(api, "ada@example.com")
    responses = await asyncio.gather(*(login(api, "ada@example.com") for _ in range(12)))
    assert [response.status for response in responses] == [200] * 12


async def test_password_change_guesses_count_as_failures(api):
    signed_in = await register(api, "ada@example.com")
    headers = bearer(signed_in["access_token"])
    for _ in range(3):
        response = await api.post(
            "/api/v2/users/me/password",
            headers=headers,
            json={"current_password": "guess!!!", "new_password": "y" * 9},
        )
        await expect_error(response, 422, "VALIDATION_ERROR")
    response = await api.post(
        "/api/v2/users/me/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "y" * 9},
    )
    await _rate_limited(response)


async def test_redis_counters_live_under_the_key_prefix(make_client, settings_factory):
    settings = settings_factory(**FAST, CONTACTS_API__AUTH__LOGIN_WINDOW_S="120")
    api = await make_client(settings)
    await login(api, "ada@example.com", "wrong guess!")
    client = redis.asyncio.Redis.from_url(settings.redis.url.reveal())
    try:
        keys = sorted(
            [
                k.decode()
                async for k in client.scan_iter(f"{settings.redis.key_prefix}:auth:login:*")
            ]
        )
        assert len(keys) == 2
        assert keys[1] == f"{settings.redis.key_prefix}:auth:login:address:127.0.0.1"
        assert "ada" not in keys[0]  # the account is hashed, no email in Redis
        assert 100 < await client.ttl(keys[0]) <= 120
    finally:
        await client.aclose()


async def test_redis_down_is_503_not_500(make_client, settings_factory, redis_url):
    target = urlsplit(redis_url)
    proxy = TcpProxy(target.hostname, target.port or 6379)
    port = await proxy.start()
    api = await make_client(settings_factory(**FAST, REDIS_URL=url_via(redis_url, port)))
    await register(api, "ada@example.com")
    await proxy.stop()
    await expect_error(await login(api, "ada@example.com"), 503, "SERVICE_UNAVAILABLE")


async def test_unknown_email_costs_the_time_of_a_wrong_password(make_client, settings_factory):
    settings = settings_factory(
        CONTACTS_API__AUTH__BCRYPT_ROUNDS="10", CONTACTS_API__AUTH__LOGIN_MAX_FAILURES="100"
    )
    api = await make_client(settings)
    await register(api, "ada@example.com")

    async def timed(email: str) -> float:
        started = time.perf_counter()
        await expect_error(await login(api, email, "wrong guess!"), 401, "INVALID_CREDENTIALS")
        return time.perf_counter() - started

    known = statistics.median([await timed("ada@example.com") for _ in range(5)])
    unknown = statistics.median([await timed(f"nobody{i}@example.com") for i in range(5)])
    # cost 10 is ~70 ms here; skipping the hash would answer in ~2 ms
    assert known > 0.02
    assert 0.4 < unknown / known < 2.5, (known, unknown)
