"""``contacts_api.testing.app_client``: what a third-party plugin's own tests
use, driving the example plugin through the public surface only."""

import asyncio
import re
import sys

import pytest

from contacts_api.testing import app_client
from tests.conftest import EXAMPLE_PLUGIN_DIR

TOKEN = "example-token-123"
HEADERS = {"X-Example-Token": TOKEN, "X-Example-User": "ada"}


def test_the_example_plugin_imports_only_the_public_surface():
    source = (EXAMPLE_PLUGIN_DIR / "contacts_api_example" / "__init__.py").read_text()
    imported = re.findall(r"^\s*(?:from|import) (contacts_api\S*)", source, re.MULTILINE)
    assert imported and set(imported) == {"contacts_api"}


@pytest.fixture
def example_module(monkeypatch):
    """The example plugin importable, not installed: given to ``app_client``."""
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN_DIR))
    import contacts_api_example

    yield contacts_api_example
    sys.modules.pop("contacts_api_example", None)


async def test_app_client_runs_the_example_plugin_on_a_fresh_database(example_module):
    env = {"CONTACTS_API__EXAMPLE__TOKEN": TOKEN, "CONTACTS_API__EXAMPLE__ALLOWED_USERS": "ada"}
    async with app_client([("example", example_module)], env=env) as client:
        # the plugin's migration ran on the fresh database, its route answers
        assert await (await client.get("/api/v2/example/notes", headers=HEADERS)).json() == {
            "results": []
        }
        kicked = await client.post("/api/v2/example/notes", json={"body": "hi"}, headers=HEADERS)
        assert kicked.status == 202
        for _ in range(100):  # the task runs in the process (no Redis broker)
            notes = await (await client.get("/api/v2/example/notes", headers=HEADERS)).json()
            if notes["results"]:
                break
            await asyncio.sleep(0.05)
        assert notes == {"results": [{"author": "ada", "body": "hi"}]}
        # its typed settings apply: eve is not an allowed user
        eve = {**HEADERS, "X-Example-User": "eve"}
        assert (await client.get("/api/v2/example/notes", headers=eve)).status == 401
        # the built-in plugins are there too, with the client's write key
        created = await client.post(
            "/api/v1/contacts/", json={"email": "a@x.io"}, headers=client.write_key_headers
        )
        assert created.status == 201
