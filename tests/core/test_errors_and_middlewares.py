"""Every failure is the JSON error shape; the middlewares' headers and checks."""

import gzip
import io
import json
import logging
import zlib

import pytest
from aiohttp import web

from contacts_api.core import errors
from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.requests import read_json

ERROR_CASES = [
    (errors.BadRequest, 400, "BAD_REQUEST"),
    (errors.NotAuthenticated, 401, "NOT_AUTHENTICATED"),
    (errors.InvalidToken, 401, "INVALID_TOKEN"),
    (errors.InvalidCredentials, 401, "INVALID_CREDENTIALS"),
    (errors.InvalidWriteKey, 403, "INVALID_WRITE_KEY"),
    (errors.Forbidden, 403, "FORBIDDEN"),
    (errors.NotFound, 404, "NOT_FOUND"),
    (errors.Conflict, 409, "CONFLICT"),
    (errors.PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"),
    (errors.ServiceUnavailable, 503, "SERVICE_UNAVAILABLE"),
    (errors.InternalError, 500, "INTERNAL_ERROR"),
]


class Faulty:
    """Routes that fail in every way a plugin route can."""

    @hookimpl
    def register_routes(self, settings):
        routes = web.RouteTableDef()

        @routes.get("/t/raise/{index}")
        async def raise_typed(request):
            raise ERROR_CASES[int(request.match_info["index"])][0]("typed failure")

        @routes.get("/t/validation")
        async def validation(request):
            raise errors.ValidationError.single(("query", "limit"), "must be <= 100")

        @routes.get("/t/rate")
        async def rate(request):
            raise errors.RateLimited(42)

        @routes.get("/t/crash")
        async def crash(request):
            raise RuntimeError("secret internals: password=hunter2")

        @routes.get("/t/http")
        async def http(request):
            raise web.HTTPConflict()

        @routes.post("/t/echo")
        async def echo(request):
            return web.json_response(await read_json(request))

        @routes.patch("/t/item")
        async def patch(request):
            return web.json_response({"method": request.method})

        @routes.get("/t/slow")
        async def slow(request):
            from contacts_api.core.appkeys import RESOURCES

            await request.app[RESOURCES].db.execute("SELECT pg_sleep(2)")
            return web.json_response({})

        @routes.get("/t/big")
        async def big(request):
            return web.json_response({"rows": ["x" * 50] * 100})

        return list(routes)


@pytest.fixture
async def faulty(make_client, settings):
    return await make_client(settings, extra_plugins=[("faulty", Faulty())])


async def _error(response, status, code):
    assert response.status == status
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["error_code"] == code and isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize("index", range(len(ERROR_CASES)))
async def test_typed_errors_render_the_json_shape(faulty, index):
    _, status, code = ERROR_CASES[index]
    body = await _error(await faulty.get(f"/t/raise/{index}"), status, code)
    assert "errors" not in body


async def test_validation_error_lists_field_errors(faulty):
    body = await _error(await faulty.get("/t/validation"), 422, "VALIDATION_ERROR")
    assert body["errors"] == [
        {"loc": ["query", "limit"], "msg": "must be <= 100", "type": "value_error"}
    ]
    assert "limit" in body["detail"]


async def test_rate_limited_sets_retry_after(faulty):
    response = await faulty.get("/t/rate")
    await _error(response, 429, "RATE_LIMITED")
    assert response.headers["Retry-After"] == "42"


async def test_crash_is_500_without_leaking_and_logged_with_stack(faulty, caplog):
    with caplog.at_level(logging.ERROR, logger="contacts_api.errors"):
        response = await faulty.get("/t/crash")
    body = await _error(response, 500, "INTERNAL_ERROR")
    text = json.dumps(body)
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    record = next(r for r in caplog.records if r.name == "contacts_api.errors")
    assert record.exc_info is not None  # the stack trace is in the log


async def test_aiohttp_http_errors_unknown_routes_and_methods(faulty):
    await _error(await faulty.get("/t/http"), 409, "CONFLICT")
    await _error(await faulty.get("/no/such/route"), 404, "NOT_FOUND")
    response = await faulty.delete("/health")
    await _error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


async def test_malformed_and_oversized_bodies(faulty, settings):
    await _error(await faulty.post("/t/echo", data=b"{not json"), 400, "BAD_REQUEST")
    await _error(await faulty.post("/t/echo", data=b"[1, 2]"), 400, "BAD_REQUEST")
    too_big = b'{"x": "' + b"a" * (settings.server.max_body_bytes + 10) + b'"}'
    response = await faulty.post("/t/echo", data=io.BytesIO(too_big))
    await _error(response, 413, "PAYLOAD_TOO_LARGE")
    ok = await faulty.post("/t/echo", json={"a": 1})
    assert ok.status == 200 and await ok.json() == {"a": 1}


async def test_trailing_slash_and_put_for_patch(faulty):
    for path in ("/health", "/health/"):
        assert (await faulty.get(path)).status == 200
        assert (await faulty.head(path)).status == 200
    for method in ("PATCH", "PUT"):
        response = await faulty.request(method, "/t/item/")
        assert (await response.json())["method"] == method


async def test_request_id_echoed_generated_and_sanitized(faulty):
    echoed = await faulty.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    generated = await faulty.get("/health")
    assert len(generated.headers["X-Request-ID"]) == 32
    hostile = await faulty.get("/health", headers={"X-Request-ID": "a\tb<script>"})
    assert hostile.headers["X-Request-ID"] != "a\tb<script>"
    errored = await faulty.get("/no/such/route", headers={"X-Request-ID": "err-1"})
    assert errored.headers["X-Request-ID"] == "err-1"
    streamed = await faulty.get("/docs/static/swagger-ui.css", headers={"X-Request-ID": "s-1"})
    assert streamed.headers["X-Request-ID"] == "s-1"  # prepared by the handler itself


async def test_process_time_on_every_response(faulty):
    for path in ("/health", "/no/such/route", "/t/crash", "/docs/static/swagger-ui.css"):
        value = (await faulty.get(path)).headers["X-Process-Time"]
        assert float(value) >= 0


async def test_gzip_for_large_responses_only(faulty):
    big = await faulty.get("/t/big", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert big.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(await big.read()))["rows"][0] == "x" * 50
    small = await faulty.get("/health", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert "Content-Encoding" not in small.headers
    plain = await faulty.get(
        "/t/big", headers={"Accept-Encoding": "identity"}, auto_decompress=False
    )
    assert "Content-Encoding" not in plain.headers


async def test_deflate_and_large_bodies(faulty, monkeypatch):
    """deflate when preferred as aiohttp chooses; a body over the inline limit is
    left to aiohttp's own (thread pool) compression, with the same result."""
    from contacts_api.core import middlewares

    both = {"Accept-Encoding": "gzip, deflate"}
    deflated = await faulty.get("/t/big", headers=both, auto_decompress=False)
    assert deflated.headers["Content-Encoding"] == "deflate"
    assert json.loads(zlib.decompress(await deflated.read()))["rows"][0] == "x" * 50
    monkeypatch.setattr(middlewares, "INLINE_COMPRESS_MAX", 10)
    big = await faulty.get("/t/big", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert big.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(await big.read()))["rows"][-1] == "x" * 50


async def test_access_log_one_json_line_per_request(make_client, settings_factory, caplog):
    settings = settings_factory(CONTACTS_API__SERVER__ACCESS_LOG_JSON="true")
    client = await make_client(settings)
    with caplog.at_level(logging.INFO, logger="contacts_api.access"):
        await client.get("/health?secret_cursor=abc", headers={"X-Request-ID": "rid-7"})
    lines = [r.getMessage() for r in caplog.records if r.name == "contacts_api.access"]
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["path"] == "/health" and entry["status"] == 200
    assert entry["request_id"] == "rid-7" and "secret_cursor" not in lines[0]


async def test_trusted_hosts(make_client, settings_factory):
    settings = settings_factory(CONTACTS_API__SERVER__TRUSTED_HOSTS="api.example.com,*.corp.test")
    client = await make_client(settings)
    await _error(await client.get("/health", headers={"Host": "evil.test"}), 400, "BAD_REQUEST")
    for host in ("api.example.com", "API.example.com:8000", "eu.corp.test"):
        assert (await client.get("/health", headers={"Host": host})).status == 200


async def test_cors_preflight_and_simple_requests(make_client, settings_factory):
    settings = settings_factory(CONTACTS_API__SERVER__CORS_ORIGINS="https://app.example.com")
    client = await make_client(settings)
    preflight = await client.options(
        "/health",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    simple = await client.get("/health", headers={"Origin": "https://app.example.com"})
    assert simple.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "X-Request-ID" in simple.headers["Access-Control-Expose-Headers"]
    foreign = await client.options(
        "/health",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert foreign.status == 403
    assert "Access-Control-Allow-Origin" not in foreign.headers


async def test_statement_timeout_is_503_not_a_dropped_request(make_client, settings_factory):
    settings = settings_factory(CONTACTS_API__DATABASE__STATEMENT_TIMEOUT_MS="100")
    client = await make_client(settings, extra_plugins=[("faulty", Faulty())])
    body = await _error(await client.get("/t/slow"), 503, "SERVICE_UNAVAILABLE")
    assert "statement timeout" in body["detail"]
    assert (await client.get("/health")).status == 200
