"""The README's plugin example is real: extract it, install it through an entry
point, and use its route and filter."""

import re
import sys
import types
from pathlib import Path

import pytest
import sqlalchemy as sa

from contacts_api.core.app import create_app
from contacts_api.core.appkeys import FILTERS, RESOURCES
from contacts_api.core.plugins import Plugins
from contacts_api.core.sql import compile_sql
from tests.conftest import WRITE_KEY, write_dist_info

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def readme_plugin_installed(tmp_path, monkeypatch):
    text = README.read_text()
    block = re.search(r"<!-- readme-plugin:start -->\s*```python\n(.*?)```", text, re.S)
    assert block, "README lost its plugin example"
    site = tmp_path / "readme-site"
    site.mkdir()
    (site / "contacts_api_hello.py").write_text(block.group(1))
    write_dist_info(site, "contacts-api-hello", "0.1.0", {"hello": "contacts_api_hello"})
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("contacts_api_hello", None)


def test_readme_first_screen_has_both_commands():
    first_screen = "\n".join(README.read_text().splitlines()[:30])
    assert "pip install . && contacts-api serve" in first_screen
    assert "pip install -e '.[dev]' && pytest -q" in first_screen
    ci = (README.parent / ".ci" / "run").read_text()
    assert "pip install --quiet -e '.[dev]' && pytest -q" in ci


async def test_readme_plugin_route_and_filter(make_client, settings, readme_plugin_installed):
    assert "hello" in Plugins.load(settings).names()
    client = await make_client(settings)
    assert (await client.get("/api/v2/hello")).status == 401
    document = await (await client.get("/openapi.json")).json()
    assert "/api/v2/hello" in document["paths"]
    applied = client.app[FILTERS].contacts.parse([("has_mobile_phone", "false")])
    contacts = sa.table("contacts", sa.column("mobile_phone"))
    sql, _ = compile_sql(
        sa.select(contacts).where(applied.condition(types.SimpleNamespace(contacts=contacts)))
    )
    assert "mobile_phone IS NULL" in sql


async def test_readme_plugin_company_filter_joins_the_company(
    make_client, settings, readme_plugin_installed
):
    """The example's filter on ``t.companies`` (``needs={"company"}``) answers on
    the list and count routes (found by a plugin author: without ``needs``, 500)."""
    client = await make_client(settings)
    db = client.app[RESOURCES].db
    await db.execute(
        "INSERT INTO companies (name, domain) VALUES ('Wiki', 'wiki.org'), ('Acme', 'acme.com')"
    )
    await db.execute(
        "INSERT INTO contacts (email, company_uuid) SELECT 'ann@' || domain, uuid FROM companies"
    )
    headers = {"X-Contacts-Write-Key": WRITE_KEY}
    listed = await client.get("/api/v1/contacts/?company_tld=org", headers=headers)
    assert listed.status == 200, await listed.text()
    assert [c["email"] for c in (await listed.json())["results"]] == ["ann@wiki.org"]
    counted = await client.get("/api/v1/contacts/count/?company_tld=.ORG,de", headers=headers)
    assert (await counted.json())["count"] == 1


def test_readme_plugin_can_be_blocked(settings_factory, readme_plugin_installed):
    settings = settings_factory(CONTACTS_API__PLUGINS__BLOCKED="hello")
    assert "/api/v2/hello" not in [
        r.resource.canonical for r in create_app(settings).router.routes() if r.resource
    ]
