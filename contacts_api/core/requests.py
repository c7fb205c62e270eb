"""Request helpers for plugin routes: JSON bodies and simple query values,
failing with the API's error shapes."""

import datetime as dt
import json
import uuid
from typing import Any

from aiohttp import web

from contacts_api.core.errors import BadRequest, NotFound, PayloadTooLarge, ValidationError

__all__ = ["absolute_url", "path_uuid", "query_int", "read_json", "rfc3339"]


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object: 400 when it is not JSON or not an object,
    413 over the configured size."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge() from None
    try:
        body = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


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
    """API.md times: RFC 3339 in UTC with a ``Z`` (``2026-11-26T06:30:57Z``)."""
    if moment is None:
        return None
    text = moment.astimezone(dt.UTC).isoformat()
    return text.replace("+00:00", "Z")
