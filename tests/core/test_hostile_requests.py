"""Malformed and hostile requests (issue 14): every one is a 4xx in the API's
error shape naming what is wrong, never a 500; unfinished bodies time out;
a process holds a bounded number of connections; client addresses come from
X-Forwarded-For only through trusted proxies."""

import asyncio
import gzip
import json
import logging

import pytest
from aiohttp import web

from contacts_api.core.hookspecs import hookimpl
from contacts_api.core.requests import MAX_INT_DIGITS, client_address, read_json
from contacts_api.core.serving import MAX_REQUEST_LINE, OVER_CAPACITY
from tests.helpers import HeaderActors, as_user


class Echo:
    @hookimpl
    def register_routes(self, settings):
        routes = web.RouteTableDef()

        @routes.post("/t/echo")
        async def echo(request):
            return web.json_response(await read_json(request))

        @routes.get("/t/address")
        async def address(request):
            return web.json_response({"address": client_address(request)})

        return list(routes)


@pytest.fixture
async def echo(make_client, settings):
    return await make_client(settings, extra_plugins=[("echo", Echo())])


async def _error(response, status: int, code: str) -> dict:
    body = await response.json()
    assert (response.status, body["error_code"]) == (status, code), body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


async def _post_raw(client, body: bytes, **headers: str):
    return await client.post(
        "/t/echo", data=body, headers={"Content-Type": "application/json", **headers}
    )


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (b'{"name": "a\\u0000b"}', ["body", "name"]),
        (b'{"list": ["ok", "\\ud800"]}', ["body", "list", 1]),
        (b'{"nested": {"x": "\\udfff tail"}}', ["body", "nested", "x"]),
        (b'{"a\\u0000": 1}', ["body"]),
        (b'{"n": ' + b"9" * 4301 + b"}", ["body", "n"]),
        (b'{"n": -' + b"9" * (MAX_INT_DIGITS + 1) + b"}", ["body", "n"]),
        (b'{"f": 1e999}', ["body", "f"]),
        (b'{"deep": ' + b"[" * 40 + b"]" * 40 + b"}", None),
    ],
)
async def test_json_values_no_field_can_hold_are_422_naming_the_field(echo, raw, loc):
    body = await _error(await _post_raw(echo, raw), 422, "VALIDATION_ERROR")
    if loc is not None:
        assert loc in [error["loc"] for error in body["errors"]], body


@pytest.mark.parametrize(
    "raw",
    [
        b'{"deep": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"x": NaN}',
        b'{"x": Infinity}',
        b"\xff\xfe{}",
    ],
)
async def test_json_the_parser_refuses_is_400(echo, raw):
    await _error(await _post_raw(echo, raw), 400, "BAD_REQUEST")


async def test_ordinary_json_still_passes(echo):
    payload = {"name": "Jürgen 😀", "n": 10**50, "f": 1.5, "deep": [[[[{"ok": True}]]]]}
    response = await echo.post("/t/echo", json=payload)
    assert response.status == 200 and await response.json() == payload


async def test_too_many_problems_are_cut_short(echo):
    body = await _error(
        await echo.post("/t/echo", json={"x": ["\x00"] * 500}), 422, "VALIDATION_ERROR"
    )
    assert 1 <= len(body["errors"]) <= 20


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
async def test_a_body_that_is_not_in_its_content_encoding_is_400_json(echo, encoding):
    response = await _post_raw(echo, b'{"not": "compressed"}', **{"Content-Encoding": encoding})
    await _error(response, 400, "BAD_REQUEST")


async def test_a_real_gzip_body_is_read(echo):
    response = await _post_raw(echo, gzip.compress(b'{"a": 1}'), **{"Content-Encoding": "gzip"})
    assert response.status == 200 and await response.json() == {"a": 1}


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("created_at_before=9999-12-31", ["query", "created_at_before"]),
        ("created_at_after=9999-12-31T23:00:00-05:00", ["query", "created_at_after"]),
        ("first_name=a%00b", ["query", "first_name"]),
        ("title=%00", ["query", "title"]),
    ],
)
async def test_query_values_no_filter_can_hold_are_422(make_client, settings, query, loc):
    client = await make_client(settings, extra_plugins=[("header_actors", HeaderActors())])
    for path in ("/api/v1/contacts/", "/api/v2/contacts/"):
        response = await client.get(f"{path}?{query}", headers=as_user("alice"))
        body = await _error(response, 422, "VALIDATION_ERROR")
        assert loc in [error["loc"] for error in body["errors"]], body


# -- unfinished bodies and connection counts -------------------------------------


async def _raw_request(port: int, head: bytes, body: bytes) -> tuple[bytes, float]:
    """Send a request whose body stops short; the answer and how long it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer, loop.time() - started


@pytest.mark.alone  # timed against the read timeout
async def test_an_unfinished_body_times_out_with_408_and_a_closed_connection(
    make_client, settings_factory, caplog
):
    settings = settings_factory(CONTACTS_API__SERVER__BODY_READ_TIMEOUT_S="0.5")
    client = await make_client(settings, extra_plugins=[("echo", Echo())])
    head = (
        b"POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    answer, took = await _raw_request(client.port, head, b"{")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error_code"] == "REQUEST_TIMEOUT"
    assert 0.4 < took < 5  # reader.read() returned: the server closed the connection
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # an answer, not a crash


@pytest.mark.alone  # 0.3 s pauses against a 0.5 s timeout
async def test_a_slow_but_steady_body_is_not_cut(make_client, settings_factory):
    settings = settings_factory(CONTACTS_API__SERVER__BODY_READ_TIMEOUT_S="0.5")
    client = await make_client(settings, extra_plugins=[("echo", Echo())])
    body = json.dumps({"text": "x" * 20}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(
        b"POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    for index in range(0, len(body), 8):  # 1.2 s in all, 0.3 s between pieces
        writer.write(body[index : index + 8])
        await writer.drain()
        await asyncio.sleep(0.3)
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


async def test_connections_over_the_cap_are_answered_503_and_closed(make_client, settings_factory):
    client = await make_client(settings_factory(CONTACTS_API__SERVER__MAX_CONNECTIONS="3"))
    port = client.port
    held = []
    try:
        for _ in range(3):  # three idle connections use the whole allowance
            held.append(await asyncio.open_connection("127.0.0.1", port))
        await asyncio.sleep(0.1)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(reader.read(), 5) == OVER_CAPACITY
        writer.close()
        assert b'"SERVICE_UNAVAILABLE"' in OVER_CAPACITY
        # one goes away: a new connection is served again
        held.pop()[1].close()
        await asyncio.sleep(0.2)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    finally:
        for _, writer in held:
            writer.close()


async def _raw_answer(port: int, head: bytes) -> tuple[int, dict]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


async def test_requests_aiohttp_cannot_parse_get_json_errors(echo):
    for head in (b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", b"NOT HTTP\r\n\r\n"):
        status, body = await _raw_answer(echo.port, head)
        assert (status, body["error_code"]) == (400, "BAD_REQUEST"), body


async def test_a_long_request_line_is_read_and_a_longer_one_is_414(echo):
    """Found by a black-box check: 1,000 filter values (the documented maximum)
    of ~20 characters make a 21 KB URL, which aiohttp refused as a malformed
    request (its request line limit is 8,190 bytes)."""
    fits = "/t/address?pad=" + "a" * (MAX_REQUEST_LINE - 200)
    response = await echo.get(fits)
    assert response.status == 200, await response.text()
    head = f"GET /t/address?pad={'a' * MAX_REQUEST_LINE} HTTP/1.1\r\nHost: x\r\n\r\n"
    status, body = await _raw_answer(echo.port, head.encode())
    assert (status, body["error_code"]) == (414, "BAD_REQUEST")
    assert "request line" in body["detail"]
    header = f"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: {'b' * 9000}\r\n\r\n"
    status, body = await _raw_answer(echo.port, header.encode())
    assert (status, body["error_code"]) == (431, "BAD_REQUEST")


async def test_an_unparsable_request_leaves_no_client_bytes_in_the_log(echo, caplog):
    """aiohttp quoted the bad header line in an ERROR traceback: a valid API key
    followed by a NUL byte was logged whole (found by a black-box check)."""
    secret = "cak_0123456789abcdef0123456789abcdef_SECRET-PART"
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    reader, writer = await asyncio.open_connection("127.0.0.1", echo.port)
    writer.write(f"GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}".encode())
    writer.write(b"\x00\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.split()[1] == b"400"
    logged = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert logged, "the refusal is still logged, as one line"
    for record in logged:
        text = record.getMessage() + (record.exc_text or "") + repr(record.exc_info)
        assert "SECRET-PART" not in text and record.levelno < logging.WARNING


# -- client addresses ----------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        ("", "203.0.113.5", "127.0.0.1"),  # no trusted proxy: the header is ignored
        ("10.0.0.0/8", "203.0.113.5", "127.0.0.1"),  # the peer is not a trusted proxy
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("127.0.0.1", "198.51.100.1, 203.0.113.5", "203.0.113.5"),  # rightmost untrusted
        ("127.0.0.1,10.0.0.0/8", "203.0.113.5, 10.1.2.3", "203.0.113.5"),  # proxy chain
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),
        ("127.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
async def test_client_address_believes_only_trusted_proxies(
    make_client, settings_factory, proxies, forwarded, expected
):
    settings = settings_factory(CONTACTS_API__SERVER__TRUSTED_PROXIES=proxies)
    client = await make_client(settings, extra_plugins=[("echo", Echo())])
    response = await client.get("/t/address", headers={"X-Forwarded-For": forwarded})
    assert (await response.json())["address"] == expected
