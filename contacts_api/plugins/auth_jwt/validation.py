"""Request bodies of the auth and user routes: checked field by field, every
problem reported at once (422 ``VALIDATION_ERROR`` naming each field)."""

import re
import zoneinfo
from collections.abc import Iterable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from contacts_api.core.errors import FieldError, ValidationError, field_error
from contacts_api.plugins.auth_jwt.passwords import password_problem
from contacts_api.plugins.auth_jwt.tables import PROFILE_FIELDS

__all__ = ["ROLES", "Body"]

ROLES = ("user", "admin")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$")
PROFILE_MAX = {
    "full_name": 200,
    "job_title": 200,
    "company": 200,
    "timezone": 64,
    "avatar_url": 2048,
    "bio": 5000,
}


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class Body:
    """Collects field errors over one JSON body; ``done()`` raises them all."""

    def __init__(self, data: dict[str, Any], allowed: Iterable[str]):
        self.data = data
        self.errors: list[FieldError] = [
            field_error(("body", key), "unknown field", "value_error.extra")
            for key in data
            if key not in set(allowed)
        ]

    def _fail(self, key: str, msg: str, type_: str = "value_error") -> None:
        self.errors.append(field_error(("body", key), msg, type_))

    def string(self, key: str, *, required: bool = True) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self._fail(key, "field required", "value_error.missing")
            return None
        if not isinstance(value, str):
            self._fail(key, "must be a string", "type_error")
            return None
        if "\x00" in value:  # PostgreSQL text cannot hold it
            self._fail(key, "must not contain NUL characters")
            return None
        return value

    def email(self, key: str = "email") -> str | None:
        value = self.string(key)
        if value is not None:
            value = value.strip()
            if len(value) > 254 or not EMAIL.match(value):
                self._fail(key, "must be a valid email address")
        return value

    def password(self, key: str) -> str | None:
        if key not in self.data:
            return self.string(key)
        problem = password_problem(self.data[key], ("body", key))
        if problem is not None:
            self.errors.append(problem)
            return None
        return self.data[key]

    def profile(self) -> dict[str, str | None]:
        """The profile fields present in the body (null clears one)."""
        changes: dict[str, str | None] = {}
        for key in PROFILE_FIELDS:
            if key not in self.data:
                continue
            value = self.string(key, required=False)
            if isinstance(value, str):
                value = value.strip() or None
            if value is not None and len(value) > PROFILE_MAX[key]:
                self._fail(key, f"must be at most {PROFILE_MAX[key]} characters")
            elif key == "timezone" and value and _timezones() and value not in _timezones():
                self._fail(key, "must be an IANA time zone name such as Europe/Paris")
            elif key == "avatar_url" and value and not _is_http_url(value):
                self._fail(key, "must be an http or https URL")
            if self.data[key] is None or isinstance(self.data[key], str):
                changes[key] = value
        return changes

    def choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        value = self.data.get(key)
        if key in self.data and value not in choices:
            self._fail(key, f"must be one of: {', '.join(choices)}")
            return None
        return value

    def boolean(self, key: str) -> bool | None:
        value = self.data.get(key)
        if key in self.data and not isinstance(value, bool):
            self._fail(key, "must be true or false", "type_error")
            return None
        return value

    def done(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value
