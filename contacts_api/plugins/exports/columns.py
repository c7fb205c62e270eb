"""The exports' SELECTs: the import's column names (so an export imports back
unchanged) plus ``uuid`` and ``company_uuid`` (contacts), or the company columns
plus ``uuid`` and ``contacts_count`` (companies), formatted in SQL so PostgreSQL's
COPY writes the final CSV: where each column comes from, what fills an empty one
and the list format are the import's column rules (``plugins.imports.columns``);
every cell that a spreadsheet would run as a formula is prefixed with ``'``
(docs/csv-format.md)."""

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from contacts_api.plugins.contacts.tables import (
    companies,
    company_metadata,
    contact_metadata,
    contacts,
)
from contacts_api.plugins.imports.columns import (
    COMPANY,
    COMPANY_EXPORT_COLUMNS,
    COMPANY_METADATA,
    CONTACT,
    CONTACT_METADATA,
    CONTACTS_COUNT,
    EXPORT_COLUMNS,
    EXPORT_FALLBACKS,
    LIST_COLUMNS,
    STORED_AS,
    list_cell_sql,
    neutralize_sql,
)

__all__ = ["COMPANY_EXPORT_COLUMNS", "EXPORT_COLUMNS", "company_export_select", "export_select"]

c, cm, co, com = contacts.c, contact_metadata.c, companies.c, company_metadata.c
_TABLES = {CONTACT: c, CONTACT_METADATA: cm, COMPANY: co, COMPANY_METADATA: com}


def _source(column: str) -> ColumnElement:
    """A column's value as stored, its fallback when empty, lists as list cells."""
    resource, field = STORED_AS[column]
    value: ColumnElement = _TABLES[resource][field]
    if column in LIST_COLUMNS:
        value = list_cell_sql(value)
    if column in EXPORT_FALLBACKS:
        resource, field = EXPORT_FALLBACKS[column]
        value = sa.func.coalesce(value, _TABLES[resource][field])
    return value


_SOURCES: dict[str, ColumnElement] = {name: _source(name) for name in EXPORT_COLUMNS}


def _cell(column: ColumnElement) -> ColumnElement:
    # lists are already list cells (text): every source is cast to text as it is
    return neutralize_sql(sa.cast(column, sa.Text))


def export_select(where: ColumnElement[bool]) -> sa.Select:
    """Every export column of the contacts matching ``where`` (contacts LEFT JOIN
    their metadata, company and company metadata)."""
    joined = (
        contacts.outerjoin(contact_metadata, cm.contact_uuid == c.uuid)
        .outerjoin(companies, co.uuid == c.company_uuid)
        .outerjoin(company_metadata, com.company_uuid == co.uuid)
    )
    cells = [_cell(_SOURCES[name]).label(name) for name in EXPORT_COLUMNS]
    return sa.select(*cells).select_from(joined).where(where)


def _contacts_count() -> ColumnElement:
    # A correlated count per company (contacts_company_uuid_idx): cheap for a few
    # companies, and for all of them it streams without building a whole-table
    # aggregate first, so the first bytes leave at once.
    return (
        sa.select(sa.func.count())
        .select_from(contacts)
        .where(c.company_uuid == co.uuid)
        .scalar_subquery()
    )


def _company_source(column: str) -> ColumnElement:
    """A companies-export column: ``uuid`` is the company's own, ``contacts_count``
    counts its contacts, every other column reads as in the contacts export."""
    if column == "uuid":
        return co.uuid
    if column == CONTACTS_COUNT:
        return _contacts_count()
    return _SOURCES[column]


def company_export_select(where: ColumnElement[bool]) -> sa.Select:
    """Every companies-export column of the companies matching ``where``
    (companies LEFT JOIN their metadata), one row per company."""
    joined = companies.outerjoin(company_metadata, com.company_uuid == co.uuid)
    cells = [_cell(_company_source(name)).label(name) for name in COMPANY_EXPORT_COLUMNS]
    return sa.select(*cells).select_from(joined).where(where)
