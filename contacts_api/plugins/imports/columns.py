"""The CSV column rules, the one place both the import and the export read them from:

- our import/export column names, in the export's order, and Apollo's header aliases
  (a header cell is matched on a key that ignores case, spaces, ``_`` and a leading
  byte-order mark, so ``First Name``, ``first_name`` and ``FIRSTNAME`` all name the
  same column);
- where each column is stored (:data:`STORED_AS`), which the import writes and the
  export reads, and what the export writes when a cell has no value of its own
  (:data:`EXPORT_FALLBACKS`: a company's domain when it has no website, so that the
  domain survives a round trip);
- the list cell format (:func:`join_list`, :func:`split_list`, and
  :func:`list_cell_sql`, the same join in SQL for the export's ``COPY``): elements
  joined with ``", "``, a comma or backslash inside an element escaped with a
  backslash (``glass\\, ceramics & concrete``), so every list comes back as it was
  exported; Apollo's plain ``", "`` lists read the same as before;
- spreadsheet-formula neutralization (:func:`neutralize`, :func:`neutralize_sql`
  for the export, :func:`unneutralize` for the import): one pattern, so every
  cell the export prefixes with ``'`` comes back without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql import ColumnElement

# Our column names, in the order the export writes them (docs/csv-format.md, "Columns").
IMPORT_COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "title",
    "seniority",
    "departments",
    "email_status",
    "mobile_phone",
    "work_direct_phone",
    "home_phone",
    "other_phone",
    "person_linkedin_url",
    "facebook_url",
    "twitter_url",
    "stage",
    "city",
    "state",
    "country",
    "company",
    "company_name_for_emails",
    "website",
    "company_linkedin_url",
    "employees",
    "industry",
    "keywords",
    "technologies",
    "company_address",
    "company_city",
    "company_state",
    "company_country",
    "company_phone",
    "annual_revenue",
    "total_funding",
    "latest_funding_amount",
    "latest_funding",
    "last_raised_at",
)

# The export adds the ids; importing an export back reads them as known columns
# (so they raise no "unknown column" warning) but stores nothing from them.
ID_COLUMNS: tuple[str, ...] = ("uuid", "company_uuid")
EXPORT_COLUMNS: tuple[str, ...] = IMPORT_COLUMNS + ID_COLUMNS

# Input-only columns of Apollo exports: merged into `departments`, or filling the
# first empty phone. The export never writes them.
SUB_DEPARTMENTS = "sub_departments"
FIRST_PHONE = "first_phone"

# Every Apollo contacts-export header we read (2024, late 2025 and 2026 layouts),
# as Apollo spells it, with the column it feeds.
APOLLO_HEADERS: MappingProxyType[str, str] = MappingProxyType(
    {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Title": "title",
        "Seniority": "seniority",
        "Departments": "departments",
        "Sub Departments": SUB_DEPARTMENTS,
        "Email Status": "email_status",
        "Mobile Phone": "mobile_phone",
        "Work Direct Phone": "work_direct_phone",
        "Home Phone": "home_phone",
        "Other Phone": "other_phone",
        "First Phone": FIRST_PHONE,
        "Person Linkedin Url": "person_linkedin_url",
        "Facebook Url": "facebook_url",
        "Twitter Url": "twitter_url",
        "Stage": "stage",
        "City": "city",
        "State": "state",
        "Country": "country",
        "Company": "company",
        "Company Name": "company",
        "Company Name for Emails": "company_name_for_emails",
        "Website": "website",
        "Company Linkedin Url": "company_linkedin_url",
        "# Employees": "employees",
        "Industry": "industry",
        "Keywords": "keywords",
        "Technologies": "technologies",
        "Company Address": "company_address",
        "Company City": "company_city",
        "Company State": "company_state",
        "Company Country": "company_country",
        "Company Phone": "company_phone",
        "Corporate Phone": "company_phone",
        "Annual Revenue": "annual_revenue",
        "Total Funding": "total_funding",
        "Latest Funding": "latest_funding",
        "Latest Funding Amount": "latest_funding_amount",
        "Last Raised At": "last_raised_at",
    }
)


# Where each column's value is stored: (resource, field). The resources are the Contact
# and Company of docs/api.md and their metadata.
CONTACT, CONTACT_METADATA = "contact", "contact_metadata"
COMPANY, COMPANY_METADATA = "company", "company_metadata"
STORED_AS: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "first_name": (CONTACT, "first_name"),
        "last_name": (CONTACT, "last_name"),
        "email": (CONTACT, "email"),
        "title": (CONTACT, "title"),
        "seniority": (CONTACT, "seniority"),
        "departments": (CONTACT, "departments"),
        "email_status": (CONTACT, "email_status"),
        "mobile_phone": (CONTACT, "mobile_phone"),
        "work_direct_phone": (CONTACT_METADATA, "work_direct_phone"),
        "home_phone": (CONTACT_METADATA, "home_phone"),
        "other_phone": (CONTACT_METADATA, "other_phone"),
        "person_linkedin_url": (CONTACT, "linkedin_url"),
        "facebook_url": (CONTACT_METADATA, "facebook_url"),
        "twitter_url": (CONTACT_METADATA, "twitter_url"),
        "stage": (CONTACT_METADATA, "stage"),
        "city": (CONTACT, "city"),
        "state": (CONTACT, "state"),
        "country": (CONTACT, "country"),
        "company": (COMPANY, "name"),
        "company_name_for_emails": (COMPANY_METADATA, "company_name_for_emails"),
        # its host is also the company's domain (the import derives it)
        "website": (COMPANY_METADATA, "website"),
        "company_linkedin_url": (COMPANY_METADATA, "linkedin_url"),
        "employees": (COMPANY, "employees_count"),
        "industry": (COMPANY, "industries"),
        "keywords": (COMPANY, "keywords"),
        "technologies": (COMPANY, "technologies"),
        "company_address": (COMPANY, "address"),
        "company_city": (COMPANY, "city"),
        "company_state": (COMPANY, "state"),
        "company_country": (COMPANY, "country"),
        "company_phone": (COMPANY_METADATA, "phone_number"),
        "annual_revenue": (COMPANY, "annual_revenue"),
        "total_funding": (COMPANY, "total_funding"),
        "latest_funding_amount": (COMPANY_METADATA, "latest_funding_amount"),
        "latest_funding": (COMPANY_METADATA, "latest_funding"),
        "last_raised_at": (COMPANY_METADATA, "last_raised_at"),
        "uuid": (CONTACT, "uuid"),  # export only
        "company_uuid": (COMPANY, "uuid"),  # export only
    }
)
assert set(STORED_AS) == set(EXPORT_COLUMNS), "every column is stored somewhere"

# The companies export (one row per company): the company columns of the contacts CSV,
# in the same order, then the company's ``uuid`` and its ``contacts_count``. Imported
# back, its rows are company-only rows (docs/csv-format.md); ``uuid`` and
# ``contacts_count`` are read as known columns but store nothing.
COMPANY_COLUMNS: tuple[str, ...] = tuple(
    name for name in IMPORT_COLUMNS if STORED_AS[name][0] in (COMPANY, COMPANY_METADATA)
)
CONTACTS_COUNT = "contacts_count"
COMPANY_EXPORT_COLUMNS: tuple[str, ...] = (*COMPANY_COLUMNS, "uuid", CONTACTS_COUNT)
# The columns an import reads but stores nothing from.
IGNORED_ON_IMPORT: frozenset[str] = frozenset({*ID_COLUMNS, CONTACTS_COUNT})
# What the export writes in a column whose own value is empty.
EXPORT_FALLBACKS: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {"website": (COMPANY, "domain")}
)
# Columns holding lists (text[]), in the list cell format below.
LIST_COLUMNS = frozenset({"departments", "industry", "keywords", "technologies"})

LIST_SEPARATOR = ", "
_LIST_ESCAPE = "\\"
_LIST_TOKEN = re.compile(r"\\(.)|,|[^\\,]+|\\", re.DOTALL)


def join_list(values: Iterable[str]) -> str:
    """A list cell: ``a, b\\, c`` for ``["a", "b, c"]`` (:func:`split_list` reads it
    back; :func:`list_cell_sql` is the same in SQL)."""
    return LIST_SEPARATOR.join(
        value.replace(_LIST_ESCAPE, _LIST_ESCAPE * 2).replace(",", _LIST_ESCAPE + ",")
        for value in values
    )


def split_list(cell: str) -> list[str]:
    """The elements of a list cell, trimmed, empty ones dropped: split on the commas
    that no backslash escapes; ``\\,`` is a comma and ``\\\\`` a backslash inside an
    element, any other backslash is kept as written (Apollo's lists have no escapes)."""
    if _LIST_ESCAPE not in cell:
        parts = cell.split(",")
    else:
        parts, current = [], []
        for match in _LIST_TOKEN.finditer(cell):
            token, escaped = match.group(0), match.group(1)
            if token == ",":
                parts.append("".join(current))
                current = []
            elif escaped in (",", _LIST_ESCAPE):
                current.append(escaped)
            else:
                current.append(token)
        parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def list_cell_sql(array: ColumnElement) -> ColumnElement:
    """:func:`join_list` in SQL, for a text[] column; NULL for an empty list. The
    per-element escaping runs only for lists that hold a comma or a backslash."""
    plain = sa.func.array_to_string(array, LIST_SEPARATOR)
    elements = sa.func.unnest(array).table_valued("element", with_ordinality="position")
    elements = elements.render_derived()
    element = elements.c.element
    escaped = sa.func.replace(
        sa.func.replace(element, _LIST_ESCAPE, _LIST_ESCAPE * 2), ",", _LIST_ESCAPE + ","
    )
    joined = (
        sa.select(
            sa.func.string_agg(
                escaped, aggregate_order_by(sa.literal(LIST_SEPARATOR), elements.c.position)
            )
        )
        .select_from(elements)
        .scalar_subquery()
    )
    bare = sa.func.array_to_string(array, "")  # the elements alone, no separators
    needs_escapes = sa.func.strpos(bare, ",") + sa.func.strpos(bare, _LIST_ESCAPE) > 0
    return sa.func.nullif(sa.case((needs_escapes, joined), else_=plain), "")


def header_key(raw: str) -> str:
    """Return the matching key of a header cell: no BOM, whitespace or ``_``, lower case."""
    return "".join(raw.lstrip("\ufeff").split()).replace("_", "").lower()


_BY_KEY: dict[str, str] = {
    header_key(name): name
    for name in (*EXPORT_COLUMNS, CONTACTS_COUNT, SUB_DEPARTMENTS, FIRST_PHONE)
}
_BY_KEY.update((header_key(alias), column) for alias, column in APOLLO_HEADERS.items())


def canonical_header(raw: str) -> str | None:
    """Return the column a header cell names (ours or an Apollo alias), or None if unknown."""
    return _BY_KEY.get(header_key(raw))


# OWASP "CSV Injection": a spreadsheet may evaluate a cell that starts with =, +, -,
# @, tab or CR, also behind spaces and separator-like characters (";=cmd", ", @x"),
# and spreadsheets with East Asian input read the full-width signs (＝ ＋ － ＠) and
# separators (； ，) as the ASCII ones.
#
# One pattern, read by Python's re and PostgreSQL's regular expressions alike, so
# it names its spaces one by one: "\s" is not the same class in the two engines
# (PostgreSQL's leaves out U+00A0, Python's takes it), and the export (SQL) and the
# import (Python) must agree on every cell or a quote is lost on the way back.
_SPACES = (
    " \t\n\r\f\v\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SEPARATORS = ";,\uff1b\uff0c"
_SIGNS = "=+@\t\r\uff1d\uff0b\uff0d\uff20-"  # "-" last: a literal in both engines
FORMULA_START = f"^[{_SPACES}{_SEPARATORS}]*[{_SIGNS}]"
# What the export prefixes: a formula, or a cell that the import would otherwise
# take for a prefixed one ("'=1" goes out as "''=1"), so every cell comes back as
# it went out.
NEUTRALIZED_START = "^'*" + FORMULA_START[1:]
_NEUTRALIZED = re.compile(NEUTRALIZED_START)


def neutralize(cell: str) -> str:
    """``cell`` prefixed with ``'`` when a spreadsheet would run it as a formula, or
    when :func:`unneutralize` would otherwise drop its own leading quote."""
    return "'" + cell if _NEUTRALIZED.match(cell) else cell


def neutralize_sql(text: ColumnElement) -> ColumnElement:
    """:func:`neutralize` in SQL, for the export's ``COPY``."""
    return sa.case((text.regexp_match(NEUTRALIZED_START), sa.literal("'") + text), else_=text)


def unneutralize(cell: str) -> str:
    """The import's inverse of :func:`neutralize`: a ``'`` before a formula start
    is dropped; any other leading quote (``'Ohana Foods``) is data and kept."""
    if cell[:1] == "'" and _NEUTRALIZED.match(cell[1:]):
        return cell[1:]
    return cell
