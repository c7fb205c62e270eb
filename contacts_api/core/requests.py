"""Request helpers for plugin routes: JSON bodies and simple query values,
failing with the API's error shapes."""

import datetime as dt
import functools
import ipaddress
import json
import math
import uuid
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from contacts_api.core.errors import (
    BadRequest,
    FieldError,
    NotFound,
    PayloadTooLarge,
    ValidationError,
    field_error,
)

__all__ = [
    "absolute_url",
    "client_address",
    "json_problems",
    "path_uuid",
    "proxy_networks",
    "query_int",
    "query_text",
    "read_json",
    "rfc3339",
]


# Limits of a JSON body beyond the byte size (``server.max_body_bytes``): no
# field of the API needs more, and each guards a crash or a CPU sink.
MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 100
MAX_PROBLEMS = 20


class _HugeInt:
    """An integer literal longer than ``MAX_INT_DIGITS`` (Python refuses to
    convert past 4300 digits, and no field needs even 100)."""


_HUGE = _HugeInt()


def _parse_int(text: str) -> int | _HugeInt:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else _HUGE


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _decode(raw: bytes) -> Any:
    """Parse a body as strict JSON; 400 when it is not JSON at all."""
    try:
        return json.loads(raw or b"null", parse_int=_parse_int, parse_constant=_refuse_constant)
    except RecursionError:
        raise BadRequest(
            f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
        ) from None
    except (UnicodeDecodeError, ValueError):  # JSONDecodeError is a ValueError
        raise BadRequest("The request body is not valid JSON.") from None


def _string_problem(text: str) -> str | None:
    if "\x00" in text:  # PostgreSQL text cannot hold it
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # "\ud800": valid JSON, but no character
        return "must not contain unpaired surrogates (\\ud800-\\udfff)"
    return None


def json_problems(value: Any, location: str = "body") -> list[FieldError]:
    """What no JSON body may hold, with the path of each: NUL characters and
    lone surrogates in strings (keys included), integers of more than
    ``MAX_INT_DIGITS`` digits, floats out of range, nesting deeper than
    ``MAX_JSON_DEPTH``. Walked without recursion."""
    problems: list[FieldError] = []
    stack: list[tuple[Any, list[str | int]]] = [(value, [location])]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, dict | list) and len(loc) > MAX_JSON_DEPTH:
            problems.append(field_error(loc, f"is nested more than {MAX_JSON_DEPTH} levels deep"))
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = _string_problem(key)
                if problem is not None:
                    problems.append(field_error(loc, f"has a key that {problem}"))
                    continue
                stack.append((child, [*loc, key]))
        elif isinstance(item, list):
            stack.extend((child, [*loc, index]) for index, child in enumerate(item))
        elif isinstance(item, str):
            problem = _string_problem(item)
            if problem is not None:
                problems.append(field_error(loc, problem))
        elif isinstance(item, _HugeInt):
            problems.append(
                field_error(loc, f"must be a number of at most {MAX_INT_DIGITS} digits")
            )
        elif isinstance(item, float) and not math.isfinite(item):
            problems.append(field_error(loc, "is out of range"))
        if len(problems) >= MAX_PROBLEMS:  # enough to fix the client; a bounded answer
            break
    return sorted(problems, key=lambda problem: [str(part) for part in problem["loc"]])


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object: 400 when it is not JSON or not an object,
    413 over the configured size, 422 naming each string, number or nesting
    that no field may hold (see ``json_problems``)."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge() from None
    except RequestPayloadError:  # e.g. "Content-Encoding: gzip" over bytes that are not
        raise BadRequest(
            "The request body could not be decoded (check its Content-Encoding)."
        ) from None
    body = _decode(raw)
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    problems = json_problems(body)
    if problems:
        raise ValidationError(problems)
    return body


def query_text(request: web.Request, name: str) -> str | None:
    """A text query parameter, trimmed (None when absent or blank); 422 naming it
    when PostgreSQL text could not hold it (``_string_problem``)."""
    text = request.query.get(name, "").strip()
    if not text:
        return None
    problem = _string_problem(text)
    if problem is not None:
        raise ValidationError.single(("query", name), problem)
    return text


def query_int(request: web.Request, name: str, default: int, *, minimum: int, maximum: int) -> int:
    """An integer query parameter within bounds, else 422 naming it."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError.single(("query", name), "must be an integer") from None
    if value < minimum:
        raise ValidationError.single(("query", name), f"must be >= {minimum}")
    if value > maximum:
        raise ValidationError.single(("query", name), f"must be <= {maximum}")
    return value


def path_uuid(request: web.Request, name: str) -> uuid.UUID:
    """A UUID path segment; a malformed one is simply not found (404)."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError:
        raise NotFound() from None


def absolute_url(request: web.Request, path_qs: str) -> str:
    """An absolute URL for ``path_qs`` (``/api/...?...``): ``server.base_url`` when
    the operator set one (behind a proxy), else the request's own origin."""
    from contacts_api.core.appkeys import SETTINGS

    base = request.app[SETTINGS].server.base_url.rstrip("/")
    return (base or str(request.url.origin())) + path_qs


def rfc3339(moment: dt.datetime | None) -> str | None:
    """docs/api.md times: RFC 3339 in UTC with a ``Z`` (``2026-11-26T06:30:57Z``)."""
    if moment is None:
        return None
    text = moment.astimezone(dt.UTC).isoformat()
    return text.replace("+00:00", "Z")


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def proxy_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``server.trusted_proxies`` as networks (a bare address is a /32 or /128).
    Raises ValueError naming a bad entry (settings are checked at load time)."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
    return tuple(networks)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(request: web.Request) -> str | None:
    """The client's IP address. ``X-Forwarded-For`` is believed only when the
    peer is one of ``server.trusted_proxies``; then the client is the rightmost
    address of that header that is not itself a trusted proxy (anything left of
    it was written by the client and proves nothing). With no trusted proxies,
    the peer is the client, whatever the headers say."""
    from contacts_api.core.appkeys import SETTINGS

    peer = request.remote
    trusted = proxy_networks(tuple(request.app[SETTINGS].server.trusted_proxies))
    if not trusted or peer is None:
        return peer

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not is_trusted(_parse_ip(peer)):
        return peer
    hops = [
        hop for header in request.headers.getall("X-Forwarded-For", ()) for hop in header.split(",")
    ]
    client = peer
    for hop in reversed(hops):
        address = _parse_ip(hop)
        if address is None:  # garbage: stop at the last address we can vouch for
            break
        client = str(address)
        if not is_trusted(address):
            break
    return client
