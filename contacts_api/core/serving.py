"""The app's HTTP server, below the middlewares: connections and unparsable requests.

``serve_with_limits(app, settings)`` (called by ``create_app``) makes every
aiohttp server of the app (``contacts-api serve``'s runner, a test server)
a ``ContactsServer``:

- at most ``server.max_connections`` open connections per process: each one
  holds a file descriptor and memory, so without a cap a few hundred slow
  clients exhaust the process (README "Security"). A connection over the
  cap is answered 503 at once and closed;
- a request aiohttp cannot parse (bad headers, a body that is not in its
  ``Content-Encoding``, ``br``/``zstd`` without their decoders) is answered
  in the API's JSON error shape, not aiohttp's plain text: those requests
  never reach the middlewares;
- the request line (method, path and query) may hold ``MAX_REQUEST_LINE``
  bytes, not aiohttp's 8,190: a filter takes up to 1,000 values, which do not
  fit in 8 KB once percent-encoded. Longer is 414, a header name or value over
  ``MAX_HEADER_FIELD`` bytes 431.

Request bodies are bounded separately, by ``core.middlewares.body_timeout_middleware``.

aiohttp has no public hook for either, so this leans on two internals, both
checked by tests/core/test_hostile_requests.py: ``Application._make_handler``
builds the server of every runner, and a ``RequestHandler`` reports a new
connection to its server's ``connection_made`` and a parse failure to its own
``handle_error``.
"""

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from contacts_api.core.jsonio import json_reply
from contacts_api.core.settings import Settings

__all__ = ["OVER_CAPACITY", "ContactsServer", "serve_with_limits"]

log = logging.getLogger("contacts_api")


def _over_capacity_response() -> bytes:
    body = json.dumps(
        {
            "detail": "The server has too many open connections; retry shortly.",
            "error_code": "SERVICE_UNAVAILABLE",
        }
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Retry-After: 1\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


OVER_CAPACITY = _over_capacity_response()

_PARSE_CODES = {
    400: "BAD_REQUEST",
    413: "PAYLOAD_TOO_LARGE",
    414: "BAD_REQUEST",
    431: "BAD_REQUEST",
}

# aiohttp's limit on the request line, and on each header name and value (its default)
MAX_REQUEST_LINE = 65_536
MAX_HEADER_FIELD = 8190


def _too_long(exc: BaseException | None) -> tuple[int, str] | None:
    """``(status, detail)`` when ``exc`` is aiohttp's ``LineTooLong``: its second
    argument is the limit it met, which tells the request line from a header."""
    if not isinstance(exc, LineTooLong):
        return None
    if exc.args[1:2] == (MAX_REQUEST_LINE,):
        return 414, (
            f"The request line is longer than {MAX_REQUEST_LINE:,} bytes: send fewer or "
            "shorter filter values (or filters in a JSON body, where a route takes them)."
        )
    return 431, f"A request header name or value is longer than {MAX_HEADER_FIELD:,} bytes."


class ContactsRequestHandler(RequestHandler):
    """aiohttp's protocol, answering what it cannot parse in JSON."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        plain = super().handle_error(request, status, exc, message)  # logs, checks the writer
        text = (message or "").lower()
        status = plain.status
        too_long = _too_long(exc)
        if too_long is not None:
            status, detail = too_long
        elif "content-encoding" in text:
            detail = "The request body could not be decoded (check its Content-Encoding)."
        elif status >= 500:
            detail = "Internal server error."
        else:
            detail = "Malformed HTTP request."
        code = _PARSE_CODES.get(status, "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR")
        response = json_reply({"detail": detail, "error_code": code}, status=status)
        response.force_close()
        return response


class ContactsServer(Server):
    """aiohttp's server with a connection cap and ``ContactsRequestHandler``."""

    max_connections: int = 1_000_000

    def __call__(self) -> RequestHandler:
        return ContactsRequestHandler(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        if len(self.connections) >= self.max_connections:
            log.warning("refusing a connection: %d connections open", len(self.connections))
            transport.write(OVER_CAPACITY)
            transport.close()
            return
        super().connection_made(handler, transport)


def serve_with_limits(app: web.Application, settings: Settings) -> None:
    """Make every server built for ``app`` a ``ContactsServer``."""
    make_handler = app._make_handler

    def _make_handler(**kwargs: Any) -> Server:
        kwargs.setdefault("max_line_size", MAX_REQUEST_LINE)
        kwargs.setdefault("max_field_size", MAX_HEADER_FIELD)
        server = make_handler(**kwargs)
        server.__class__ = ContactsServer  # same fields; only methods are added
        server.max_connections = settings.server.max_connections
        return server

    app._make_handler = _make_handler  # type: ignore[method-assign]
