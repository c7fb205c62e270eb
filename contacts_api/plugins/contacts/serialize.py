"""Rows (from ``repository``) to the JSON resources of docs/api.md.

Two ways in, one output:

- ``contact(row)``, ``company(row)``, ``simple_contact(row)``: one row as a
  dict keyed by column name (single reads, exports' batches);
- ``contact_page``, ``company_page``, ``simple_contact_page``: a whole page
  straight from the database's tuples and column names (``reads.run`` mode
  ``table``), for the list routes. A 25-row page is built in one pass, with no
  intermediate dict per row, and its ~100 times formatted by orjson in one call
  (``utc_texts``) instead of ``datetime.isoformat`` each: about a quarter of the
  time. ``tests/plugins/contacts/test_serialize.py`` checks that both give the
  same bytes.

Times are RFC 3339 in UTC with ``Z``; uuids are strings.
"""

import datetime as dt
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import orjson

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


def utc_texts(values: list[dt.datetime | None]) -> list[str | None]:
    """``[_time(v) for v in values]``, formatted by orjson in one call.

    orjson writes a zero-offset time as ``_time`` does (``isoformat``, with
    ``Z`` for ``+00:00``: microseconds only when not zero). Any other time (an
    offset, or naive) comes out without the ``Z``, and goes through ``_time``."""
    texts = orjson.loads(orjson.dumps(values, option=orjson.OPT_UTC_Z))
    for i, text in enumerate(texts):
        if text is not None and text[-1] != "Z":
            texts[i] = _time(values[i])
    return texts


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


# -- whole pages from tuples -------------------------------------------------------


def _getter(names: Sequence[str], wanted: Sequence[str]) -> Any:
    """``row -> tuple`` of the ``wanted`` columns (always a tuple, even of one)."""
    positions = [names.index(name) for name in wanted]
    if len(positions) == 1:
        only = positions[0]
        return lambda row: (row[only],)
    return itemgetter(*positions)


class _CompanyLayout:
    """Where a company's fields sit in a row (``prefix`` ``co_`` on a contact row)."""

    def __init__(self, names: Sequence[str], prefix: str):
        self.uuid = names.index(prefix + "uuid")
        self.keys = ("uuid", *_COMPANY_PLAIN)
        self.plain = _getter(names, [prefix + "uuid", *(k for _, k in _COMPANY_KEYS[prefix])])
        self.times = _getter(names, [prefix + "created_at", prefix + "updated_at"])
        self.meta_present = names.index("cm_present")
        self.meta = _getter(names, [k for _, k in _COMPANY_META_KEYS])

    def build(self, row: tuple, created: Any, updated: Any) -> dict[str, Any]:
        body = dict(zip(self.keys, self.plain(row), strict=True))
        body["uuid"] = str(body["uuid"])
        body["metadata"] = (
            dict(zip(COMPANY_META_FIELDS, self.meta(row), strict=True))
            if row[self.meta_present]
            else None
        )
        body["created_at"] = created
        body["updated_at"] = updated
        return body


_LAYOUTS: dict[tuple, Any] = {}


def _layout(kind: str, names: Sequence[str], make: Any) -> Any:
    """Layouts are made once per kind and column list (a statement's shape)."""
    key = (kind, tuple(names))
    layout = _LAYOUTS.get(key)
    if layout is None:
        if len(_LAYOUTS) >= 256:
            _LAYOUTS.clear()
        layout = _LAYOUTS[key] = make(names)
    return layout


class _ContactLayout:
    def __init__(self, names: Sequence[str]):
        self.keys = ("uuid", *_CONTACT_PLAIN)
        self.plain = _getter(names, self.keys)
        self.times = _getter(names, ["created_at", "updated_at"])
        self.company = _CompanyLayout(names, "co_")
        self.meta_present = names.index("m_present")
        self.meta = _getter(names, [k for _, k in _CONTACT_META_KEYS])


def contact_page(names: Sequence[str], rows: Sequence[tuple]) -> list[dict[str, Any]]:
    """``[contact(dict(zip(names, row))) for row in rows]``, faster."""
    layout = _layout("contact", names, _ContactLayout)
    co = layout.company
    times = utc_texts([t for row in rows for t in (*layout.times(row), *co.times(row))])
    results = []
    for i, row in enumerate(rows):
        created, updated, co_created, co_updated = times[4 * i : 4 * i + 4]
        body = dict(zip(layout.keys, layout.plain(row), strict=True))
        body["uuid"] = str(body["uuid"])
        body["company"] = co.build(row, co_created, co_updated) if row[co.uuid] else None
        body["metadata"] = (
            dict(zip(CONTACT_META_FIELDS, layout.meta(row), strict=True))
            if row[layout.meta_present]
            else None
        )
        body["created_at"] = created
        body["updated_at"] = updated
        results.append(body)
    return results


def company_page(names: Sequence[str], rows: Sequence[tuple]) -> list[dict[str, Any]]:
    """``[company(dict(zip(names, row))) for row in rows]``, faster."""
    layout = _layout("company", names, lambda n: _CompanyLayout(n, ""))
    times = utc_texts([t for row in rows for t in layout.times(row)])
    return [layout.build(row, times[2 * i], times[2 * i + 1]) for i, row in enumerate(rows)]


_SIMPLE_KEYS = (*SIMPLE_FIELDS, "company_name", "company_domain")


def simple_contact_page(names: Sequence[str], rows: Sequence[tuple]) -> list[dict[str, Any]]:
    """``[simple_contact(dict(zip(names, row))) for row in rows]``, faster."""
    getter = _layout("simple", names, lambda n: _getter(n, _SIMPLE_KEYS))
    results = []
    for row in rows:
        body = dict(zip(_SIMPLE_KEYS, getter(row), strict=True))
        body["uuid"] = str(body["uuid"])
        results.append(body)
    return results
