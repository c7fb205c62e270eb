"""The auth_write_key plugin: the static keys of the v1 API (docs/api.md "Authentication").

Registers one auth method in two ``actor_from_request`` implementations:

- ``X-Contacts-Write-Key`` equal to ``auth.write_key`` (``CONTACTS_WRITE_KEY``)
  authenticates as ``Actor(id="write_key", kind="write_key", role="admin",
  can_write_v1=True)``. It runs first (``tryfirst``): it is the operator's
  key. A present key that does not match, or any key when none is
  configured, is 403 ``INVALID_WRITE_KEY`` (never anonymous), so v1 writes
  are closed until an operator sets a key.
- ``X-Contacts-Read-Key`` equal to ``auth.read_key`` (``CONTACTS_READ_KEY``)
  authenticates as ``Actor(id="read_key", kind="read_key")``, which may use v1
  reads only. It runs last (``trylast``): any other credential on the same
  request (a bearer token, a third-party method) names the caller better. A
  wrong read key, or one sent when none is configured, is 401
  ``INVALID_TOKEN`` (a credential was presented and refused;
  ``NOT_AUTHENTICATED`` is kept for "no credential at all").

It also declares their OpenAPI security schemes, ``writeKey`` and ``readKey``.

Both keys are v1 credentials only (docs/api.md "Users"): on a v2 route
(``/api/v2/...``) the headers are ignored, so a v2 route that needs a caller
answers 401 ``NOT_AUTHENTICATED`` to them, and user administration needs an
admin user's bearer token (or the ``contacts-api users`` command).

Keys are compared in constant time (``hmac.compare_digest`` over SHA-256
digests, so not even the key's length leaks).
"""

import hashlib
import hmac

from contacts_api.core.auth import Actor
from contacts_api.core.errors import InvalidToken, InvalidWriteKey
from contacts_api.core.hookspecs import hookimpl

WRITE_HEADER = "X-Contacts-Write-Key"
READ_HEADER = "X-Contacts-Read-Key"
WRITE_ACTOR = Actor(id="write_key", kind="write_key", role="admin", can_write_v1=True)
READ_ACTOR = Actor(id="read_key", kind="read_key")
V1_ONLY = (
    "A v1 credential only: on a v2 route (/api/v2/...) it is not a credential at all "
    "(401 NOT_AUTHENTICATED where one is needed)."
)
SECURITY_SCHEMES = {
    "writeKey": {"type": "apiKey", "in": "header", "name": WRITE_HEADER, "description": V1_ONLY},
    "readKey": {"type": "apiKey", "in": "header", "name": READ_HEADER, "description": V1_ONLY},
}
V2_PREFIX = "/api/v2/"


def _is_v2(request) -> bool:
    return (request.path.rstrip("/") + "/").startswith(V2_PREFIX)


def _matches(presented: str, expected: str) -> bool:
    if not expected:
        return False
    # surrogateescape: a header holding non-UTF-8 bytes is just another wrong key
    raw = presented.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(
        hashlib.sha256(raw).digest(), hashlib.sha256(expected.encode()).digest()
    )


@hookimpl(tryfirst=True)
def actor_from_request(request, resources):
    presented = request.headers.get(WRITE_HEADER)
    if presented is None or _is_v2(request):
        return None
    if not _matches(presented, resources.settings.auth.write_key.reveal()):
        if not resources.settings.auth.write_key:
            raise InvalidWriteKey(
                "No write key is configured on this server: v1 writes are disabled."
            )
        raise InvalidWriteKey("Invalid write key.")
    return WRITE_ACTOR


@hookimpl(trylast=True, specname="actor_from_request")
def read_key_actor(request, resources):
    presented = request.headers.get(READ_HEADER)
    if presented is None or _is_v2(request):
        return None
    if not _matches(presented, resources.settings.auth.read_key.reveal()):
        raise InvalidToken("Invalid read key.")
    return READ_ACTOR


@hookimpl
def register_openapi(settings, filters):
    return {"components": {"securitySchemes": SECURITY_SCHEMES}}
