"""Routes and options of the app that need a feature this project does not have.

They answer a JSON 501 ``NOT_IMPLEMENTED`` naming the feature (the app shows
the ``detail``), rather than a bare 404 that reads like a wrong base URL.
``UNSUPPORTED_ROUTES`` is also the list the README gives.
"""

from aiohttp import web

from contacts_api import requires_scope
from contacts_api.core.errors import ApiError

__all__ = ["UNSUPPORTED_ROUTES", "NotImplementedHere", "unsupported_routes"]


class NotImplementedHere(ApiError):
    status, error_code = 501, "NOT_IMPLEMENTED"

    def __init__(self, detail: str, *, feature: str):
        super().__init__(detail)
        self.feature = feature


# (method, path, why): what the app calls that has no feature behind it here.
UNSUPPORTED_ROUTES = [
    (
        "POST",
        "/api/v2/users/promote-to-admin/",
        "self-promotion to admin (roles are granted by an administrator)",
    ),
    ("POST", "/api/v2/users/invite/", "user invitations (no e-mail sending here)"),
    (
        "POST",
        "/api/v2/exports/contacts/export/chunked",
        "chunked exports (one export holds any number of contacts)",
    ),
    ("DELETE", "/api/v2/exports/{export_id}/cancel", "cancelling an export"),
    ("DELETE", "/api/v2/exports/files", "deleting every export file"),
]


def _handler(method: str, path: str, why: str):
    @requires_scope("public")  # answers 501 to anyone
    async def handler(request: web.Request) -> web.Response:
        raise NotImplementedHere(
            f"{method} {path} is not available on this server: {why}.", feature=path
        )

    return handler


def unsupported_routes(prefix: str) -> list[web.RouteDef]:
    return [
        web.route(method, prefix + path, _handler(method, path, why))
        for method, path, why in UNSUPPORTED_ROUTES
    ]
