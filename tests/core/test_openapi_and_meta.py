"""The OpenAPI document and the meta-tests of the plugin contract."""

import inspect
import json
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from contacts_api.core import hookspecs
from contacts_api.core.app import create_app

TESTS = Path(__file__).resolve().parents[1]
HOOKS = sorted(
    name
    for name, obj in vars(hookspecs).items()
    if inspect.isfunction(obj) and hasattr(obj, "contacts_api_spec")
)


def _route_paths(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if path is None or route.method in ("HEAD", "OPTIONS") or path.startswith("/docs/static"):
            continue
        found.add((route.method.lower(), path.rstrip("/") or "/"))
    return found


def _documented(document) -> set[tuple[str, str]]:
    return {
        (method, path.rstrip("/") or "/")
        for path, item in document["paths"].items()
        for method in item
    }


async def test_openapi_document_is_valid_and_describes_every_route(
    make_client, settings_factory, example_plugin_installed
):
    client = await make_client(settings_factory())
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    documented = _documented(document)
    for method, path in _route_paths(client.app):
        if method == "put" and ("patch", path) in documented:
            continue  # PUT mirrors PATCH (docs/api.md), documented once
        assert (method, path) in documented, f"{method.upper()} {path} is not in the OpenAPI"


async def test_docs_page_works_offline(client):
    page = await client.get("/docs")
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    assets = re.findall(r'(?:src|href)="(/docs/static/[^"]+)"', html)
    assert assets and "http" not in "".join(assets)
    assert all(a.startswith("/") for a in re.findall(r'(?:src|href)="([^"]+)"', html))
    for asset in assets:
        assert (await client.get(asset)).status == 200, asset


def test_every_hookspec_is_documented():
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 40, f"hookspec {name} needs a docstring saying what it returns"


@pytest.mark.parametrize("name", HOOKS)
def test_every_hookspec_is_exercised_by_a_test(name):
    """Each hook has a ``test_hook_<name>...`` test somewhere in the suite, and the
    README's example plugin implements it."""
    sources = "\n".join(p.read_text() for p in TESTS.rglob("test_*.py"))
    assert re.search(rf"def test_hook_\w*{name}", sources), f"no test_hook_…{name} test"
    example = TESTS.parent / "examples/contacts_api_example/contacts_api_example/__init__.py"
    assert re.search(rf"def {name}\(", example.read_text()), f"example lacks {name}"


def test_core_builds_without_any_plugin(settings_factory):
    app = create_app(settings_factory(CONTACTS_API__PLUGINS__ENABLED="nothing"))
    assert ("get", "/health") in _route_paths(app)


async def test_filter_parameters_are_declared_once_and_referenced(client):
    """58 filters on every list, count and attribute route made 424 KB."""
    raw = await (await client.get("/openapi.json")).read()
    document = json.loads(raw)
    declared = document["components"]["parameters"]
    assert "contactFilter.title" in declared and "companyFilter.name" in declared
    listed = document["paths"]["/api/v1/contacts/"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/contactFilter.title"} in listed
    assert not any(p.get("name") == "title" for p in listed)
    assert len(raw) < 250_000, len(raw)
