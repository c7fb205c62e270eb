"""JWT access and refresh tokens.

Claims: ``sub`` (the user id), ``type`` (``"access"`` or ``"refresh"``),
``iat``, ``exp`` and ``jti`` (a random id; refresh tokens are recorded
server-side by ``sha256(jti)``). Tokens are signed with ``auth.jwt_secret``
and checked against exactly one algorithm, ``auth.jwt_algorithm``: a token
whose header names another algorithm, ``none`` included, is refused.
"""

import base64
import hashlib
import hmac
import secrets
import time
import uuid

import attrs
import jwt

from contacts_api.core.errors import InvalidToken
from contacts_api.core.settings import AuthSettings

__all__ = ["ACCESS", "REFRESH", "Claims", "IssuedToken", "Tokens", "jti_hash"]

ACCESS, REFRESH = "access", "refresh"
REQUIRED_CLAIMS = ["sub", "type", "iat", "exp", "jti"]
WRONG_TYPE = {ACCESS: "An access token is required.", REFRESH: "A refresh token is required."}
# RFC 7518 3.2: an HMAC key at least as long as the hash output.
MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


@attrs.frozen
class Claims:
    user_id: str
    type: str
    jti: str
    issued_at: int
    expires_at: int


@attrs.frozen
class IssuedToken:
    token: str
    jti: str
    expires_at: int


def jti_hash(jti: str) -> str:
    return hashlib.sha256(jti.encode()).hexdigest()


class Tokens:
    def __init__(self, auth: AuthSettings):
        self._secret = auth.jwt_secret.reveal()
        self._algorithm = auth.jwt_algorithm
        self._ttl = {ACCESS: auth.access_token_ttl_s, REFRESH: auth.refresh_token_ttl_s}

    @property
    def access_ttl_s(self) -> int:
        return self._ttl[ACCESS]

    def issue(
        self, user_id: str, kind: str, *, jti: str | None = None, issued_at: int | None = None
    ) -> IssuedToken:
        """A new token; with ``jti`` and ``issued_at`` given (a refresh's
        successors), the same arguments give the very same token."""
        now = int(time.time()) if issued_at is None else issued_at
        jti = jti or secrets.token_urlsafe(24)
        claims = {
            "sub": user_id,
            "type": kind,
            "iat": now,
            "exp": now + self._ttl[kind],
            "jti": jti,
        }
        token = jwt.encode(claims, self._secret, algorithm=self._algorithm)
        return IssuedToken(token, jti, claims["exp"])

    def successor_jti(self, kind: str, parent_jti: str) -> str:
        """The jti of the ``kind`` token a refresh of ``parent_jti`` issues.

        Derived (HMAC with the signing secret, so nobody else can predict it)
        rather than random, so a reuse of the parent inside the grace period
        is answered with the same pair without storing any token."""
        message = f"successor:{kind}:{parent_jti}".encode()
        digest = hmac.new(self._secret.encode(), message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()

    def decode(self, token: str, kind: str) -> Claims:
        """The claims of a valid token of type ``kind``, else 401 ``INVALID_TOKEN``."""
        if not token.isascii():  # a JWT is base64url and dots; PyJWT would crash on some
            raise InvalidToken("The token is invalid.")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The token has expired.") from None
        except jwt.PyJWTError:
            raise InvalidToken("The token is invalid.") from None
        if claims.get("type") != kind:
            raise InvalidToken(WRONG_TYPE[kind])
        if not (
            isinstance(claims["jti"], str)
            and _is_uuid(claims["sub"])
            and isinstance(claims["iat"], int)
            and isinstance(claims["exp"], int)
        ):
            raise InvalidToken("The token is invalid.")
        return Claims(claims["sub"], kind, claims["jti"], claims["iat"], claims["exp"])


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
