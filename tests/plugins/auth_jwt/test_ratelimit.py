"""Login rate limiting per (account, address), per address and per account
(progressive delay), with Redis and in process; registration throttling;
client addresses through trusted proxies; and the same answer, in time, for
unknown emails."""

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
from tests.plugins.auth_jwt import (
    FAST,
    OPEN_REGISTRATION,
    PASSWORD,
    bearer,
    expect_error,
    login,
    register,
)

BACKENDS = {"redis": {}, "memory": {"REDIS_URL": ""}}


@pytest.fixture(params=list(BACKENDS))
def limit_settings(request, settings_factory):
    return settings_factory(
        **FAST,
        **BACKENDS[request.param],
        CONTACTS_API__AUTH__LOGIN_MAX_FAILURES="3",
        CONTACTS_API__AUTH__LOGIN_ADDRESS_MAX_FAILURES="40",
        CONTACTS_API__AUTH__LOGIN_DELAY_AFTER_FAILURES="100",
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
async def from_address(request):
    """``await from_address(ip).post(...)``: requests whose client address is
    another loopback address (127.0.0.x), as if from another machine; to the
    ``api`` fixture's server, or to ``from_address(ip, client)``'s."""
    sessions: dict[str, aiohttp.ClientSession] = {}

    def client(ip: str, api=None) -> "_Remote":
        if ip not in sessions:
            connector = aiohttp.TCPConnector(local_addr=(ip, 0))
            sessions[ip] = aiohttp.ClientSession(connector=connector)
        return _Remote(sessions[ip], api or request.getfixturevalue("api"))

    yield client
    for session in sessions.values():
        await session.close()


class _Remote:
    def __init__(self, session: aiohttp.ClientSession, api):
        self.session, self.api = session, api

    async def login(self, email: str, password: str = PASSWORD, **headers: str):
        response = await self.session.post(
            self.api.make_url("/api/v2/auth/login"),
            json={"email": email, "password": password},
            headers=headers,
        )
        await response.read()
        return response

    async def register(self, email: str):
        response = await self.session.post(
            self.api.make_url("/api/v2/auth/register"),
            json={"email": email, "password": PASSWORD},
        )
        await response.read()
        return response


async def _failed(remote, email: str) -> None:
    await expect_error(await remote.login(email, "wrong guess!"), 401, "INVALID_CREDENTIALS")


async def test_an_address_is_limited_on_the_account_it_guesses(api, from_address):
    await register(api, "ada@example.com")
    await register(api, "bob@example.com")
    guesser = from_address("127.0.0.10")
    for _ in range(3):
        await _failed(guesser, "ada@example.com")
    await _rate_limited(await guesser.login("ada@example.com", "nope!!!!"))
    # even the right password, from that address, for that account
    await _rate_limited(await guesser.login("ADA@example.com"))
    # the same account from another address, and another account from that address: fine
    assert (await from_address("127.0.0.11").login("ada@example.com")).status == 200
    assert (await guesser.login("bob@example.com")).status == 200


async def test_failures_elsewhere_never_refuse_a_correct_password(api, from_address):
    """The review's lock-out: any number of failures from other addresses, on
    this account and on others, never refuse the right password from a clean
    address (it may be slowed down, see the delay test)."""
    await register(api, "admin@example.com")
    for index in range(8):
        remote = from_address(f"127.0.0.{10 + index}")
        for _ in range(3):
            await _failed(remote, "admin@example.com")
        await _failed(remote, f"other{index}@example.com")
    assert (await from_address("127.0.0.30").login("admin@example.com")).status == 200


async def test_unknown_emails_count_like_known_ones(api, from_address):
    guesser = from_address("127.0.0.10")
    for _ in range(3):
        await _failed(guesser, "ghost@example.com")
    await _rate_limited(await guesser.login("ghost@example.com", "x" * 10))


async def test_success_resets_the_counter_of_its_address(api, from_address):
    await register(api, "ada@example.com")
    remote = from_address("127.0.0.10")
    for _ in range(2):
        await _failed(remote, "ada@example.com")
    assert (await remote.login("ada@example.com")).status == 200
    for _ in range(3):  # without the reset, the pair would be limited by now
        await _failed(remote, "ada@example.com")
    await _rate_limited(await remote.login("ada@example.com"))


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
    assert (await login(api, "ada@example.com", PASSWORD)).status == 429  # this address, spent


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
    prefix = f"{settings.redis.key_prefix}:auth:login:"
    try:
        keys = sorted([k.decode() async for k in client.scan_iter(prefix + "*")])
        assert [key[len(prefix) :].split(":")[0] for key in keys] == ["account", "address", "pair"]
        assert keys[1] == prefix + "address:127.0.0.1"
        assert keys[2].endswith(":127.0.0.1")
        assert not any("ada" in key for key in keys)  # the account is hashed, no email in Redis
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


@pytest.mark.alone  # compares wall-clock times
async def test_unknown_email_costs_the_time_of_a_wrong_password(make_client, settings_factory):
    settings = settings_factory(
        **OPEN_REGISTRATION,
        CONTACTS_API__AUTH__BCRYPT_ROUNDS="10",
        CONTACTS_API__AUTH__LOGIN_MAX_FAILURES="100",
        CONTACTS_API__AUTH__LOGIN_DELAY_AFTER_FAILURES="100",
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


async def test_an_address_is_limited_across_accounts(make_client, settings_factory):
    settings = settings_factory(
        **FAST,
        CONTACTS_API__AUTH__LOGIN_MAX_FAILURES="3",
        CONTACTS_API__AUTH__LOGIN_ADDRESS_MAX_FAILURES="4",
        CONTACTS_API__AUTH__LOGIN_WINDOW_S="120",
    )
    api = await make_client(settings)
    await register(api, "ada@example.com")
    for index in range(4):  # one failure per account, four accounts
        await expect_error(
            await login(api, f"victim{index}@example.com", "guess it"), 401, "INVALID_CREDENTIALS"
        )
    # a fresh account, but the same client address (127.0.0.1) ...
    await _rate_limited(await login(api, "ada@example.com"))


@pytest.mark.alone  # delays measured to 0.1 s
async def test_an_account_under_attack_slows_down_but_never_locks(make_client, settings_factory):
    """Failures of one account from everywhere delay its logins 1, 2, 4 ... s
    (capped), whichever spelling of the email the guesser used: the limiter
    counts the user the database resolves (``İ`` lower-cases to ``i`` there)."""
    settings = settings_factory(
        **FAST,
        CONTACTS_API__AUTH__LOGIN_DELAY_AFTER_FAILURES="2",
        CONTACTS_API__AUTH__LOGIN_MAX_DELAY_S="1.5",
    )
    api = await make_client(settings)
    await register(api, "admin@example.com")

    async def timed(email: str, password: str) -> tuple[int, float]:
        started = time.perf_counter()
        response = await login(api, email, password)
        return response.status, time.perf_counter() - started

    assert (await timed("admİn@example.com", "guess one"))[0] == 401
    status, quick = await timed("ADMİN@EXAMPLE.COM", "guess two")
    assert status == 401 and quick < 0.9
    status, first_delay = await timed("admin@example.com", "guess three")
    assert status == 401 and first_delay >= 1.0  # 2^0 s
    status, capped = await timed("admin@example.com", PASSWORD)  # 2^1 s, capped at 1.5
    assert status == 200 and 1.5 <= capped < 2.0


async def test_x_forwarded_for_counts_only_from_trusted_proxies(
    make_client, settings_factory, from_address
):
    settings = settings_factory(
        **FAST,
        CONTACTS_API__AUTH__LOGIN_MAX_FAILURES="2",
        CONTACTS_API__AUTH__LOGIN_WINDOW_S="120",
        CONTACTS_API__SERVER__TRUSTED_PROXIES="127.0.0.1",
    )
    api = await make_client(settings)
    await register(api, "ada@example.com")
    client_a = {"X-Forwarded-For": "198.51.100.7, 203.0.113.5"}  # the proxy appended .5
    for _ in range(2):
        response = await api.post(
            "/api/v2/auth/login",
            json={"email": "ada@example.com", "password": "wrong guess!"},
            headers=client_a,
        )
        await expect_error(response, 401, "INVALID_CREDENTIALS")
    ok = {"email": "ada@example.com", "password": PASSWORD}
    await _rate_limited(await api.post("/api/v2/auth/login", json=ok, headers=client_a))
    # another client behind the same proxy is not limited ...
    other = {"X-Forwarded-For": "203.0.113.6"}
    assert (await api.post("/api/v2/auth/login", json=ok, headers=other)).status == 200
    # ... and an untrusted peer cannot pick its address by sending the header
    untrusted = from_address("127.0.0.10", api)
    for _ in range(2):
        await expect_error(
            await untrusted.login("ada@example.com", "wrong guess!", **other),
            401,
            "INVALID_CREDENTIALS",
        )
    await _rate_limited(await untrusted.login("ada@example.com", **{"X-Forwarded-For": "1.2.3.4"}))
    assert (await api.post("/api/v2/auth/login", json=ok, headers=other)).status == 200


async def test_registration_is_throttled_per_address(make_client, settings_factory, from_address):
    settings = settings_factory(
        **{**FAST, "CONTACTS_API__AUTH__REGISTRATION_MAX_PER_ADDRESS": "2"},
        CONTACTS_API__AUTH__REGISTRATION_WINDOW_S="120",
    )
    api = await make_client(settings)
    remote = from_address("127.0.0.10", api)
    assert (await remote.register("one@example.com")).status == 201
    assert (await remote.register("two@example.com")).status == 201
    await _rate_limited(await remote.register("three@example.com"))
    assert (await from_address("127.0.0.11", api).register("three@example.com")).status == 201
