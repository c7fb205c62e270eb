"""Calling our own route handlers on a translated copy of the request.

A compat handler that only needs different query parameters (or headers)
clones the request with them and awaits our handler: the same validation,
authorization and service calls run, and errors propagate unchanged (the
core turns them into the JSON error shape).
"""

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from contacts_api.core.appkeys import ACTOR

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def with_query(request: web.Request, pairs: Iterable[tuple[str, str]]) -> web.Request:
    """A copy of the request (same path, match info and app) with this query."""
    return request.clone(rel_url=request.rel_url.with_query(list(pairs)))


def with_headers(request: web.Request, headers: Mapping[str, str]) -> web.Request:
    """A copy with these headers; the caller is resolved again from them."""
    clone = request.clone(headers=CIMultiDict(headers))
    clone.pop(ACTOR, None)
    return clone


async def call_json(handler: Handler, request: web.Request) -> Any:
    """Our handler's JSON answer (it raises on errors, like any route)."""
    response = await handler(request)
    assert isinstance(response, web.Response)
    return json.loads(response.body) if response.body else None
