"""What each route asks of its caller: one scope per route handler.

Every route handler declares the scope of work it does with
``@requires_scope(...)`` (public surface: ``from contacts_api import
requires_scope``), placed under the route decorator::

    @routes.post("/api/v1/things/")
    @requires_scope("write")
    async def create_thing(request): ...

The scopes are those of API keys (docs/api.md "Authentication"): ``read``,
``write``, ``import``, ``export``, ``admin``; ``PUBLIC`` marks a route that
needs no caller at all (health, login, documents). The declaration drives two
checks made before the handler runs (``core.access``):

- an API key (an actor with ``scopes``) outside the route's scope is 403
  ``INSUFFICIENT_SCOPE``;
- the caller's request budget of that kind of work (``BUDGET_OF_SCOPE``) is
  spent (``core.budgets``).

A route without a declaration still works for users and the v1 keys, but is
treated as ``admin`` work for API keys (closed by default) and a warning names
it at startup; tests/core/test_scopes.py walks every route of the built-in
plugins and fails on a missing declaration.
"""

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from contacts_api.core.auth import Actor
from contacts_api.core.errors import InsufficientScope

__all__ = [
    "BUDGET_OF_SCOPE",
    "PUBLIC",
    "SCOPES",
    "UNDECLARED_SCOPE",
    "check_scope",
    "declared_scope",
    "requires_scope",
    "scopes_for_role",
]

log = logging.getLogger("contacts_api.scopes")

SCOPES = ("read", "write", "import", "export", "admin")
PUBLIC = "public"
# API keys need this on a route that declares nothing: closed by default.
UNDECLARED_SCOPE = "admin"
_ATTRIBUTE = "__contacts_api_scope__"

# Which request budget (core.budgets) each scope of work spends (a GET of an
# import or export route is a read: core.access.budget_kind).
BUDGET_OF_SCOPE = {
    "read": "reads",
    "write": "writes",
    "admin": "writes",
    "import": "transfers",
    "export": "transfers",
}

# What an owner's role allows an API key to carry (docs/api.md: "never more
# than its owner's role allows"). Importing writes the shared data set, which
# only administrators (and the operator's write key) may do.
_ROLE_SCOPES = {
    "admin": frozenset(SCOPES),
    "user": frozenset({"read", "write", "export"}),
}

Handler = TypeVar("Handler", bound=Callable[..., Any])


def requires_scope(scope: str) -> Callable[[Handler], Handler]:
    """Declare the scope of work of a route handler (``read``, ``write``,
    ``import``, ``export``, ``admin``, or ``PUBLIC``); returns the handler
    itself, marked."""
    if scope not in SCOPES and scope != PUBLIC:
        raise ValueError(f"unknown scope {scope!r}: one of {', '.join(SCOPES)} or {PUBLIC!r}")

    def mark(handler: Handler) -> Handler:
        setattr(handler, _ATTRIBUTE, scope)
        return handler

    return mark


def declared_scope(handler: Any) -> str | None:
    """The scope a handler declared with ``requires_scope``, or None."""
    return getattr(handler, _ATTRIBUTE, None)


def scopes_for_role(role: str) -> frozenset[str]:
    """The scopes an API key of an owner with this role may carry."""
    return _ROLE_SCOPES.get(role, frozenset())


def check_scope(actor: Actor, scope: str) -> None:
    """403 ``INSUFFICIENT_SCOPE`` when ``actor`` is scoped (an API key) and
    neither holds ``scope`` nor may hold it under its owner's current role."""
    if actor.scopes is None or scope == PUBLIC:
        return
    if scope not in actor.scopes or scope not in scopes_for_role(actor.role):
        credential = "API key" if actor.kind == "api_key" else "credential"  # or a plugin's
        raise InsufficientScope(f"This {credential} does not have the {scope!r} scope.")
