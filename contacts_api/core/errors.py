"""Typed API errors. Plugins raise these; the error middleware renders them.

Every error answers ``{"detail": ..., "error_code": ...}``, plus ``errors``
(field-level problems) for 422. See docs/api.md, "Errors".
"""

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "FieldError",
    "Forbidden",
    "InsufficientScope",
    "InternalError",
    "InvalidCredentials",
    "InvalidToken",
    "InvalidWriteKey",
    "MethodNotAllowed",
    "NotAuthenticated",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "RequestTimeout",
    "ServiceUnavailable",
    "ValidationError",
    "field_error",
]

FieldError = dict[str, Any]


class ApiError(Exception):
    """Base of every error that has an HTTP answer."""

    status: int = 500
    error_code: str = "INTERNAL_ERROR"
    default_detail: str = "Internal server error."

    # The connection cannot serve another request (e.g. a body left half-read).
    close_connection: bool = False

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail or self.default_detail
        self.headers = dict(headers or {})
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "error_code": self.error_code}


class BadRequest(ApiError):
    status, error_code, default_detail = 400, "BAD_REQUEST", "Malformed request."


class NotAuthenticated(ApiError):
    status, error_code, default_detail = 401, "NOT_AUTHENTICATED", "Authentication required."


class InvalidToken(ApiError):
    status, error_code, default_detail = 401, "INVALID_TOKEN", "Invalid or expired token."


class InvalidCredentials(ApiError):
    status, error_code, default_detail = 401, "INVALID_CREDENTIALS", "Invalid email or password."


class InvalidWriteKey(ApiError):
    status, error_code, default_detail = 403, "INVALID_WRITE_KEY", "Missing or invalid write key."


class Forbidden(ApiError):
    status, error_code, default_detail = 403, "FORBIDDEN", "Not allowed."


class NotFound(ApiError):
    status, error_code, default_detail = 404, "NOT_FOUND", "Not found."


class MethodNotAllowed(ApiError):
    status, error_code, default_detail = 405, "METHOD_NOT_ALLOWED", "Method not allowed."


class Conflict(ApiError):
    status, error_code, default_detail = 409, "CONFLICT", "Conflict with stored data."


class RequestTimeout(ApiError):
    """The client stopped sending its body (``server.body_read_timeout_s``)."""

    status, error_code = 408, "REQUEST_TIMEOUT"
    default_detail = "The request body did not arrive in time."
    close_connection = True


class PayloadTooLarge(ApiError):
    status, error_code, default_detail = 413, "PAYLOAD_TOO_LARGE", "Request body too large."


class ValidationError(ApiError):
    """422 with field-level ``errors``: ``{"loc": [...], "msg": ..., "type": ...}``."""

    status, error_code, default_detail = 422, "VALIDATION_ERROR", "Validation failed."

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None):
        self.errors = list(errors)
        if detail is None and self.errors:
            detail = "; ".join(_describe(e) for e in self.errors)
        super().__init__(detail)

    @classmethod
    def single(
        cls, loc: Iterable[str | int], msg: str, type_: str = "value_error"
    ) -> "ValidationError":
        return cls([field_error(loc, msg, type_)])

    def body(self) -> dict[str, Any]:
        return {**super().body(), "errors": self.errors}


class InsufficientScope(ApiError):
    """An API key used on a route outside its scopes (docs/api.md "Authentication")."""

    status, error_code = 403, "INSUFFICIENT_SCOPE"
    default_detail = "This API key's scopes do not allow this request."


class RateLimited(ApiError):
    status, error_code, default_detail = 429, "RATE_LIMITED", "Too many attempts."

    def __init__(self, retry_after_s: int, detail: str | None = None):
        self.retry_after_s = max(1, int(retry_after_s))
        super().__init__(detail, headers={"Retry-After": str(self.retry_after_s)})


class ServiceUnavailable(ApiError):
    status, error_code = 503, "SERVICE_UNAVAILABLE"
    default_detail = "A backing service is unavailable; try again shortly."


class InternalError(ApiError):
    pass


def field_error(loc: Iterable[str | int], msg: str, type_: str = "value_error") -> FieldError:
    return {"loc": list(loc), "msg": msg, "type": type_}


def _describe(error: FieldError) -> str:
    where = ".".join(str(part) for part in error["loc"][1:]) or ".".join(map(str, error["loc"]))
    return f"{where}: {error['msg']}"
