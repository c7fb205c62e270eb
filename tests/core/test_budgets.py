"""Request budgets (core.budgets, core.access): RateLimit-* headers on every
answer to an authenticated request, 429 RATE_LIMITED + Retry-After over it,
one budget per caller and kind of work, Redis failures fail open."""

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from contacts_api.core import metrics
from contacts_api.core.budgets import PERIOD_MS, BudgetLimiter, MemoryBuckets
from contacts_api.core.settings import RateLimitSettings
from tests.helpers import HeaderActors, as_user
from tests.plugins.auth_jwt import expect_error

WRITE_KEY = "test-write-key"
LIMITS = {
    "CONTACTS_API__RATE_LIMITS__READS_PER_MINUTE": "3",
    "CONTACTS_API__RATE_LIMITS__WRITES_PER_MINUTE": "2",
    "CONTACTS_API__RATE_LIMITS__TRANSFERS_PER_MINUTE": "1",
    "CONTACTS_WRITE_KEY": WRITE_KEY,
}


@pytest.fixture
async def api(make_client, settings_factory):
    return await make_client(
        settings_factory(**LIMITS), extra_plugins=[("header_actors", HeaderActors())]
    )


def _headers(response) -> tuple[int, int, int]:
    h = response.headers
    return int(h["RateLimit-Limit"]), int(h["RateLimit-Remaining"]), int(h["RateLimit-Reset"])


async def test_reads_count_down_then_429_with_retry_after(api):
    seen = []
    for _ in range(3):
        response = await api.get("/api/v2/contacts/", headers=as_user("alice"))
        assert response.status == 200
        seen.append(_headers(response))
    assert [remaining for _, remaining, _ in seen] == [2, 1, 0]
    assert all(limit == 3 and 0 < reset <= 60 for limit, _, reset in seen)
    before = metrics.RATE_LIMITED.labels(reason="reads")._value.get()
    refused = await api.get("/api/v2/contacts/", headers=as_user("alice"))
    await expect_error(refused, 429, "RATE_LIMITED")
    assert 1 <= int(refused.headers["Retry-After"]) <= 20  # one read comes back every 20 s
    assert _headers(refused)[:2] == (3, 0)
    assert metrics.RATE_LIMITED.labels(reason="reads")._value.get() == before + 1
    # someone else, and another kind of work, have budgets of their own
    assert (await api.get("/api/v2/contacts/", headers=as_user("bob"))).status == 200
    export = await api.post("/api/v2/exports/contacts/export", json={}, headers=as_user("alice"))
    assert export.status == 422 and _headers(export) == (1, 0, 60)  # counted, then refused
    again = await api.post("/api/v2/exports/contacts/export", json={}, headers=as_user("alice"))
    await expect_error(again, 429, "RATE_LIMITED")
    # looking at exports is a read (alice's reads are spent: 429 too, from that budget)
    listed = await api.get("/api/v2/exports", headers=as_user("bob"))
    assert listed.status == 200 and _headers(listed)[:2] == (3, 1)


async def test_the_v1_write_key_has_a_budget_and_works_as_before(api):
    key = {"X-Contacts-Write-Key": WRITE_KEY}
    first = await api.post("/api/v1/contacts/", json={"first_name": "A"}, headers=key)
    assert first.status == 201 and _headers(first)[:2] == (2, 1)
    assert (
        await api.post("/api/v1/contacts/", json={"first_name": "B"}, headers=key)
    ).status == 201
    third = await api.post("/api/v1/contacts/", json={"first_name": "C"}, headers=key)
    await expect_error(third, 429, "RATE_LIMITED")
    # and reads of the same key are another budget
    assert (await api.get("/api/v1/contacts/", headers=key)).status == 200


async def test_anonymous_and_public_requests_carry_no_budget_headers(api):
    for path in ("/health", "/openapi.json", "/api/v1/contacts/"):
        response = await api.get(path)
        assert "RateLimit-Limit" not in response.headers
    # an authenticated error answer carries them too
    missing = await api.get(
        "/api/v2/contacts/00000000-0000-0000-0000-000000000000", headers=as_user("carol")
    )
    assert missing.status == 404 and _headers(missing)[:2] == (3, 2)


async def test_budgets_can_be_turned_off(make_client, settings_factory):
    client = await make_client(
        settings_factory(**LIMITS, CONTACTS_API__RATE_LIMITS__ENABLED="false"),
        extra_plugins=[("header_actors", HeaderActors())],
    )
    for _ in range(5):
        response = await client.get("/api/v2/contacts/", headers=as_user("alice"))
        assert response.status == 200 and "RateLimit-Limit" not in response.headers


def test_the_defaults_are_generous_enough_for_real_use():
    defaults = RateLimitSettings()
    assert defaults.enabled and defaults.reads_per_minute >= 600
    assert defaults.writes_per_minute >= 300 and defaults.transfers_per_minute >= 30


async def test_redis_down_fails_open_to_process_memory(caplog):
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = BudgetLimiter(RateLimitSettings(reads_per_minute=2), dead, "ctest_dead")
    before = metrics.REDIS_ERRORS.labels(operation="budget")._value.get()
    with caplog.at_level(logging.WARNING, "contacts_api.budgets"):
        decisions = [await limiter.take("user:a", "reads") for _ in range(3)]
    await dead.aclose()
    assert [d.allowed for d in decisions] == [True, True, False]
    assert metrics.REDIS_ERRORS.labels(operation="budget")._value.get() == before + 3
    assert sum("Redis failed" in r.message for r in caplog.records) == 1  # once a minute


async def test_redis_and_memory_buckets_agree(redis_url):
    client = Redis.from_url(redis_url)
    try:
        shared = BudgetLimiter(RateLimitSettings(writes_per_minute=4), client, "ctest_agree")
        local = BudgetLimiter(RateLimitSettings(writes_per_minute=4), None, "unused")
        errors = metrics.REDIS_ERRORS.labels(operation="budget")._value.get()
        for limiter in (shared, local):
            got = [await limiter.take("user:z", "writes") for _ in range(5)]
            assert [d.remaining for d in got] == [3, 2, 1, 0, 0]
            assert [d.allowed for d in got] == [True] * 4 + [False]
            assert got[-1].retry_after_s == 15
        # Redis really counted (no silent fallback), with an expiry
        assert metrics.REDIS_ERRORS.labels(operation="budget")._value.get() == errors
        assert 0 < await client.pttl("ctest_agree:budget:writes:user:z") <= 60_000
        # an absurd limit still makes a valid expiry (refills under a millisecond)
        huge = BudgetLimiter(RateLimitSettings(reads_per_minute=10**9), client, "ctest_agree")
        assert (await huge.take("user:huge", "reads")).allowed
        assert metrics.REDIS_ERRORS.labels(operation="budget")._value.get() == errors
    finally:
        await client.delete(
            "ctest_agree:budget:writes:user:z", "ctest_agree:budget:reads:user:huge"
        )
        await client.aclose()


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(1, 5),
    gaps=st.lists(st.sampled_from([0, 1, 5_000, 12_000, 60_000]), min_size=1, max_size=30),
)
def test_a_bucket_never_allows_more_than_its_limit_in_any_minute(limit, gaps):
    """Model: a bucket of ``limit`` requests refilling one every 60/limit s
    allows, between any two allowed requests at ``a <= b``, at most
    ``limit + (b - a) / interval`` requests: the burst plus the refills."""
    buckets, now, allowed_at = MemoryBuckets(), 0.0, []
    for gap in gaps:
        now += gap
        decision = buckets.take_now("k", limit, now)
        assert 0 <= decision.remaining <= limit - 1 or not decision.allowed
        if decision.allowed:
            allowed_at.append(now)
        else:
            assert decision.retry_after_s >= 1
    interval = PERIOD_MS / limit
    for i, start in enumerate(allowed_at):
        for j in range(i, len(allowed_at)):
            assert j - i + 1 <= limit + (allowed_at[j] - start) // interval
    # from a full bucket, exactly ``limit`` requests in a burst
    fresh = MemoryBuckets()
    burst = [fresh.take_now("k", limit, 0.0).allowed for _ in range(limit + 1)]
    assert burst == [True] * limit + [False]
