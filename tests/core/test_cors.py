"""CORS preflights: every method of a route passes for a configured origin.

aiohttp matches a request to the first resource whose path fits; when each
method of a path got its own resource, only the first method's preflight
passed (403 for the others) and, with no origins configured, every preflight
got 405. These tests ask for each method of routes that have several.
"""

import uuid

import pytest

ORIGIN = "https://app.example.com"
# a fixed id: test ids must be the same in every xdist worker
CONTACT = f"/api/v1/contacts/{uuid.UUID(int=0xC0FFEE)}/"

# (path, method): routes with several methods, both path spellings.
MULTI_METHOD = [
    (path, method)
    for base, methods in (
        ("/api/v1/contacts/", ("GET", "HEAD", "POST")),
        (CONTACT, ("GET", "HEAD", "PATCH", "PUT", "DELETE")),
        ("/api/v2/users/me/profile", ("PATCH", "PUT")),
    )
    for path in (base.rstrip("/"), base.rstrip("/") + "/")
    for method in methods
]


def _preflight_headers(origin: str, method: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "Authorization, Content-Type, X-Contacts-Write-Key",
    }


@pytest.mark.parametrize(("path", "method"), MULTI_METHOD)
async def test_every_method_of_a_route_passes_preflight(
    make_client, settings_factory, path, method
):
    settings = settings_factory(CONTACTS_API__SERVER__CORS_ORIGINS=f"{ORIGIN},https://other.test")
    client = await make_client(settings)
    response = await client.options(path, headers=_preflight_headers(ORIGIN, method))
    assert response.status == 200, await response.text()
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


async def test_any_origin_star_allows_every_method(make_client, settings_factory):
    client = await make_client(settings_factory(CONTACTS_API__SERVER__CORS_ORIGINS="*"))
    for method in ("GET", "PATCH", "PUT", "DELETE"):
        response = await client.options(
            CONTACT, headers=_preflight_headers("https://anywhere.test", method)
        )
        assert response.status == 200, (method, await response.text())
        assert response.headers["Access-Control-Allow-Origin"] == "https://anywhere.test"


async def test_a_method_the_route_lacks_is_refused(make_client, settings_factory):
    client = await make_client(settings_factory(CONTACTS_API__SERVER__CORS_ORIGINS=ORIGIN))
    response = await client.options(
        "/api/v1/contacts/", headers=_preflight_headers(ORIGIN, "DELETE")
    )
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    body = await response.json()
    assert body["error_code"] == "FORBIDDEN" and "DELETE" in body["detail"]


async def test_actual_request_of_a_later_method_carries_cors_headers(make_client, settings_factory):
    """Not only the preflight: the actual PATCH/DELETE response names the origin too."""
    client = await make_client(settings_factory(CONTACTS_API__SERVER__CORS_ORIGINS=ORIGIN))
    response = await client.delete(CONTACT, headers={"Origin": ORIGIN})
    assert response.status in (401, 403, 404)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


async def test_without_configured_origins_preflight_is_a_json_refusal_not_405(
    make_client, settings
):
    """Default settings: the preflight is answered (refused, JSON), never 405."""
    client = await make_client(settings)
    for method in ("GET", "POST"):
        response = await client.options(
            "/api/v1/contacts/", headers=_preflight_headers(ORIGIN, method)
        )
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers
        body = await response.json()
        assert body["error_code"] == "FORBIDDEN" and "no origins are allowed" in body["detail"]


async def test_routes_keep_working_after_grouping(make_client, settings):
    """One resource per path: GET, HEAD and the unknown-method answer still behave."""
    client = await make_client(settings)
    assert (await client.get("/health")).status == 200
    assert (await client.head("/health")).status == 200
    response = await client.post("/health")
    assert response.status == 405
    assert "GET" in response.headers["Allow"]
