"""The export's SELECT: the import's column names (so an export imports back
unchanged) plus ``uuid`` and ``company_uuid``, formatted in SQL so PostgreSQL's
COPY writes the final CSV: lists joined with ``", "`` and every cell that a
spreadsheet would run as a formula prefixed with ``'`` (CSV_FORMAT.md)."""

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from contacts_api.plugins.contacts.tables import (
    companies,
    company_metadata,
    contact_metadata,
    contacts,
)
from contacts_api.plugins.imports.columns import EXPORT_COLUMNS

__all__ = ["EXPORT_COLUMNS", "export_select"]

c, cm, co, com = contacts.c, contact_metadata.c, companies.c, company_metadata.c

_SOURCES: dict[str, ColumnElement] = {
    "first_name": c.first_name,
    "last_name": c.last_name,
    "email": c.email,
    "title": c.title,
    "seniority": c.seniority,
    "departments": c.departments,
    "email_status": c.email_status,
    "mobile_phone": c.mobile_phone,
    "work_direct_phone": cm.work_direct_phone,
    "home_phone": cm.home_phone,
    "other_phone": cm.other_phone,
    "person_linkedin_url": c.linkedin_url,
    "facebook_url": cm.facebook_url,
    "twitter_url": cm.twitter_url,
    "stage": cm.stage,
    "city": c.city,
    "state": c.state,
    "country": c.country,
    "company": co.name,
    "company_name_for_emails": com.company_name_for_emails,
    "website": com.website,
    "company_linkedin_url": com.linkedin_url,
    "employees": co.employees_count,
    "industry": co.industries,
    "keywords": co.keywords,
    "technologies": co.technologies,
    "company_address": co.address,
    "company_city": co.city,
    "company_state": co.state,
    "company_country": co.country,
    "company_phone": com.phone_number,
    "annual_revenue": co.annual_revenue,
    "total_funding": co.total_funding,
    "latest_funding_amount": com.latest_funding_amount,
    "latest_funding": com.latest_funding,
    "last_raised_at": com.last_raised_at,
    "uuid": c.uuid,
    "company_uuid": co.uuid,
}
assert set(_SOURCES) == set(EXPORT_COLUMNS), "every export column needs a source"

# OWASP "CSV Injection": a cell a spreadsheet may evaluate starts with =, +, -, @,
# tab or CR, possibly after spaces and separator-like characters (";=cmd", ", @x").
_FORMULA_START = "^[\\s;,]*[=+@\t\r-]"


def _cell(column: ColumnElement) -> ColumnElement:
    if isinstance(column.type, sa.ARRAY):
        text = sa.func.nullif(sa.func.array_to_string(column, ", "), "")
    else:
        text = sa.cast(column, sa.Text)
    return sa.case((text.regexp_match(_FORMULA_START), sa.literal("'") + text), else_=text)


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
