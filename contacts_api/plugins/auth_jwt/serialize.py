"""Rows to the JSON of docs/api.md "Users"."""

import datetime as dt
from typing import Any

from contacts_api.plugins.auth_jwt.tables import PROFILE_FIELDS

__all__ = ["profile_json", "rfc3339", "user_json"]


def rfc3339(moment: dt.datetime | None) -> str | None:
    """``2026-11-26T06:30:57Z``: UTC, whole seconds."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile_json(row: dict[str, Any], avatar_link: str | None = None) -> dict[str, Any]:
    """The profile; ``avatar_link``: the fresh link to an uploaded avatar, which
    stands for ``avatar_url`` (``Accounts.user_json`` makes it)."""
    profile = {name: row.get(name) for name in PROFILE_FIELDS}
    if avatar_link is not None:
        profile["avatar_url"] = avatar_link
    return profile


def user_json(row: dict[str, Any], avatar_link: str | None = None) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "email": row["email"],
        "role": row["role"],
        "is_active": row["is_active"],
        "last_sign_in_at": rfc3339(row["last_sign_in_at"]),
        "created_at": rfc3339(row["created_at"]),
        "profile": profile_json(row, avatar_link),
    }
