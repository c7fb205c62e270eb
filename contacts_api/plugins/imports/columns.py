"""The CSV column catalogue: our import/export column names and Apollo's header aliases.

A header cell is matched on a key that ignores case, spaces, ``_`` and a leading
byte-order mark (CSV_FORMAT.md), so ``First Name``, ``first_name`` and
``FIRSTNAME`` all name the same column. Pure data and one lookup function.
"""

from __future__ import annotations

from types import MappingProxyType

# Our column names, in the order the export writes them (CSV_FORMAT.md, "Columns").
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


def header_key(raw: str) -> str:
    """Return the matching key of a header cell: no BOM, whitespace or ``_``, lower case."""
    return "".join(raw.lstrip("\ufeff").split()).replace("_", "").lower()


_BY_KEY: dict[str, str] = {
    header_key(name): name for name in (*EXPORT_COLUMNS, SUB_DEPARTMENTS, FIRST_PHONE)
}
_BY_KEY.update((header_key(alias), column) for alias, column in APOLLO_HEADERS.items())


def canonical_header(raw: str) -> str | None:
    """Return the column a header cell names (ours or an Apollo alias), or None if unknown."""
    return _BY_KEY.get(header_key(raw))
