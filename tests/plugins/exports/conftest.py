"""Fixtures for export tests: the test auth plugin ``HeaderActors`` (exports
belong to any auth method's actor), seeding through SQL, and polling."""

import asyncio
import csv
import io

import pytest

from tests.helpers import HeaderActors, as_user, seed  # noqa: F401 (re-exported)


@pytest.fixture
def export_client(make_client):
    async def factory(settings):
        return await make_client(settings, extra_plugins=[("header_actors", HeaderActors())])

    return factory


async def wait_done(client, export_id: str, user: str = "alice", timeout: float = 20) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        export = await (
            await client.get(f"/api/v2/exports/{export_id}", headers=as_user(user))
        ).json()
        if export["status"] in ("completed", "failed"):
            return export
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"export still {export['status']}")
        await asyncio.sleep(0.05)


def parse_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
