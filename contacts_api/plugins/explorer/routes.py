"""The explorer's routes: the page, a redirect from ``/``, and its static files."""

from importlib import resources as package_files
from pathlib import Path

from aiohttp import web

from contacts_api import requires_scope

__all__ = ["CONTENT_SECURITY_POLICY", "PAGE_PATH", "STATIC_PREFIX", "routes"]

PAGE_PATH = "/explorer/"
STATIC_PREFIX = "/explorer/static"
STATIC_DIR = Path(str(package_files.files("contacts_api.plugins.explorer").joinpath("static")))
PAGE = Path(str(package_files.files("contacts_api.plugins.explorer").joinpath("page.html")))

# Nothing but this server: no inline script or style, no other origin, no frames.
# connect-src covers the JSON API and the event streams; a download link is a
# navigation (an S3 presigned URL is allowed there).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the page's URL holds the search
    "Cache-Control": "no-cache",
}

routes = web.RouteTableDef()


@routes.get("/explorer")
@requires_scope("public")
async def page(request: web.Request) -> web.Response:
    # Read per request: small, and an edited file shows without a restart.
    return web.Response(
        body=PAGE.read_bytes(),
        content_type="text/html",
        charset="utf-8",
        headers=PAGE_HEADERS,
    )


@routes.get("/")
@requires_scope("public")
async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound(PAGE_PATH)


routes.static(STATIC_PREFIX, STATIC_DIR)
