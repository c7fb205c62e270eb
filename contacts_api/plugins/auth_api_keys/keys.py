"""The shape of an API key and how it is stored.

A key is ``cak_<id>_<secret>``: ``id`` the row's UUID as 32 hex digits (so
the row is found by primary key, without scanning hashes), ``secret`` 32
random bytes in URL-safe base64. Only ``HMAC-SHA256(server key, secret)`` is
stored: keys are long random strings, not passwords, so a fast keyed hash is
right (no bcrypt on every request), and a stolen table without the server key
(derived from ``server.signing_secret``, else ``auth.jwt_secret``; embedded
mode generates and keeps one) verifies nothing. Changing that secret
invalidates every API key.
"""

import hashlib
import hmac
import re
import secrets
import uuid

import attrs

from contacts_api.core.settings import Settings
from contacts_api.core.signing import Signer

__all__ = ["PREFIX", "KeyHasher", "NewKey", "parse_key"]

PREFIX = "cak_"
_KEY = re.compile(r"cak_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")
_PURPOSE = "auth_api_keys: secret hashes"


@attrs.frozen(repr=False)
class NewKey:
    """A freshly made key: ``id`` (UUID string), ``key`` (the full secret
    string, shown once), ``secret_hash`` (what is stored)."""

    id: str
    key: str
    secret_hash: bytes


def parse_key(presented: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed key, else None."""
    match = _KEY.fullmatch(presented)
    if match is None:
        return None
    return str(uuid.UUID(hex=match.group(1))), match.group(2)


class KeyHasher:
    """Makes keys and checks presented secrets against stored hashes."""

    def __init__(self, settings: Settings):
        self._key = Signer(settings).derived_key(_PURPOSE)

    def hash(self, secret: str) -> bytes:
        return hmac.new(self._key, secret.encode(), hashlib.sha256).digest()

    def matches(self, secret: str, stored: bytes) -> bool:
        return hmac.compare_digest(self.hash(secret), bytes(stored))

    def new(self) -> NewKey:
        key_id = uuid.uuid4()
        secret = secrets.token_urlsafe(32)
        return NewKey(str(key_id), f"{PREFIX}{key_id.hex}_{secret}", self.hash(secret))
