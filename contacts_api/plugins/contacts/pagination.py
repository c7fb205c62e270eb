"""Page parameters, keyset cursors and the ``next``/``previous`` links.

A cursor is ``Signer.sign`` of ``{"s": scope, "d": "n"|"p", "v": [sort values
..., uuid]}`` for the purpose ``contacts.cursor``. ``scope`` binds it to the
list, ordering and filters it was made for (a hash), so a tampered cursor, or
one from another list or query, is a 422 naming ``cursor``. ``d`` says whether
the page lies after (``n``) or before (``p``) the row whose values are ``v``.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import attrs
from aiohttp import web

from contacts_api.core.errors import ValidationError
from contacts_api.core.signing import BadSignature, Signer

__all__ = [
    "PAGE_PARAMS",
    "Cursor",
    "PageParams",
    "decode_cursor",
    "encode_cursor",
    "page_params",
    "page_url",
    "scope_of",
]

PURPOSE = "contacts.cursor"
PAGE_PARAMS = ("limit", "page_size", "cursor", "offset", "page")
MAX_LIMIT = 100


@attrs.frozen
class Cursor:
    forward: bool
    values: tuple[Any, ...]


@attrs.frozen
class PageParams:
    """``cursor`` is the raw token (the service checks it against its scope);
    ``page`` is set when the client paged by page number."""

    limit: int
    cursor: str | None = None
    offset: int = 0
    page: int | None = None


def scope_of(resource: str, ordering: str, raw: Mapping[str, Iterable[str]]) -> str:
    """A short hash of what a cursor is valid for."""
    canonical = json.dumps([resource, ordering, sorted((k, list(v)) for k, v in raw.items())])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    return value if value is None or isinstance(value, int | str) else str(value)


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("t"), str):
        return dt.datetime.fromisoformat(value["t"])
    if value is None or isinstance(value, int | str) and not isinstance(value, bool):
        return value
    raise ValueError("bad cursor value")


def encode_cursor(signer: Signer, scope: str, forward: bool, values: Iterable[Any]) -> str:
    payload = {"s": scope, "d": "n" if forward else "p", "v": [_plain(v) for v in values]}
    return signer.sign(payload, PURPOSE)


def decode_cursor(
    signer: Signer, token: str, scope: str, n_keys: int, param: str = "cursor"
) -> Cursor:
    try:
        payload = signer.unsign(token, PURPOSE)
        if not isinstance(payload, dict) or payload.get("s") != scope:
            raise ValueError("cursor made for another list, ordering or filters")
        values = payload.get("v")
        if (
            not isinstance(values, list)
            or len(values) != n_keys
            or payload.get("d") not in ("n", "p")
        ):
            raise ValueError("malformed cursor")
        return Cursor(payload["d"] == "n", tuple(_typed(v) for v in values))
    except (BadSignature, ValueError, TypeError) as exc:
        msg = str(exc) if not isinstance(exc, BadSignature) else "invalid or tampered cursor"
        raise ValidationError.single(("query", param), msg) from None


def _int(query: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = query.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError.single(("query", name), "must be an integer") from None
    if not low <= value <= high:
        msg = f"must be >= {low}" if value < low else f"must be <= {high}"
        raise ValidationError.single(("query", name), msg)
    return value


def page_params(
    query: Mapping[str, str], max_offset: int, default_limit: int = 25, max_limit: int = MAX_LIMIT
) -> PageParams:
    """``limit`` (alias ``page_size``), ``cursor``, ``offset`` or ``page``; 422 naming
    the parameter when malformed, out of range or combined with another."""
    limit = _int(query, "limit", 1, max_limit)
    size = _int(query, "page_size", 1, max_limit)
    limit = limit or size or default_limit
    offset = _int(query, "offset", 0, max_offset)
    page = _int(query, "page", 1, max_offset // max(limit, 1) + 1)
    token = query.get("cursor", "").strip()
    given = [n for n, v in (("cursor", token), ("offset", offset), ("page", page)) if v]
    if len(given) > 1:
        raise ValidationError.single(("query", given[1]), f"cannot be combined with {given[0]}")
    if page:
        offset = (page - 1) * limit
        if offset > max_offset:
            raise ValidationError.single(("query", "page"), f"deeper than offset {max_offset}")
    return PageParams(limit, token or None, offset or 0, page)


def base_url(request: web.Request, configured: str) -> str:
    if configured:
        return configured.rstrip("/")
    return f"{request.scheme}://{request.host}"


def page_url(request: web.Request, configured_base: str, **replace: Any) -> str:
    """This request's URL, absolute, keeping every parameter except the page ones,
    with ``replace`` added (``cursor=...`` or ``offset=...``)."""
    pairs = [
        (k, v)
        for k, v in request.query.items()
        if k not in PAGE_PARAMS or k == "limit" or k == "page_size"
    ]
    pairs += [(k, str(v)) for k, v in replace.items() if v is not None]
    query = urlencode(pairs)
    return f"{base_url(request, configured_base)}{request.path}" + (f"?{query}" if query else "")
