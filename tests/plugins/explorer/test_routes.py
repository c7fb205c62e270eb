"""The explorer's routes: the page and its assets, served locally under a
strict Content-Security-Policy, and nothing of it once an operator blocks it."""

import re
from pathlib import Path

import contacts_api.plugins.explorer as explorer_package

STATIC = Path(explorer_package.__file__).parent / "static"
TEST_IDS = """login-email login-password login-submit search-input filter-title filter-country
search-submit results-count results-row next-page apollo-url apollo-submit apollo-applied
apollo-unmapped import-file import-submit import-progress import-status export-start
export-status export-download""".split()


async def test_the_page_is_served_with_a_strict_content_security_policy(client):
    response = await client.get("/explorer/")
    assert response.status == 200 and response.content_type == "text/html"
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = await response.text()
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either


async def test_root_redirects_to_the_page(client):
    response = await client.get("/", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/explorer/"


async def test_every_asset_is_local_and_served(client):
    html = await (await client.get("/explorer/")).text()
    linked = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assets = [url for url in linked if url.startswith("/explorer/static/")]
    assert assets and all(url.startswith("/") for url in linked if url != "/docs")
    modules = sorted(STATIC.joinpath("js").glob("*.js"))
    assets += [f"/explorer/static/js/{module.name}" for module in modules]
    for url in assets:
        response = await client.get(url)
        assert response.status == 200, url
        body = await response.text()
        # No request to another origin: no absolute URL in any asset.
        assert not re.search(r"""(?<!xmlns=)["'(]https?://""", body), url
    kinds = {
        (await client.get("/explorer/static/js/app.js")).content_type,
        (await client.get("/explorer/static/explorer.css")).content_type,
    }
    assert kinds == {"text/javascript", "text/css"} or kinds == {
        "application/javascript",
        "text/css",
    }


async def test_every_js_module_import_resolves_to_a_served_file(client):
    for module in STATIC.joinpath("js").glob("*.js"):
        for imported in re.findall(r'from "\./([^"]+)"', module.read_text()):
            response = await client.get(f"/explorer/static/js/{imported}")
            assert response.status == 200, f"{module.name} imports {imported}"


async def test_the_page_carries_every_test_hook_of_the_issue(client):
    html = await (await client.get("/explorer/")).text()
    scripts = "".join(p.read_text() for p in STATIC.joinpath("js").glob("*.js"))
    for name in TEST_IDS:
        # results-row is set on each row by the script; the others are in the page.
        assert f'data-testid="{name}"' in html or f'testid: "{name}"' in scripts, name


async def test_operators_can_block_the_explorer(make_client, settings_factory):
    client = await make_client(settings_factory(CONTACTS_API__PLUGINS__BLOCKED="explorer"))
    for path in ("/explorer/", "/", "/explorer/static/js/app.js"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 404, path
        assert (await response.json())["error_code"] == "NOT_FOUND"
    assert (await client.get("/health")).status == 200
    document = await (await client.get("/openapi.json")).json()
    assert "/explorer/" not in document["paths"]
