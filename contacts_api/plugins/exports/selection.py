"""What an export selects: hand-picked uuids, list filters, or an Apollo URL mapped
to list filters, of contacts (kind ``contacts``) or of companies (kind
``companies``). Validated when the export is requested (422 naming the field,
before any job exists), stored with the export, re-read by the task."""

import uuid
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from contacts_api.core.errors import ValidationError, field_error
from contacts_api.core.filters import FilterRegistry
from contacts_api.core.plugins import Plugins
from contacts_api.plugins.contacts.tables import CompanyTables, ContactTables, companies, contacts

__all__ = [
    "COMPANIES",
    "CONTACTS",
    "KINDS",
    "MAX_CONTACT_UUIDS",
    "MAX_UUIDS",
    "Kind",
    "parse_selection",
    "selection_condition",
]

MAX_UUIDS = MAX_CONTACT_UUIDS = 100_000


@attrs.frozen
class Kind:
    """One kind of export: what its uuids field is called, which filters and which
    Apollo side it reads, and what its conditions are built on."""

    name: str
    uuids_field: str
    filter_resource: str  # "contact" or "company" (``Plugins.filter_registry``)
    apollo_resource: str  # the side of an Apollo search (``Search.query_filters``)
    id_column: Any
    tables: Any

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.uuids_field, "filters", "apollo_url")


CONTACTS = Kind(
    "contacts", "contact_uuids", "contact", "contacts", contacts.c.uuid, ContactTables()
)
COMPANIES = Kind(
    "companies", "company_uuids", "company", "companies", companies.c.uuid, CompanyTables()
)
KINDS = {kind.name: kind for kind in (CONTACTS, COMPANIES)}


def _registry(plugins: Plugins, kind: Kind) -> FilterRegistry:
    # The worker has no app (and no app[FILTERS]): it builds the registry per export.
    return plugins.filter_registry(kind.filter_resource)


def _uuids(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValidationError.single(("body", field), "a non-empty list is required")
    if len(value) > MAX_UUIDS:
        raise ValidationError.single(("body", field), f"at most {MAX_UUIDS} uuids per export")
    errors, parsed = [], []
    for index, item in enumerate(value):
        try:
            parsed.append(str(uuid.UUID(item)))
        except (ValueError, TypeError, AttributeError):
            errors.append(field_error(("body", field, index), "not a UUID"))
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


def _apollo(plugins: Plugins, registry: FilterRegistry, url: Any, kind: Kind) -> dict[str, Any]:
    if "apollo" not in plugins.names():
        raise ValidationError.single(
            ("body", "apollo_url"),
            "apollo_url needs the apollo plugin, which is not enabled on this server",
        )
    if not isinstance(url, str) or not url.strip():
        raise ValidationError.single(("body", "apollo_url"), "a non-empty string is required")
    from contacts_api.plugins.apollo.service import filters_for_url

    filters = filters_for_url(plugins, url, kind.apollo_resource)  # 422 for a non-search URL
    return {
        "filters": _filters(registry, filters, "apollo_url") if filters else {},
        "apollo_url": url,
    }


def parse_selection(
    plugins: Plugins, registry: FilterRegistry, body: dict[str, Any], kind: Kind = CONTACTS
) -> dict[str, Any]:
    """The stored selection for a request body of an export of ``kind``, checked
    with the app's filter ``registry`` of that kind (plugins' filters included);
    422 unless exactly one key is given."""
    unknown = [key for key in body if key not in kind.keys]
    if unknown:
        raise ValidationError(
            [field_error(("body", key), "unknown field", "extra") for key in unknown]
        )
    given = [key for key in kind.keys if key in body]
    if len(given) != 1:
        raise ValidationError.single(("body",), f"give exactly one of {', '.join(kind.keys)}")
    key = given[0]
    if key == kind.uuids_field:
        return {key: _uuids(body[key], key)}
    if key == "filters":
        return {"filters": _filters(registry, body[key], "filters")}
    return _apollo(plugins, registry, body[key], kind)


async def selection_condition(
    plugins: Plugins, db, selection: dict[str, Any], kind: Kind = CONTACTS
) -> ColumnElement[bool]:
    """The SQL condition of a stored selection, through the same filter registry
    as the list routes (prepared on ``db``, the database helper)."""
    if kind.uuids_field in selection:
        return kind.id_column.in_([uuid.UUID(u) for u in selection[kind.uuids_field]])
    filters = selection.get("filters") or {}
    if not filters:  # an Apollo search without filters exports everything, like its page
        return sa.true()
    applied = await _registry(plugins, kind).parse_mapping(filters).prepared(db)
    return applied.condition(kind.tables)
