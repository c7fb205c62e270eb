"""Middlewares, one concern each. Order (outermost first):

``observe`` (request id, timing header, access log, gzip) -> ``body_timeout``
-> ``trusted_hosts`` -> ``errors`` (innermost, so the others see JSON errors).
CORS is handled by aiohttp-cors on the routes themselves (``core.app``).
"""

import asyncio
import json
import logging
import re
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable

import psycopg2
import redis.exceptions
from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import EmptyStreamReader, StreamReader
from aiohttp.web_protocol import RequestPayloadError

from contacts_api.core.appkeys import REQUEST_ID, STARTED
from contacts_api.core.errors import (
    ApiError,
    BadRequest,
    InternalError,
    RequestTimeout,
    ServiceUnavailable,
)
from contacts_api.core.jsonio import json_reply
from contacts_api.core.requests import client_address
from contacts_api.core.settings import ServerSettings

__all__ = [
    "body_timeout_middleware",
    "error_response",
    "errors_middleware",
    "observe_middleware",
    "stamp_headers",
    "trusted_hosts_middleware",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("contacts_api.errors")
access_log = logging.getLogger("contacts_api.access")

_REQUEST_ID_OK = re.compile(r"[A-Za-z0-9._:-]{1,128}")
GZIP_MIN_BYTES = 1024

# HTTP statuses aiohttp raises itself, mapped to our error codes.
_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "NOT_AUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}
_HTTP_DETAILS = {
    404: "Not found.",
    405: "Method not allowed.",
    413: "Request body too large.",
}


def error_response(error: ApiError) -> web.Response:
    response = json_reply(error.body(), status=error.status, headers=error.headers)
    if error.close_connection:
        response.force_close()
    return response


def _unavailable(exc: BaseException) -> str | None:
    """A detail for failures of a backing service (answered 503), else None."""
    if isinstance(exc, psycopg2.extensions.QueryCanceledError):
        return "The query took longer than the configured statement timeout; narrow the filters."
    if isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
        return "The database cannot be reached right now."
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "Redis cannot be reached right now."
    if isinstance(exc, asyncio.TimeoutError | ConnectionError):
        return "A backing service did not answer in time."
    name = type(exc).__name__
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        return "The file storage cannot be reached right now."
    return None


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes the JSON error shape; 500s are logged, never leaked."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error)
    except RequestPayloadError:  # a body aiohttp cannot decode, read outside read_json
        return error_response(
            BadRequest("The request body could not be decoded (check its Content-Encoding).")
        )
    except HttpProcessingError as exc:  # e.g. a multipart part with malformed headers
        if not 400 <= (exc.code or 400) < 500:
            raise
        return error_response(BadRequest(f"Malformed request: {type(exc).__name__}."))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "BAD_REQUEST" if exc.status < 500 else "INTERNAL_ERROR")
        detail = _HTTP_DETAILS.get(exc.status) or exc.reason
        if exc.text and exc.text.startswith("CORS "):  # aiohttp-cors says why it refused
            detail = exc.text
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        body = {"detail": detail, "error_code": code}
        return json_reply(body, status=exc.status, headers=headers)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        detail = _unavailable(exc)
        if detail is not None:
            log.warning(
                "%s %s: backing service failure: %s",
                request.method,
                request.path,
                type(exc).__name__,
            )
            return error_response(ServiceUnavailable(detail))
        log.exception(
            "unhandled error on %s %s (request %s)",
            request.method,
            request.path,
            request.get(REQUEST_ID, "-"),
        )
        return error_response(InternalError())


class BodyIdleTimer:
    """Bounds each wait of a request body stream for more bytes.

    aiohttp reads a body with no timeout of its own: a client that sends the
    headers and one byte of a promised body holds its connection (and a file
    descriptor) forever. aiohttp's ``StreamReader`` enters its ``_timer`` around
    every wait for data (the client side uses it for read timeouts); this
    timer cancels a wait that lasts ``timeout_s`` and turns it into 408
    ``REQUEST_TIMEOUT`` (the connection is then closed). Like nginx's
    ``client_body_timeout``, it bounds the silence between two reads, not the
    whole upload, so a slow but steady 1 GB upload is fine.
    """

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self._fired = False
        self._task: asyncio.Task | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._cancelling = 0

    @property
    def fired(self) -> bool:
        return self._fired

    def assert_timeout(self) -> None:
        if self._fired:
            raise RequestTimeout()

    def __enter__(self) -> "BodyIdleTimer":
        self.assert_timeout()
        self._task = asyncio.current_task()
        if self._task is not None:
            self._cancelling = self._task.cancelling()
            self._handle = asyncio.get_running_loop().call_later(self.timeout_s, self._fire)
        return self

    def _fire(self) -> None:
        self._fired = True
        if self._task is not None:
            self._task.cancel()

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if exc_type is asyncio.CancelledError and self._fired and self._task is not None:
            if self._task.uncancel() > self._cancelling:
                return  # cancelled from outside too (shutdown): let that through
            raise RequestTimeout()


def body_timeout_middleware(timeout_s: float) -> Callable:
    """Every request body is read under a ``BodyIdleTimer``."""

    @web.middleware
    async def body_timeout(request: web.Request, handler: Handler) -> web.StreamResponse:
        stream = request.content
        if type(stream) is not StreamReader or isinstance(stream, EmptyStreamReader):
            return await handler(request)
        timer = BodyIdleTimer(timeout_s)
        previous, stream._timer = stream._timer, timer  # see BodyIdleTimer
        try:
            return await handler(request)
        finally:
            stream._timer = previous  # aiohttp drains an unread body itself, under its own limit
            if timer.fired:  # ... but not this one: nothing more will come; the 408 closes
                stream.feed_eof()

    return body_timeout


def trusted_hosts_middleware(trusted: list[str]) -> Callable:
    """400 for a ``Host`` not in the list (exact names, or ``*.domain``)."""
    exact = {h.lower() for h in trusted if not h.startswith("*.")}
    suffixes = tuple(h[1:].lower() for h in trusted if h.startswith("*."))

    @web.middleware
    async def trusted_hosts(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = (request.host or "").rsplit(":", 1)[0].strip("[]").lower()
        if host in exact or (suffixes and host.endswith(suffixes)):
            return await handler(request)
        return error_response(BadRequest("Invalid host header."))

    return trusted_hosts


# ISA-L's deflate (the ``isal`` package) at level 1: a 30 KB page of contacts
# compresses ~4x faster than zlib's fastest level (~45 vs ~170 us here) and a
# little smaller (~3.8x). The stream is standard gzip/deflate. zlib when isal
# is not installed (a platform without its wheels).
try:
    from isal import isal_zlib as deflate
except ImportError:  # pragma: no cover
    deflate = zlib
GZIP_LEVEL = 1
# Bodies up to this size are compressed on the event loop: handing them to
# aiohttp's thread pool costs more than compressing them (aiohttp does so from 4 KB).
INLINE_COMPRESS_MAX = 256 * 1024
_WBITS = {"deflate": zlib.MAX_WBITS, "gzip": 16 + zlib.MAX_WBITS}


def compress(request: web.Request, response: web.StreamResponse) -> None:
    """Compress a whole response body of at least GZIP_MIN_BYTES as the client
    accepts (deflate, then gzip: the order of aiohttp's own choice)."""
    body = getattr(response, "body", None)
    if response.prepared or not isinstance(body, bytes) or len(body) < GZIP_MIN_BYTES:
        return
    if hdrs.CONTENT_ENCODING in response.headers:
        return
    if len(body) > INLINE_COMPRESS_MAX:
        response.enable_compression()  # aiohttp's, in its thread pool
        return
    accepted = request.headers.get(hdrs.ACCEPT_ENCODING, "").lower()
    coding = next((c for c in _WBITS if c in accepted), None)
    if coding is None:
        return
    compressor = deflate.compressobj(GZIP_LEVEL, deflate.DEFLATED, _WBITS[coding])
    response.body = compressor.compress(body) + compressor.flush()
    response.headers[hdrs.CONTENT_ENCODING] = coding


def observe_middleware(server: ServerSettings) -> Callable:
    """Request id, gzip of large responses, one access-log line. The id and
    ``X-Process-Time`` headers are stamped by ``stamp_headers`` when the
    response is prepared, so streamed responses carry them too."""

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[STARTED] = started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_OK.fullmatch(incoming) else uuid.uuid4().hex
        request[REQUEST_ID] = request_id
        status = 500
        try:
            response = await handler(request)
            status = response.status
            compress(request, response)
            return response
        except web.HTTPException as exc:  # redirects re-raised by the error middleware
            status = exc.status
            raise
        finally:
            if server.access_log:
                _log_access(
                    request,
                    status,
                    time.perf_counter() - started,
                    request_id,
                    server.access_log_json,
                )

    return observe


async def stamp_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the request id and server time on every response."""
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        response.headers["X-Request-ID"] = request_id
    started = request.get(STARTED)
    if started is not None:
        response.headers["X-Process-Time"] = f"{time.perf_counter() - started:.6f}"


def _log_access(
    request: web.Request, status: int, seconds: float, request_id: str, as_json: bool
) -> None:
    fields = {
        "request_id": request_id,
        "method": request.method,
        "path": request.path,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "remote": client_address(request),
    }
    if as_json:
        access_log.info(json.dumps(fields))
    else:
        access_log.info(
            "%(remote)s %(method)s %(path)s %(status)s %(duration_ms)sms rid=%(request_id)s", fields
        )
