"""Fixtures of the contacts tests: clients with credentials and a seeded dataset.

``seeded`` writes a deterministic dataset (``dataset.py``) straight into the
database and returns it as plain Python objects: tests compare the API's
answers with an independent computation over those objects.
"""

import psycopg2
import psycopg2.extras
import pytest

from contacts_api.core.auth import Actor
from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.plugins import BUILTIN_PLUGINS
from contacts_api.plugins.contacts import matched_ids
from tests.conftest import WRITE_KEY
from tests.plugins.contacts.dataset import Dataset, build_dataset, insert_dataset
from tests.plugins.contacts.dictionary_writers import Dictionary

WRITE = {"X-Contacts-Write-Key": WRITE_KEY}


class StandIn:
    """TEMPORARY stand-in for the auth plugins while they are not registered in
    BUILTIN_PLUGINS: the write key header and ``Authorization: Bearer test``."""

    def __init__(self, write_key: bool, bearer: bool):
        self.write_key, self.bearer = write_key, bearer

    @hookimpl
    def actor_from_request(self, request, resources):
        if self.write_key and request.headers.get("X-Contacts-Write-Key") == WRITE_KEY:
            return Actor(id="write_key", kind="write_key", role="admin", can_write_v1=True)
        if self.bearer and request.headers.get("Authorization") == "Bearer test":
            return Actor(id="test-user", kind="user")
        return None


def stand_ins() -> list[tuple[str, object]]:
    write_key = "auth_write_key" not in BUILTIN_PLUGINS
    bearer = "auth_jwt" not in BUILTIN_PLUGINS
    return [("auth_stand_in", StandIn(write_key, bearer))] if write_key or bearer else []


@pytest.fixture
def settings(settings_factory):
    """Registration is closed by default; the ``bearer`` fixture registers a user."""
    return settings_factory(CONTACTS_API__AUTH__REGISTRATION_OPEN="true")


@pytest.fixture
def make_api(make_client):
    async def factory(settings, extra_plugins=()):
        return await make_client(settings, extra_plugins=[*stand_ins(), *extra_plugins])

    return factory


@pytest.fixture
async def api(make_api, settings):
    return await make_api(settings)


@pytest.fixture
async def bearer(api) -> dict[str, str]:
    """Headers of a v2 bearer token."""
    if "auth_jwt" not in BUILTIN_PLUGINS:
        return {"Authorization": "Bearer test"}
    response = await api.post(
        "/api/v2/auth/register",
        json={"email": "reader@example.com", "password": "correct horse battery"},
    )
    assert response.status == 201, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['access_token']}"}


@pytest.fixture
def seeded(settings) -> Dataset:
    data = build_dataset()
    insert_dataset(settings.database.url.reveal(), data)
    return data


def sql(settings, query: str, params=None) -> list[tuple]:
    conn = psycopg2.connect(settings.database.url.reveal())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


__all__ = ["WRITE", "psycopg2"]


@pytest.fixture
def dictionary(settings, monkeypatch):
    """An empty dictionary of titles with writers (``dictionary_writers``); lookups
    settle their horizon every time."""
    monkeypatch.setattr(matched_ids, "SETTLE_SECONDS", 0.0)  # settle on every lookup
    dictionary = Dictionary(settings)
    dictionary.reset()
    yield dictionary
    dictionary.close()
