"""The OpenAPI fragment of the explorer's routes (its static files are not API)."""

from typing import Any

_HTML = {"text/html": {"schema": {"type": "string"}}}


def fragment() -> dict[str, Any]:
    return {
        "tags": [{"name": "explorer", "description": "The built-in page for people."}],
        "paths": {
            "/explorer/": {
                "get": {
                    "tags": ["explorer"],
                    "operationId": "explorerPage",
                    "summary": "The explorer page: search, Apollo URLs, import, export",
                    "description": "An HTML page that signs in with the v2 login and uses "
                    "this API's JSON routes. Its assets are served from /explorer/static/; "
                    "it works offline and sends no request to another origin.",
                    "responses": {"200": {"description": "An HTML page", "content": _HTML}},
                }
            },
            "/": {
                "get": {
                    "tags": ["explorer"],
                    "operationId": "explorerHome",
                    "summary": "Redirects to the explorer page",
                    "responses": {"302": {"description": "Location: /explorer/"}},
                }
            },
        },
    }
