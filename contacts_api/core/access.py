"""Before a route runs: its caller's scope and request budget.

The innermost middleware. For a route that declared a scope other than
``PUBLIC`` (``core.scopes``), the actor is resolved up front (the same
memoized answer the route gets from ``get_actor``), and for an authenticated
one:

1. one request of its budget for that kind of work is spent (``core.budgets``):
   over it, 429 ``RATE_LIMITED`` with ``Retry-After``;
2. an API key outside the route's scope is 403 ``INSUFFICIENT_SCOPE``.

Anonymous requests go through untouched: the route decides (401, or public
reads). Every answer to an authenticated request carries ``RateLimit-Limit``,
``RateLimit-Remaining`` and ``RateLimit-Reset``, errors included (stamped when
the response is prepared).
"""

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from contacts_api.core import metrics
from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.auth import Actor, get_actor
from contacts_api.core.budgets import BudgetLimiter, Decision
from contacts_api.core.errors import RateLimited
from contacts_api.core.scopes import (
    BUDGET_OF_SCOPE,
    PUBLIC,
    UNDECLARED_SCOPE,
    check_scope,
    declared_scope,
)
from contacts_api.core.settings import Settings

__all__ = ["access_middleware", "budget_kind", "budget_subject", "stamp_budget_headers"]

log = logging.getLogger("contacts_api.access")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BUDGET: web.RequestKey[Decision] = web.RequestKey("budget")


def budget_subject(actor: Actor) -> str:
    """Whose budget a request spends: the credential (an API key has its own,
    named by ``attributes["credential_id"]``), else the actor."""
    return f"{actor.kind}:{actor.attributes.get('credential_id') or actor.id}"


def budget_kind(scope: str, method: str) -> str:
    """The budget a request spends: its scope's, except that looking at
    imports and exports (status, lists, download links) is a read; starting
    one is the costly transfer."""
    if method in ("GET", "HEAD") and scope in ("import", "export"):
        return "reads"
    return BUDGET_OF_SCOPE[scope]


def access_middleware(settings: Settings) -> Callable:
    budgets_on = settings.rate_limits.enabled
    limiter: list[BudgetLimiter] = []  # made on first use: Redis opens with the app

    def budgets(request: web.Request) -> BudgetLimiter:
        if not limiter:
            resources = request.app[RESOURCES]
            limiter.append(
                BudgetLimiter(settings.rate_limits, resources.redis, settings.redis.key_prefix)
            )
        return limiter[0]

    @web.middleware
    async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route
        if route.resource is None or request.method == "OPTIONS":  # 404/405, CORS preflight
            return await handler(request)
        scope = declared_scope(route.handler) or UNDECLARED_SCOPE
        if scope == PUBLIC:
            return await handler(request)
        actor = await get_actor(request)
        if actor is None:
            return await handler(request)
        if budgets_on:
            kind = budget_kind(scope, request.method)
            decision = await budgets(request).take(budget_subject(actor), kind)
            request[BUDGET] = decision
            if not decision.allowed:
                metrics.RATE_LIMITED.labels(reason=kind).inc()
                raise RateLimited(
                    decision.retry_after_s, f"Over this caller's budget of {kind} per minute."
                )
        check_scope(actor, scope)
        return await handler(request)

    return access


async def stamp_budget_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the budget headers of an authenticated request."""
    decision = request.get(BUDGET)
    if decision is not None:
        response.headers.update(decision.headers())


def warn_undeclared(app: web.Application) -> None:
    """Name every route that declared no scope (API keys are refused there)."""
    named = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS") or route.resource is None:
            continue
        if isinstance(route.resource, web.StaticResource):
            continue
        where = (route.method, route.resource.canonical.rstrip("/"))
        if declared_scope(route.handler) is None and where not in named:
            named.add(where)
            log.warning(
                "route %s %s declares no scope (contacts_api.requires_scope): "
                "API keys need the admin scope there",
                *where,
            )
