"""Rows (from ``repository``) to the JSON resources of docs/api.md."""

import datetime as dt
from typing import Any

from contacts_api.plugins.contacts.repository import (
    COMPANY_FIELDS,
    COMPANY_META_FIELDS,
    CONTACT_FIELDS,
    CONTACT_META_FIELDS,
)

SIMPLE_FIELDS = (
    "uuid",
    "first_name",
    "last_name",
    "title",
    "linkedin_url",
    "city",
    "state",
    "country",
)


def _time(value: dt.datetime | None) -> str | None:
    """RFC 3339 in UTC with ``Z``."""
    if value is None:
        return None
    text = value.isoformat()
    if text.endswith("+00:00"):  # the session's time zone is UTC: no conversion
        return text[:-6] + "Z"
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


_COMPANY_PLAIN = [f for f in COMPANY_FIELDS if f not in ("uuid", "created_at", "updated_at")]
_CONTACT_PLAIN = [
    f for f in CONTACT_FIELDS if f not in ("uuid", "company_uuid", "created_at", "updated_at")
]
_COMPANY_KEYS = {prefix: [(f, prefix + f) for f in _COMPANY_PLAIN] for prefix in ("", "co_")}
_CONTACT_META_KEYS = [(f, "m_" + f) for f in CONTACT_META_FIELDS]
_COMPANY_META_KEYS = [(f, "cm_" + f) for f in COMPANY_META_FIELDS]


def company(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    body = {"uuid": str(row[prefix + "uuid"])}
    for field, key in _COMPANY_KEYS[prefix]:
        body[field] = row[key]
    body["metadata"] = {f: row[k] for f, k in _COMPANY_META_KEYS} if row.get("cm_present") else None
    body["created_at"] = _time(row[prefix + "created_at"])
    body["updated_at"] = _time(row[prefix + "updated_at"])
    return body


def contact(row: dict[str, Any]) -> dict[str, Any]:
    body = {"uuid": str(row["uuid"])}
    for field in _CONTACT_PLAIN:
        body[field] = row[field]
    body["company"] = company(row, "co_") if row.get("co_uuid") else None
    body["metadata"] = {f: row[k] for f, k in _CONTACT_META_KEYS} if row.get("m_present") else None
    body["created_at"] = _time(row["created_at"])
    body["updated_at"] = _time(row["updated_at"])
    return body


def simple_contact(row: dict[str, Any]) -> dict[str, Any]:
    body = {f: row[f] for f in SIMPLE_FIELDS}
    body["uuid"] = str(body["uuid"])
    body["company_name"] = row["company_name"]
    body["company_domain"] = row["company_domain"]
    return body
