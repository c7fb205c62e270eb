"""What an export selects: hand-picked contact uuids, contact filters, or an
Apollo URL mapped to contact filters. Validated when the export is requested
(422 naming the field), stored with the export, re-read by the task."""

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from contacts_api.core.errors import ValidationError, field_error
from contacts_api.core.filters import FilterRegistry
from contacts_api.core.plugins import Plugins
from contacts_api.plugins.contacts.tables import ContactTables, contacts

__all__ = ["MAX_CONTACT_UUIDS", "parse_selection", "selection_condition"]

MAX_CONTACT_UUIDS = 100_000
KEYS = ("contact_uuids", "filters", "apollo_url")


def _contact_registry(plugins: Plugins) -> FilterRegistry:
    # The worker has no app (and no app[FILTERS]): it builds the registry per export.
    return FilterRegistry(plugins.contact_filters(), "contact")


def _uuids(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValidationError.single(("body", "contact_uuids"), "a non-empty list is required")
    if len(value) > MAX_CONTACT_UUIDS:
        raise ValidationError.single(
            ("body", "contact_uuids"), f"at most {MAX_CONTACT_UUIDS} uuids per export"
        )
    errors, parsed = [], []
    for index, item in enumerate(value):
        try:
            parsed.append(str(uuid.UUID(item)))
        except (ValueError, TypeError, AttributeError):
            errors.append(field_error(("body", "contact_uuids", index), "not a UUID"))
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(parsed))


def _filters(registry: FilterRegistry, value: Any, field: str) -> dict[str, list[str]]:
    if not isinstance(value, dict) or not value:
        raise ValidationError.single(("body", field), "a non-empty object of filters is required")
    try:
        applied = registry.parse_mapping(value)
    except ValidationError as exc:  # name the field inside the body
        raise ValidationError(
            [{**e, "loc": ["body", field, *e["loc"][1:]]} for e in exc.errors]
        ) from None
    if not applied:
        raise ValidationError.single(("body", field), "the filters select nothing: all empty")
    return {name: list(values) for name, values in applied.raw.items()}


def _apollo(plugins: Plugins, registry: FilterRegistry, url: Any) -> dict[str, Any]:
    if "apollo" not in plugins.names():
        raise ValidationError.single(
            ("body", "apollo_url"),
            "apollo_url needs the apollo plugin, which is not enabled on this server",
        )
    if not isinstance(url, str) or not url.strip():
        raise ValidationError.single(("body", "apollo_url"), "a non-empty string is required")
    from contacts_api.plugins.apollo.service import contact_filters_for_url

    filters = contact_filters_for_url(plugins, url)  # 422 for a non-search URL
    return {
        "filters": _filters(registry, filters, "apollo_url") if filters else {},
        "apollo_url": url,
    }


def parse_selection(
    plugins: Plugins, registry: FilterRegistry, body: dict[str, Any]
) -> dict[str, Any]:
    """The stored selection for a request body, checked with the app's contact
    filter ``registry``; 422 unless exactly one key is given."""
    unknown = [key for key in body if key not in KEYS]
    if unknown:
        raise ValidationError(
            [field_error(("body", key), "unknown field", "extra") for key in unknown]
        )
    given = [key for key in KEYS if key in body]
    if len(given) != 1:
        raise ValidationError.single(
            ("body",), "give exactly one of contact_uuids, filters, apollo_url"
        )
    key = given[0]
    if key == "contact_uuids":
        return {"contact_uuids": _uuids(body[key])}
    if key == "filters":
        return {"filters": _filters(registry, body[key], "filters")}
    return _apollo(plugins, registry, body[key])


async def selection_condition(
    plugins: Plugins, db, selection: dict[str, Any]
) -> ColumnElement[bool]:
    """The SQL condition of a stored selection, through the same filter registry
    as the list routes (prepared on ``db``, the database helper)."""
    if "contact_uuids" in selection:
        return contacts.c.uuid.in_([uuid.UUID(u) for u in selection["contact_uuids"]])
    filters = selection.get("filters") or {}
    if not filters:  # an Apollo search without filters exports everything, like its page
        return sa.true()
    applied = await _contact_registry(plugins).parse_mapping(filters).prepared(db)
    return applied.condition(ContactTables())
