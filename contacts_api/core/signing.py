"""Tamper-proof tokens for values the API hands out and takes back (pagination
cursors, local download links): ``sign(payload, purpose)`` / ``unsign(token, purpose)``.

The key is ``server.signing_secret``, else derived from ``auth.jwt_secret``,
else from ``auth.write_key``; with none of them, a random per-process key
(tokens then only work on the process that made them, and a warning says so).
Each purpose gets its own derived key, so a cursor is never a valid link.
"""

import base64
import hashlib
import hmac
import json
import logging
import secrets
from typing import Any

from contacts_api.core.settings import Settings

__all__ = ["BadSignature", "Signer"]

log = logging.getLogger("contacts_api.signing")
_MAC_BYTES = 16


class BadSignature(ValueError):
    """The token was altered, truncated, or made for another purpose or key."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, settings: Settings):
        root = (
            settings.server.signing_secret.reveal()
            or settings.auth.jwt_secret.reveal()
            or settings.auth.write_key.reveal()
        )
        if not root:
            log.warning(
                "no signing secret configured: cursors and links only work "
                "on the process that made them (set SIGNING_SECRET)"
            )
            root = secrets.token_hex(32)
        self._root = hashlib.sha256(b"contacts-api signing\0" + root.encode()).digest()

    def _key(self, purpose: str) -> bytes:
        return hmac.new(self._root, purpose.encode(), hashlib.sha256).digest()

    def derived_key(self, purpose: str) -> bytes:
        """A 32-byte key of its own for ``purpose`` (e.g. a plugin's keyed
        hashes), derived from the same secret as the tokens."""
        return self._key("derived: " + purpose)

    def sign(self, payload: Any, purpose: str) -> str:
        """A URL-safe token carrying the JSON ``payload``."""
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        mac = hmac.new(self._key(purpose), body, hashlib.sha256).digest()[:_MAC_BYTES]
        return f"{_b64(body)}.{_b64(mac)}"

    def unsign(self, token: str, purpose: str) -> Any:
        """The payload of a token made by ``sign`` for ``purpose``; else ``BadSignature``."""
        try:
            body_text, mac_text = token.split(".")
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (ValueError, TypeError):
            raise BadSignature("malformed token") from None
        expected = hmac.new(self._key(purpose), body, hashlib.sha256).digest()[:_MAC_BYTES]
        if not hmac.compare_digest(mac, expected):
            raise BadSignature("signature mismatch")
        try:
            return json.loads(body)
        except ValueError:
            raise BadSignature("malformed payload") from None
